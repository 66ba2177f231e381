"""The baseline (issue 14, point 1): street lists submitted, returned or confirmed by the office,
the district baseline frozen; later sites are additions, counted apart; the ranking measures
progress against the baseline and never ranks a street down for finding more."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from gis_app.core.errors import Conflict, Forbidden, ValidationError
from gis_app.features.baseline import service as baseline
from gis_app.features.ledger.models import Site
from gis_app.features.reporting import statistics
from gis_app.features.streets.models import Street
from tests.support.baseline import officer, street_site
from tests.support.workflow import DZG, OFFICE, ZSM


def _confirm_all(session) -> None:
    for code in session.scalars(select(Street.code).order_by(Street.code)):
        baseline.submit_list(session, code, officer(code))
        baseline.review_list(session, code, OFFICE, "confirm", "")


def _close(session, sites) -> None:
    ids = [s.id for s in sites]
    session.execute(update(Site).where(Site.id.in_(ids)).values(status="closed"))
    session.expire_all()


def test_lists_are_submitted_returned_confirmed_then_frozen(db_session) -> None:
    kept = street_site(db_session, DZG)
    with pytest.raises(Forbidden):
        baseline.submit_list(db_session, DZG, officer(ZSM))  # another street's list
    with pytest.raises(Forbidden):
        baseline.submit_list(db_session, DZG, OFFICE)  # the street itself submits
    first = baseline.submit_list(db_session, DZG, officer(DZG))
    assert first.site_ids == [kept.id]
    with pytest.raises(Conflict, match="待审核"):
        baseline.submit_list(db_session, DZG, officer(DZG))
    with pytest.raises(ValidationError) as no_comment:
        baseline.review_list(db_session, DZG, OFFICE, "return", " ")
    assert no_comment.value.field == "comment"
    with pytest.raises(Forbidden):
        baseline.review_list(db_session, DZG, officer(DZG), "confirm", "")
    baseline.review_list(db_session, DZG, OFFICE, "return", "漏报大直沽中路两处")
    view = baseline.overview(db_session, None)
    dzg = next(s for s in view["streets"] if s["code"] == DZG)
    assert dzg["status_label"] == "已退回" and dzg["review_comment"] == "漏报大直沽中路两处"

    second = street_site(db_session, DZG)
    again = baseline.submit_list(db_session, DZG, officer(DZG))
    assert again.site_ids == [kept.id, second.id]
    baseline.review_list(db_session, DZG, OFFICE, "confirm", "")
    with pytest.raises(Conflict) as not_yet:
        baseline.freeze(db_session, OFFICE, "120102")
    assert not_yet.value.field == "baseline" and "中山门街道" in not_yet.value.message
    assert "大直沽街道" not in not_yet.value.details["streets"]

    for code in db_session.scalars(select(Street.code).where(Street.code != DZG)):
        baseline.submit_list(db_session, code, officer(code))
        baseline.review_list(db_session, code, OFFICE, "confirm", "")
    done = baseline.freeze(db_session, OFFICE, "120102")
    assert done.site_count == 2
    with pytest.raises(Conflict, match="已于"):
        baseline.freeze(db_session, OFFICE, "120102")
    with pytest.raises(Conflict, match="冻结"):
        baseline.submit_list(db_session, DZG, officer(DZG))
    found = street_site(db_session, DZG, source="patrol", status="new")
    with pytest.raises(ValidationError) as why:  # a late registration says why
        street_site(db_session, DZG)
    assert why.value.field == "addition_reason" and "补录原因" in why.value.message
    late = street_site(db_session, DZG, addition_reason="产权人补充申报")
    assert late.addition_reason == "产权人补充申报" and not late.in_baseline
    rows = dict(db_session.execute(select(Site.id, Site.in_baseline)).all())
    assert rows[kept.id] and rows[second.id] and not rows[found.id]
    figures = next(s for s in statistics.street_stats(db_session, _today()) if s["code"] == DZG)
    assert figures["baseline"]["total"] == 2
    assert figures["additions"] == {"total": 2, "closed": 0, "patrol": 1, "late": 1}


def _today():
    from gis_app.core import clock

    return clock.today()


def test_finding_more_never_ranks_a_street_down(db_session) -> None:
    """Two streets with the same baseline progress; one also finds six sites on patrol and
    closes two of them at once. It is not ranked below the street that found none (under the
    old measure, 销账 over all sites, it was)."""
    for street in (DZG, ZSM):
        base = [street_site(db_session, street) for _ in range(4)]
        _close(db_session, base[:2])
    _confirm_all(db_session)
    baseline.freeze(db_session, OFFICE, "120102")
    found = [street_site(db_session, DZG, source="patrol", status="new") for _ in range(6)]
    _close(db_session, found[:2])

    stats = statistics.street_stats(db_session, _today())
    by_code = {s["code"]: s for s in stats}
    finder, other = by_code[DZG], by_code[ZSM]
    assert finder["baseline"]["progress"] == other["baseline"]["progress"] == 0.5
    assert finder["additions"] == {"total": 6, "closed": 2, "patrol": 6, "late": 0}
    assert other["additions"]["total"] == 0
    # the old measure (closed over all sites) ranked the finder lower: 4/10 against 2/4
    assert finder["completion"] < other["completion"]
    ranks = {r["code"]: r["rank"] for r in statistics.ranking(stats)}
    assert ranks[DZG] < ranks[ZSM]
    lagging = {r["code"] for r in statistics.lagging(stats)}
    assert DZG not in lagging or ZSM in lagging
    assert "不会靠后" in statistics.RANKING_MEASURE
