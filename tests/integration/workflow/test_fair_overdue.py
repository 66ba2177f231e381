"""Fair overdue (issue 14, point 6): the deadline clock stops while the office has the site
(待验收) and the days it waited move the deadline on when the office returns it; the office's
queue shows the days waited and its acceptance time per month is reported; a site found on
patrol (新发现) must be registered within the configured days (default 3) or it is overdue."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gis_app.core import clock, deadlines
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import overdue_expr
from gis_app.features.ledger.service import site_history
from gis_app.features.photos.service import add_photo
from gis_app.features.workflow import acceptance
from gis_app.features.workflow import service as workflow
from gis_app.settings import load_settings
from tests.support.workflow import DZG_OFFICER, LIMITS, OFFICE, image_bytes, make_site, store_in


def _overdue(session, site_id: int, today: date) -> bool:
    return session.scalar(select(overdue_expr(today)).where(Site.id == site_id))


def _submitted(session, tmp_path, deadline: str, when: str):
    """A site with a deadline, taken to 待验收 at `when` (with its photo pair)."""
    clock.freeze("2026-04-01T09:00:00+08:00")
    site = make_site(session, DZG_OFFICER, committed_deadline=deadline)
    store = store_in(tmp_path)
    add_photo(
        session, store, LIMITS, site.id, DZG_OFFICER, image_bytes((1, 2, 3)), "b.jpg", "before"
    )
    workflow.transition(session, site.id, DZG_OFFICER, "in_progress")
    add_photo(
        session, store, LIMITS, site.id, DZG_OFFICER, image_bytes((9, 9, 9)), "a.jpg", "after"
    )
    clock.freeze(when)
    workflow.transition(session, site.id, DZG_OFFICER, "awaiting_acceptance")
    return site


def test_the_clock_stops_while_the_office_has_the_site(db_session, tmp_path) -> None:
    site = _submitted(db_session, tmp_path, "2026-06-10", "2026-06-05T10:00:00+08:00")
    # the deadline passes while the office has not decided: not overdue for the street
    assert not _overdue(db_session, site.id, date(2026, 6, 25))
    clock.freeze("2026-06-25T15:00:00+08:00")
    queue = acceptance.acceptance_queue(db_session, OFFICE, date(2026, 6, 25))
    assert [(q["code"], q["days_waited"]) for q in queue] == [(site.code, 20)]
    # the office returns it after 20 days: the street keeps the 5 days it had left
    workflow.transition(db_session, site.id, OFFICE, "in_progress", "照片不清晰，重拍")
    assert site.current_deadline == date(2026, 6, 30)
    assert site.committed_deadline == date(2026, 6, 10)
    assert not _overdue(db_session, site.id, date(2026, 6, 30))
    assert _overdue(db_session, site.id, date(2026, 7, 1))
    last = site_history(db_session, site.id, OFFICE)[-1]
    assert last["changes"]["clock_stopped_days"] == [None, 20]
    assert last["changes"]["current_deadline"] == ["2026-06-10", "2026-06-30"]
    assert last["reason"] == "照片不清晰，重拍"


def test_an_open_site_past_its_deadline_is_still_overdue(db_session) -> None:
    site = make_site(db_session, DZG_OFFICER, committed_deadline="2026-06-10")
    assert not _overdue(db_session, site.id, date(2026, 6, 10))
    assert _overdue(db_session, site.id, date(2026, 6, 11))


def test_acceptance_time_per_month(db_session, tmp_path) -> None:
    first = _submitted(db_session, tmp_path / "a", "2026-09-30", "2026-05-10T10:00:00+08:00")
    second = _submitted(db_session, tmp_path / "b", "2026-09-30", "2026-05-20T10:00:00+08:00")
    for site in (first, second):
        assert workflow.record_acceptance_view(db_session, site.id, OFFICE) is not None
    clock.freeze("2026-05-30T10:00:00+08:00")
    workflow.close(db_session, first.id, OFFICE, "合格")  # waited 20 days
    clock.freeze("2026-06-02T22:00:00+08:00")
    workflow.transition(db_session, second.id, OFFICE, "in_progress", "不合格")  # 13.5 days
    months = acceptance.acceptance_times(db_session, date(2026, 6, 15), 3)
    assert [m["month"] for m in months] == ["2026-04", "2026-05", "2026-06"]
    april, may, june = months
    assert april == {
        "month": "2026-04",
        "decided": 0,
        "closed": 0,
        "returned": 0,
        "mean_days": None,
        "median_days": None,
        "max_days": None,
    }
    assert (may["decided"], may["closed"], may["returned"], may["mean_days"]) == (1, 1, 0, 20.0)
    assert (june["decided"], june["returned"], june["median_days"]) == (1, 1, 13.5)


def test_the_registration_days_are_a_typed_setting(monkeypatch) -> None:
    assert load_settings().district.registration_days == 3
    monkeypatch.setenv("GIS_APP_REGISTRATION_DAYS", "5")
    assert load_settings().district.registration_days == 5
    monkeypatch.setenv("GIS_APP_REGISTRATION_DAYS", "-1")
    with pytest.raises(Exception, match="GIS_APP_REGISTRATION_DAYS"):
        load_settings()


@pytest.mark.parametrize(("days", "late_from"), [(3, date(2026, 6, 5)), (7, date(2026, 6, 9))])
def test_a_site_found_on_patrol_must_be_registered_in_time(db_session, days, late_from) -> None:
    clock.freeze("2026-06-01T23:30:00+08:00")  # found late in the evening of 1 June
    site = make_site(db_session, DZG_OFFICER, status="new", committed_deadline=None)
    deadlines.configure(days)
    try:
        day_before = date.fromordinal(late_from.toordinal() - 1)
        assert not _overdue(db_session, site.id, day_before)
        assert _overdue(db_session, site.id, late_from)
        # registered (建档) in time or late, it is judged by its own deadline from then on
        clock.freeze(f"{late_from.isoformat()}T09:00:00+08:00")
        workflow.transition(db_session, site.id, DZG_OFFICER, "registered")
        assert not _overdue(db_session, site.id, late_from)
    finally:
        deadlines.configure(3)


def test_a_new_site_shows_as_overdue_in_the_api(client, auth, connection) -> None:
    from tests.support.sites import site_payload

    headers = auth.headers("街道李", "street_officer", "120102002")
    clock.freeze("2026-06-10T10:00:00+08:00")
    body = site_payload(status="new", committed_deadline=None)
    site_id = client.post("/api/v1/sites", json=body, headers=headers).get_json()["id"]
    clock.freeze("2026-06-15T10:00:00+08:00")  # 5 days later, unregistered
    props = client.get(f"/api/v1/sites/{site_id}", headers=headers).get_json()["properties"]
    assert props["status"] == "new" and props["overdue"] is True
    streets = client.get("/api/v1/streets/120102002", headers=headers).get_json()
    assert streets["properties"]["counts"]["overdue"] >= 1


def test_each_move_sets_when_the_site_entered_its_status(db_session, tmp_path) -> None:
    """Migration 0212: the to-do list's 待验收 counts the days from `status_since`, which every
    move sets (the longest waiting first, found by an index instead of each site's events)."""
    from datetime import datetime

    from gis_app.features.todo import service as todo

    site = _submitted(db_session, tmp_path, "2026-06-10", "2026-06-05T10:00:00+08:00")
    assert site.status_since == datetime.fromisoformat("2026-06-05T10:00:00+08:00")
    clock.freeze("2026-06-25T15:00:00+08:00")
    waiting = [i for i in todo.items_for(db_session, OFFICE) if i["group"] == "待验收"]
    assert [(i["args"]["site_id"], i["days"]) for i in waiting] == [(site.id, 20)]
    workflow.transition(db_session, site.id, OFFICE, "in_progress", "照片不清晰，重拍")
    assert site.status_since == clock.now()
    db_session.flush()
    stored = db_session.scalar(select(Site.status_since).where(Site.id == site.id))
    assert stored == clock.now()


def test_bulk_written_transitions_fill_when_the_site_entered_its_status(db_session) -> None:
    """Events written in bulk (the demo's back-dated history) fill `status_since` from each
    site's last transition into its status; a site whose last transition led elsewhere (its
    status set otherwise) stays unknown."""
    from datetime import datetime

    from gis_app.features.ledger.service import fill_status_since, record_event

    waiting, other = make_site(db_session), make_site(db_session)
    for site, moves in (
        (waiting, [("in_progress", "2026-05-01"), ("awaiting_acceptance", "2026-05-20")]),
        (other, [("in_progress", "2026-05-02")]),
    ):
        site.status = "awaiting_acceptance"
        for target, day in moves:
            event = record_event(
                db_session, site, OFFICE, "transition", {"status": ("registered", target)}
            )
            event.at = datetime.fromisoformat(f"{day}T09:00:00+08:00")
    db_session.flush()
    assert fill_status_since(db_session) == 1
    db_session.expire_all()
    assert waiting.status_since == datetime.fromisoformat("2026-05-20T09:00:00+08:00")
    assert other.status_since is None
