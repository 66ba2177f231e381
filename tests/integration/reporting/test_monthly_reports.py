"""Monthly reports: the 25th 17:00:00 Asia/Shanghai is on time, 17:00:01 late; figures drafted
from the data; the office sees who has not reported."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gis_app.core import clock
from gis_app.core.errors import Conflict, Forbidden, ValidationError
from gis_app.features.extensions import service as extensions
from gis_app.features.plans import service as steps
from gis_app.features.reporting import service as reports
from gis_app.features.reporting.schemas import parse_month
from gis_app.features.workflow import service as workflow
from tests.support.workflow import DZG, DZG_OFFICER, OFFICE, ZSM, ZSM_OFFICER, make_site

JAN = date(2026, 1, 1)


def test_due_at_is_the_25th_at_17_local() -> None:
    assert reports.due_at(JAN) == datetime(2026, 1, 25, 9, 0, 0, tzinfo=UTC)
    assert reports.due_at(date(2025, 12, 1)) == datetime(2025, 12, 25, 9, 0, tzinfo=UTC)
    # from the due time of the month before to the due time (25th 17:00 to 25th 17:00)
    assert reports.period(JAN) == (date(2025, 12, 25), date(2026, 1, 25))
    assert reports.period(date(2026, 3, 1)) == (date(2026, 2, 25), date(2026, 3, 25))
    assert reports.period_bounds(JAN) == (
        datetime(2025, 12, 25, 9, 0, 0, tzinfo=UTC),
        datetime(2026, 1, 25, 9, 0, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("submitted", "late"),
    [
        ("2026-01-25T17:00:00+08:00", False),
        ("2026-01-25T09:00:00Z", False),  # the same instant in UTC
        ("2026-01-25T17:00:00.900+08:00", False),  # still 17:00:00 on the clock
        ("2026-01-25T17:00:01+08:00", True),
        ("2026-01-25T09:00:01Z", True),
        ("2026-01-25T16:59:59+08:00", False),
        ("2026-01-31T23:59:59+08:00", True),
        ("2026-02-01T00:00:01+08:00", True),  # the month has ended: still January's, late
    ],
)
def test_late_is_after_17_00_00(submitted: str, late: bool) -> None:
    assert reports.is_late(JAN, datetime.fromisoformat(submitted)) is late


@pytest.mark.parametrize(
    ("now", "month"),
    [
        ("2026-01-25T17:00:00+08:00", JAN),
        ("2026-01-25T23:59:59+08:00", JAN),
        ("2026-01-26T00:00:00+08:00", date(2026, 2, 1)),
        # 2026-01-31 16:30 UTC is already 1 February in Shanghai
        ("2026-01-31T16:30:00Z", date(2026, 2, 1)),
        ("2025-12-26T08:00:00+08:00", JAN),  # across the year end
    ],
)
def test_current_month_follows_the_local_calendar(now: str, month: date) -> None:
    assert reports.current_month(datetime.fromisoformat(now)) == month


def test_submit_on_the_second_and_one_second_later(db_session) -> None:
    clock.freeze("2026-01-10T10:00:00+08:00")
    reports.save_report(db_session, DZG, JAN, DZG_OFFICER, "草稿")
    clock.freeze("2026-01-25T09:00:00Z")
    on_time = reports.save_report(db_session, DZG, JAN, DZG_OFFICER, "本月完成拆除3处", True)
    assert on_time.status == "submitted" and on_time.late is False
    clock.freeze("2026-01-25T17:00:01+08:00")
    late = reports.save_report(db_session, ZSM, JAN, ZSM_OFFICER, "本月完成整治2处", True)
    assert late.late is True
    view = reports.report_view(db_session, ZSM, JAN)
    assert view["status"] == "submitted" and view["late"] is True
    assert view["due_at_local"] == "2026-01-25 17:00:00"
    states = {r["street_code"]: r["state"] for r in reports.overview(db_session, JAN)}
    assert states[DZG] == "on_time" and states[ZSM] == "late"
    assert sum(1 for s in states.values() if s == "missing") == 10
    # submitted is final
    with pytest.raises(Conflict, match="已于"):
        reports.save_report(db_session, DZG, JAN, DZG_OFFICER, "改一改", True)


def test_report_submitted_in_february_for_january_is_late(db_session) -> None:
    clock.freeze("2026-01-31T16:30:00Z")  # 2026-02-01 00:30 in Shanghai
    report = reports.save_report(db_session, DZG, JAN, DZG_OFFICER, "补报一月", True)
    assert report.late is True


def test_report_rules(db_session) -> None:
    clock.freeze("2026-01-10T10:00:00+08:00")
    with pytest.raises(Forbidden):
        reports.save_report(db_session, DZG, JAN, OFFICE, "x", True)  # the street reports
    with pytest.raises(Forbidden):
        reports.save_report(db_session, DZG, JAN, ZSM_OFFICER, "x", True)
    with pytest.raises(ValidationError) as err:
        reports.save_report(db_session, DZG, JAN, DZG_OFFICER, "  ", True)
    assert err.value.field == "narrative"
    with pytest.raises(Conflict, match="尚不能填报"):
        reports.save_report(db_session, DZG, date(2026, 3, 1), DZG_OFFICER, "x", True)
    with pytest.raises(ValidationError) as err:
        parse_month("2026-13")
    assert err.value.field == "month"
    assert parse_month(" 2026-1 ") == JAN


def test_figures_are_drafted_from_the_data(db_session, tmp_path) -> None:
    # before the period: a site registered on 2025-12-20 (the December period)
    clock.freeze("2025-12-20T10:00:00+08:00")
    old = make_site(db_session, committed_deadline="2026-03-31")
    clock.freeze("2026-01-05T10:00:00+08:00")
    new = make_site(db_session, committed_deadline="2026-01-20")
    workflow.transition(db_session, old.id, DZG_OFFICER, "in_progress")
    workflow.transition(db_session, new.id, DZG_OFFICER, "in_progress")
    steps.set_plan(db_session, old.id, DZG_OFFICER, [{"title": "拆除", "due_date": "2026-03-31"}])
    extensions.request_extension(
        db_session,
        old.id,
        DZG_OFFICER,
        "2026-04-30",
        "天气",
        [{"title": "拆除", "due_date": "2026-04-30"}],
    )
    clock.freeze("2026-01-22T10:00:00+08:00")  # `new` is overdue since 01-21
    figures = reports.draft_figures(db_session, reports.get_street(db_session, DZG), JAN)
    assert figures["registered"] == 1
    assert figures["started"] == 2
    assert figures["extensions_requested"] == 1 and figures["extensions_granted"] == 0
    assert figures["overdue"] == 1
    assert figures["total"] == 2 and figures["closed_total"] == 0
    assert (figures["period_start"], figures["period_end"]) == ("2025-12-25", "2026-01-25")
    # the February report starts from zero
    clock.freeze("2026-01-27T10:00:00+08:00")
    feb = reports.draft_figures(db_session, reports.get_street(db_session, DZG), date(2026, 2, 1))
    assert feb["started"] == 0 and feb["registered"] == 0
