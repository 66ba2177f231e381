"""Step plans and extension requests: only an approval moves the current deadline."""

from __future__ import annotations

from datetime import date

import pytest

from gis_app.core import clock
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import SiteFilter, base_select, counts_by_status, overdue_expr
from gis_app.features.photos.service import add_photo
from gis_app.features.plans import service as steps
from gis_app.features.workflow import service as workflow
from tests.support.workflow import (
    DZG,
    DZG_INSPECTOR,
    DZG_OFFICER,
    LIMITS,
    ZSM_OFFICER,
    image_bytes,
    make_site,
    store_in,
)

TODAY = date(2026, 6, 15)  # the frozen clock of the tests
PLAN = [
    {"title": "拆除违建部分", "due_date": "2026-07-15"},
    {"title": "恢复原状", "due_date": "2026-08-31"},
    {"title": "规范外立面", "due_date": "2026-09-30"},
]


def _overdue(session, site_id: int) -> bool:
    """The site as the map, the filters and the counts see it (overdue_expr)."""
    return session.scalar(base_select([overdue_expr(clock.today())]).where(Site.id == site_id))


def test_plan_sets_the_deadline_and_a_late_step_makes_the_site_overdue(db_session) -> None:
    site = make_site(db_session, committed_deadline="2026-09-30")
    steps.set_plan(db_session, site.id, DZG_OFFICER, PLAN)
    listed = steps.site_steps(db_session, site.id)
    assert [s.title for s in listed] == ["拆除违建部分", "恢复原状", "规范外立面"]
    assert site.current_deadline == date(2026, 9, 30)
    assert not _overdue(db_session, site.id)
    clock.freeze("2026-07-16T09:00:00+08:00")  # the first step's date has passed
    assert _overdue(db_session, site.id)
    # the home page counts (streets.py) agree with the filter
    from gis_app.features.streets.service import streets_feature_collection

    fc = streets_feature_collection(db_session, clock.today().isoformat())
    dzg = next(f for f in fc["features"] if f["id"] == DZG)
    assert (
        dzg["properties"]["counts"]["overdue"]
        == counts_by_status(db_session, SiteFilter(streets=[DZG]), clock.today())["overdue"]
    )
    assert dzg["properties"]["counts"]["overdue"] >= 1
    # doing the step with evidence clears it
    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    first = steps.site_steps(db_session, site.id)[0]
    steps.complete_step(db_session, first.id, DZG_INSPECTOR, "违建部分已拆除，现场清理完毕")
    assert not _overdue(db_session, site.id)


def test_plan_may_not_push_the_deadline_later(db_session) -> None:
    site = make_site(db_session, committed_deadline="2026-08-31")
    with pytest.raises(Conflict, match="延期申请"):
        steps.set_plan(db_session, site.id, DZG_OFFICER, PLAN)
    assert db_session.get(Site, site.id).current_deadline == date(2026, 8, 31)
    shorter = PLAN[:2]
    steps.set_plan(db_session, site.id, DZG_OFFICER, shorter)
    assert db_session.get(Site, site.id).current_deadline == date(2026, 8, 31)


def test_plan_sets_both_deadlines_when_the_site_had_none(db_session) -> None:
    site = make_site(db_session, committed_deadline=None)
    steps.set_plan(db_session, site.id, DZG_OFFICER, PLAN)
    fresh = db_session.get(Site, site.id)
    assert fresh.committed_deadline == fresh.current_deadline == date(2026, 9, 30)


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        ([], "steps"),
        ([{"title": "", "due_date": "2026-07-01"}], "steps[1].title"),
        ([{"title": "拆除", "due_date": "明天"}], "steps[1].due_date"),
        ([{"title": "拆除", "due_date": "2026-06-01"}], "steps[1].due_date"),  # in the past
        (
            [
                {"title": "拆除", "due_date": "2026-08-01"},
                {"title": "恢复", "due_date": "2026-07-01"},
            ],
            "steps[2].due_date",
        ),
        ("拆除", "steps"),
    ],
)
def test_bad_plans_name_the_field(db_session, plan, field) -> None:
    site = make_site(db_session)
    with pytest.raises(ValidationError) as err:
        steps.set_plan(db_session, site.id, DZG_OFFICER, plan)
    assert err.value.field == field


def test_plan_roles_and_overdue_lock(db_session) -> None:
    site = make_site(db_session, committed_deadline="2026-09-30")
    with pytest.raises(NotFound):  # another street's site: 404
        steps.set_plan(db_session, site.id, ZSM_OFFICER, PLAN)
    steps.set_plan(db_session, site.id, DZG_OFFICER, PLAN)
    clock.freeze("2026-07-20T09:00:00+08:00")
    with pytest.raises(Conflict, match="已逾期"):
        steps.set_plan(db_session, site.id, DZG_OFFICER, [{"title": "x", "due_date": "2026-09-01"}])


def test_step_completion_needs_evidence_and_in_progress(db_session, tmp_path) -> None:
    site = make_site(db_session, committed_deadline="2026-09-30")
    steps.set_plan(db_session, site.id, DZG_OFFICER, PLAN)
    first = steps.site_steps(db_session, site.id)[0]
    with pytest.raises(Conflict, match="治理中"):
        steps.complete_step(db_session, first.id, DZG_OFFICER, "done")
    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    with pytest.raises(ValidationError) as err:
        steps.complete_step(db_session, first.id, DZG_OFFICER, "  ")
    assert err.value.field == "note"
    photo, _ = add_photo(
        db_session,
        store_in(tmp_path),
        LIMITS,
        site.id,
        DZG_OFFICER,
        image_bytes(),
        "p.jpg",
        "after",
    )
    done = steps.complete_step(db_session, first.id, DZG_OFFICER, "", photo.id)
    assert done.done_by == DZG_OFFICER.name and photo.step_id == first.id
    with pytest.raises(Conflict, match="已于"):
        steps.complete_step(db_session, first.id, DZG_OFFICER, "again")


# ---------------------------------------------------------------- extensions

NEW_PLAN = [
    {"title": "恢复原状", "due_date": "2026-10-31"},
    {"title": "规范外立面", "due_date": "2026-11-30"},
]


def _site_with_plan(session):
    site = make_site(session, committed_deadline="2026-09-30")
    steps.set_plan(session, site.id, DZG_OFFICER, PLAN)
    workflow.transition(session, site.id, DZG_OFFICER, "in_progress")
    return site
