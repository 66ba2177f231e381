"""Reports cover every moment (issue 14, point 7): the report of month M counts the period from
the 25th of M-1 at 17:00 to the 25th of M at 17:00 (Asia/Shanghai) whenever it is submitted;
an early report is completed by the figures up to the due time and shows both. Checked over
many random submission times (early, exactly on time, late) across several months."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from gis_app.core import clock
from gis_app.features.reporting import service as reports
from tests.support.workflow import DZG, DZG_OFFICER, make_site

MONTHS = [date(2026, m, 1) for m in (2, 3, 4, 5, 6)]
LOCAL = clock.LOCAL_TZ


def _due(month: date) -> datetime:
    return reports.due_at(month).astimezone(LOCAL)


def _events(rng: random.Random) -> list[datetime]:
    """Registration instants over the five periods, with the edges: a second before, at and
    after each due time, and midnight of the 25th and 26th (where the old periods cut)."""
    first = _due(date(2026, 1, 1))
    last = _due(MONTHS[-1])
    span = int((last - first).total_seconds())
    out = [first + timedelta(seconds=rng.randrange(span)) for _ in range(25)]
    for month in MONTHS[:-1]:
        due = _due(month)
        out += [due - timedelta(seconds=1), due, due + timedelta(seconds=1)]
        out += [due.replace(hour=0, minute=0, second=0), due.replace(hour=23, minute=59)]
    return [t.replace(microsecond=0) for t in out if first <= t < last]


def _submission(rng: random.Random, month: date) -> datetime:
    """Early (any time in the period), exactly on time, a second late, or days late."""
    lo, due = reports.period_bounds(month)
    kind = rng.choice(["early", "early", "on_time", "late", "days_late"])
    if kind == "early":
        at = lo + timedelta(seconds=rng.randrange(int((due - lo).total_seconds())))
    elif kind == "on_time":
        at = due
    elif kind == "late":
        at = due + timedelta(seconds=1)
    else:
        at = due + timedelta(days=rng.randint(1, 4), seconds=rng.randrange(86400))
    return at.astimezone(LOCAL).replace(microsecond=0)


def _counted(instants: list[datetime], lo: datetime, hi: datetime) -> int:
    return sum(1 for t in instants if lo <= t < hi)


@pytest.mark.parametrize("seed", range(6))
def test_no_moment_falls_between_two_reports(db_session, seed: int) -> None:
    rng = random.Random(seed)
    instants = sorted(_events(rng))
    submissions = {m: _submission(rng, m) for m in MONTHS}
    timeline = [(t, "site", None) for t in instants] + [
        (t, "submit", m) for m, t in submissions.items()
    ]
    timeline.sort(
        key=lambda x: (x[0], x[1] == "site")
    )  # a submission before a site at the same second
    for at, what, month in timeline:
        clock.freeze(at.isoformat())
        if what == "site":
            make_site(db_session, DZG_OFFICER)
        else:
            reports.save_report(db_session, DZG, month, DZG_OFFICER, "本月情况", submit=True)

    clock.freeze("2026-07-10T09:00:00+08:00")  # every due time has passed
    total = 0
    for month in MONTHS:
        lo, hi = reports.period_bounds(month)
        view = reports.report_view(db_session, DZG, month)
        complete = _counted(instants, lo, hi)
        submitted_at = submissions[month]
        as_submitted = _counted(instants, lo, min(hi, submitted_at))
        assert view["figures"]["registered"] == complete, (month, submitted_at)
        assert view["figures_at_submission"]["registered"] == as_submitted, (month, submitted_at)
        assert view["completed_after_submission"] == (submitted_at < hi)
        assert view["late"] == (submitted_at > hi)
        total += view["figures"]["registered"]
    # every registration is in exactly one report: none between two, none twice
    assert total == len(instants)
    overview = reports.overview(db_session, MONTHS[2])
    dzg = next(r for r in overview if r["street_code"] == DZG)
    lo, hi = reports.period_bounds(MONTHS[2])
    assert dzg["figures"]["registered"] == _counted(instants, lo, hi)


def test_before_the_due_time_a_report_shows_what_was_submitted(db_session) -> None:
    clock.freeze("2026-05-30T10:00:00+08:00")
    make_site(db_session, DZG_OFFICER)
    clock.freeze("2026-06-10T10:00:00+08:00")
    reports.save_report(db_session, DZG, date(2026, 6, 1), DZG_OFFICER, "提前报送", submit=True)
    clock.freeze("2026-06-20T10:00:00+08:00")
    make_site(db_session, DZG_OFFICER)
    view = reports.report_view(db_session, DZG, date(2026, 6, 1))
    assert view["figures"]["registered"] == view["figures_at_submission"]["registered"] == 1
    assert not view["completed_after_submission"]
    clock.freeze("2026-06-25T17:00:00+08:00")  # the due time itself: the period is complete
    view = reports.report_view(db_session, DZG, date(2026, 6, 1))
    assert view["figures"]["registered"] == 2 and view["figures_at_submission"]["registered"] == 1
    assert view["completed_after_submission"]
