"""`gis-app daily` (idempotent per day), the bureaus' views, the campaign phases."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner
from sqlalchemy import func, select

from gis_app.core import clock
from gis_app.features.ledger.models import SiteEvent
from gis_app.features.ledger.service import update_site
from gis_app.features.plans import service as steps
from gis_app.features.reporting import reminders
from gis_app.features.reporting.models import DailyRun
from tests.support.workflow import (
    DZG,
    DZG_OFFICER,
    OFFICE,
    make_site,
)

DISTRICT = "120102"


def _overdue_events(session) -> int:
    return session.scalar(
        select(func.count()).select_from(SiteEvent).where(SiteEvent.action == "overdue")
    )


def test_daily_records_newly_overdue_once(db_session) -> None:
    late = make_site(db_session, committed_deadline="2026-06-10")
    soon = make_site(db_session, committed_deadline="2026-06-20")
    stepped = make_site(db_session, committed_deadline="2026-09-30")
    steps.set_plan(db_session, stepped.id, DZG_OFFICER, [
        {"title": "拆除", "due_date": "2026-06-18"},
        {"title": "恢复", "due_date": "2026-09-30"},
    ])  # fmt: skip
    day = date(2026, 6, 15)
    first = reminders.run_daily(db_session, DISTRICT, day, OFFICE)
    assert first["first_run_today"] and first["newly_overdue"] == 1
    assert [r["code"] for r in first["recorded"]] == [late.code]
    soon_codes = {(x["code"], x["what"]) for x in first["due_soon"]}
    assert (soon.code, "治理期限") in soon_codes and (stepped.code, "步骤：拆除") in soon_codes
    event = db_session.scalar(select(SiteEvent).where(SiteEvent.action == "overdue"))
    assert event.site_id == late.id and event.changes["due"] == [None, "2026-06-10"]

    events, runs = (
        _overdue_events(db_session),
        db_session.scalar(select(func.count()).select_from(DailyRun)),
    )
    second = reminders.run_daily(db_session, DISTRICT, day, OFFICE)
    assert not second["first_run_today"] and second["newly_overdue"] == 0
    assert _overdue_events(db_session) == events == 1
    assert db_session.scalar(select(func.count()).select_from(DailyRun)) == runs == 1

    # a later day: the step of `stepped` has passed; `late` is not recorded twice
    clock.freeze("2026-06-19T08:00:00+08:00")
    third = reminders.run_daily(db_session, DISTRICT, date(2026, 6, 19), OFFICE)
    assert [r["code"] for r in third["recorded"]] == [stepped.code]
    assert third["recorded"][0]["due"] == "2026-06-18"


def test_daily_records_again_when_a_new_deadline_passes(db_session) -> None:
    site = make_site(db_session, committed_deadline="2026-06-10")
    reminders.run_daily(db_session, DISTRICT, date(2026, 6, 15), OFFICE)
    update_site(
        db_session, site.id, {"committed_deadline": "2026-06-16", "version": site.version}, OFFICE
    )
    clock.freeze("2026-06-17T09:00:00+08:00")
    again = reminders.run_daily(db_session, DISTRICT, date(2026, 6, 17), OFFICE)
    assert [r["due"] for r in again["recorded"]] == ["2026-06-16"]
    assert _overdue_events(db_session) == 2


def test_daily_lists_reports_due(db_session) -> None:
    clock.freeze("2026-06-20T09:00:00+08:00")
    due = reminders.reports_due(db_session)
    months = {r["month"] for r in due if r["street_code"] == DZG}
    assert months == {"2026-06", "2026-05"}  # this month's, and May's (missed)
    assert all(r["past_due"] for r in due if r["month"] == "2026-05")


def test_daily_command_twice(app, connection) -> None:
    from gis_app.cli import cli
    from gis_app.http.database import session

    db = app.extensions["gis_db"]
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with app.app_context():
            make_site(session(), committed_deadline="2026-06-01")
            session().commit()
        runner = CliRunner()
        out1 = runner.invoke(cli, ["daily", "--today", "2026-06-15"], obj={"app": app})
        assert out1.exit_code == 0, out1.output
        summary = json.loads(out1.stdout.strip().splitlines()[-1])
        assert summary["newly_overdue"] == 1 and summary["first_run_today"] is True
        out2 = runner.invoke(cli, ["daily", "--today", "2026-06-15"], obj={"app": app})
        summary2 = json.loads(out2.stdout.strip().splitlines()[-1])
        assert summary2["newly_overdue"] == 0 and summary2["first_run_today"] is False
        assert "今日已运行过" in out2.stderr
        n = connection.execute(
            select(func.count()).select_from(SiteEvent).where(SiteEvent.action == "overdue")
        ).scalar_one()
        assert n == 1
    finally:
        db.factory.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")


# ---------------------------------------------------------------- bureaus


def _flagged(session, **flags):
    site = make_site(session, **{f"flag_{k}": v for k, v in flags.items()})
    return site


# ---------------------------------------------------------------- campaign
