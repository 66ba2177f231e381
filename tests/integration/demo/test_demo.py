"""The demo district: streets and sites in the database, reproducible from the seed."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from gis_app.core.errors import Conflict
from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site, SiteEvent

TODAY = date(2026, 6, 15)


def _fingerprint(session) -> list[tuple]:
    return session.execute(
        text(
            "SELECT code, round(ST_X(geom)::numeric, 7), round(ST_Y(geom)::numeric, 7), status, "
            "disposition, current_deadline FROM sites ORDER BY code"
        )
    ).all()


@pytest.mark.slow
def test_load_demo_builds_a_plausible_district(db_session) -> None:
    result = load_demo(db_session, n_sites=600, seed=7, today=TODAY)
    campaign = result.pop("campaign")
    assert 0 < result.pop("baseline_sites") < 600
    assert result == {"streets": 12, "sites": 600, "seed": 7, "today": "2026-06-15"}
    assert campaign.startswith("演示：河东区 2021 年方案整体平移")
    total, outside, streets_used = db_session.execute(
        text(
            """
        SELECT count(*),
               count(*) FILTER (WHERE NOT ST_Within(s.geom, t.geom)),
               count(DISTINCT s.street_id)
        FROM sites s JOIN streets t ON t.id = s.street_id
        """
        )
    ).one()
    assert total == 600 and outside == 0 and streets_used == 12
    statuses = dict(
        db_session.execute(select(Site.status, func.count()).group_by(Site.status)).all()
    )
    assert set(statuses) == {"new", "registered", "in_progress", "awaiting_acceptance", "closed"}
    overdue = db_session.scalar(
        select(func.count())
        .select_from(Site)
        .where(Site.status != "closed", Site.current_deadline < TODAY)
    )
    assert 0.04 * total <= overdue <= 0.12 * total
    assert (
        db_session.scalar(
            select(func.count()).select_from(Site).where(Site.flag_central_inspection)
        )
        > 0
    )
    creates = select(func.count()).select_from(SiteEvent).where(SiteEvent.action == "create")
    assert db_session.scalar(creates) == 600


@pytest.mark.slow
def test_same_seed_same_data_other_seed_other_data(db_session) -> None:
    load_demo(db_session, n_sites=200, seed=11, today=TODAY)
    first = _fingerprint(db_session)
    load_demo(db_session, n_sites=200, seed=11, today=TODAY, replace=True)
    assert _fingerprint(db_session) == first
    load_demo(db_session, n_sites=200, seed=12, today=TODAY, replace=True)
    assert _fingerprint(db_session) != first


def test_refuses_to_mix_with_an_existing_ledger(db_session) -> None:
    load_demo(db_session, n_sites=10, seed=1, today=TODAY)
    with pytest.raises(Conflict, match="--replace"):
        load_demo(db_session, n_sites=10, seed=1, today=TODAY)


def test_cli_load_demo_if_empty(app_ctx) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    # streets exist in the test database already: --if-empty does nothing
    result = runner.invoke(cli, ["load-demo", "--if-empty"], obj={"app": app_ctx})
    assert result.exit_code == 0 and "不载入" in result.output
    result = runner.invoke(
        cli,
        ["load-demo", "--sites", "50", "--seed", "3", "--today", "2026-06-15"],
        obj={"app": app_ctx},
    )
    assert result.exit_code == 0, result.output
    assert '"sites": 50' in result.output
    result = runner.invoke(cli, ["load-demo", "--sites", "-5"], obj={"app": app_ctx})
    assert result.exit_code == 1 and "点位数" in result.output
