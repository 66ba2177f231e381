"""Step plans and extension requests: only an approval moves the current deadline."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gis_app import clock
from gis_app.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.models import ExtensionRequest, Site, SiteEvent
from gis_app.services import extensions, steps, workflow
from gis_app.services.photos import add_photo
from gis_app.services.site_query import SiteFilter, base_select, counts_by_status, overdue_expr
from gis_app.services.sites import update_site
from tests.workflow_support import (
    DZG,
    DZG_INSPECTOR,
    DZG_OFFICER,
    LIMITS,
    OFFICE,
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
    from gis_app.services.streets import streets_feature_collection

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
    db_session.rollback()
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
    db_session.rollback()
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
    db_session.rollback()
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


def test_extension_approved_moves_the_current_deadline_and_replaces_open_steps(db_session):
    site = _site_with_plan(db_session)
    first = steps.site_steps(db_session, site.id)[0]
    steps.complete_step(db_session, first.id, DZG_OFFICER, "已拆除")
    req = extensions.request_extension(
        db_session, site.id, DZG_OFFICER, "2026-11-30", "相对人住院，恢复原状需推迟", NEW_PLAN
    )
    assert req.status == "pending" and req.old_deadline == date(2026, 9, 30)
    # asking changes nothing yet
    assert db_session.get(Site, site.id).current_deadline == date(2026, 9, 30)
    done = extensions.decide(db_session, req.id, OFFICE, "approve", "同意延期")
    assert done.status == "approved" and done.decided_by == OFFICE.name
    fresh = db_session.get(Site, site.id)
    assert fresh.current_deadline == date(2026, 11, 30)
    assert fresh.committed_deadline == date(2026, 9, 30)  # the commitment stays on record
    titles = [
        (s.title, s.due_date.isoformat(), s.done_at is not None)
        for s in steps.site_steps(db_session, site.id)
    ]
    assert titles == [
        ("拆除违建部分", "2026-07-15", True),
        ("恢复原状", "2026-10-31", False),
        ("规范外立面", "2026-11-30", False),
    ]
    actions = db_session.scalars(
        select(SiteEvent.action).where(SiteEvent.site_id == site.id).order_by(SiteEvent.id)
    ).all()
    assert actions[-2:] == ["extension_request", "extension_approved"]


def test_extension_rejected_leaves_the_deadline_and_stays_in_history(db_session):
    site = _site_with_plan(db_session)
    req = extensions.request_extension(
        db_session, site.id, DZG_OFFICER, "2026-11-30", "工作量大", NEW_PLAN
    )
    with pytest.raises(ValidationError) as err:
        extensions.decide(db_session, req.id, OFFICE, "reject", "")
    assert err.value.field == "comment"
    extensions.decide(db_session, req.id, OFFICE, "reject", "理由不充分，按原计划推进")
    assert db_session.get(Site, site.id).current_deadline == date(2026, 9, 30)
    with pytest.raises(Conflict, match="已于"):
        extensions.decide(db_session, req.id, OFFICE, "approve", "")
    db_session.rollback()
    # a second request after the rejection; both stay
    extensions.request_extension(
        db_session, site.id, DZG_OFFICER, "2026-10-31", "补充说明理由", NEW_PLAN[:1]
    )
    history = extensions.site_requests(db_session, site.id)
    assert [r.status for r in history] == ["rejected", "pending"]


def test_extension_rules(db_session):
    site = _site_with_plan(db_session)
    ask = extensions.request_extension
    with pytest.raises(Forbidden):  # the district does not ask itself
        ask(db_session, site.id, OFFICE, "2026-11-30", "x", NEW_PLAN)
    db_session.rollback()
    with pytest.raises(NotFound):
        ask(db_session, site.id, ZSM_OFFICER, "2026-11-30", "x", NEW_PLAN)
    db_session.rollback()
    with pytest.raises(ValidationError) as err:
        ask(
            db_session,
            site.id,
            DZG_OFFICER,
            "2026-09-01",
            "x",
            [{"title": "a", "due_date": "2026-09-01"}],
        )
    assert err.value.field == "new_deadline"
    db_session.rollback()
    with pytest.raises(ValidationError) as err:
        ask(db_session, site.id, DZG_OFFICER, "2026-12-31", "x", NEW_PLAN)
    assert err.value.field == "plan"
    with pytest.raises(ValidationError) as err:
        ask(db_session, site.id, DZG_OFFICER, "2026-11-30", " ", NEW_PLAN)
    assert err.value.field == "reason"
    with pytest.raises(ValidationError) as err:
        ask(db_session, site.id, DZG_OFFICER, "", "x", NEW_PLAN)
    assert err.value.field == "new_deadline"
    req = ask(db_session, site.id, DZG_OFFICER, "2026-11-30", "理由", NEW_PLAN)
    with pytest.raises(Conflict, match="待审批"):
        ask(db_session, site.id, DZG_OFFICER, "2026-11-30", "理由", NEW_PLAN)
    db_session.rollback()
    with pytest.raises(Forbidden):
        extensions.decide(db_session, req.id, DZG_OFFICER, "approve", "")
    db_session.rollback()
    with pytest.raises(ValidationError) as err:
        extensions.decide(db_session, req.id, OFFICE, "maybe", "")
    assert err.value.field == "decision"
    n = db_session.scalar(select(func.count()).select_from(ExtensionRequest))
    assert n == 1


def test_overdue_site_can_ask_and_approval_clears_overdue(db_session):
    site = _site_with_plan(db_session)
    clock.freeze("2026-10-02T09:00:00+08:00")
    assert _overdue(db_session, site.id)
    plan = [{"title": "恢复原状", "due_date": "2026-11-15"}]
    req = extensions.request_extension(db_session, site.id, DZG_OFFICER, "2026-11-15", "r", plan)
    extensions.decide(db_session, req.id, OFFICE, "approve", "")
    assert not _overdue(db_session, site.id)


def test_patch_cannot_move_the_current_deadline(db_session):
    site = _site_with_plan(db_session)
    with pytest.raises(ValidationError) as err:
        update_site(
            db_session, site.id, {"current_deadline": "2027-01-01", "version": site.version}, OFFICE
        )
    assert err.value.field == "current_deadline"


def test_closed_site_cannot_ask(db_session):
    site = make_site(db_session, committed_deadline="2026-09-30")
    from sqlalchemy import update

    db_session.execute(update(Site).where(Site.id == site.id).values(status="closed"))
    with pytest.raises(Conflict, match="不能申请延期"):
        extensions.request_extension(db_session, site.id, DZG_OFFICER, "2026-11-30", "r", NEW_PLAN)
