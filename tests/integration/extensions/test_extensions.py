"""Step plans and extension requests: only an approval moves the current deadline."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gis_app.core import clock
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.extensions import service as extensions
from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.queries import base_select, overdue_expr
from gis_app.features.ledger.service import update_site
from gis_app.features.plans import service as steps
from gis_app.features.workflow import service as workflow
from tests.support.workflow import (
    DZG_OFFICER,
    OFFICE,
    ZSM_OFFICER,
    make_site,
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
    with pytest.raises(NotFound):
        ask(db_session, site.id, ZSM_OFFICER, "2026-11-30", "x", NEW_PLAN)
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
    with pytest.raises(Forbidden):
        extensions.decide(db_session, req.id, DZG_OFFICER, "approve", "")
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
