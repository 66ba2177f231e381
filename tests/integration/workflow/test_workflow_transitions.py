"""Every status transition, allowed and forbidden; roles; the evidence each move needs."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select, update

from gis_app.core import clock, codes
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.photos.service import add_photo
from gis_app.features.workflow import service as workflow
from tests.support.workflow import (
    DZG_INSPECTOR,
    DZG_OFFICER,
    HOUSING,
    LIMITS,
    OFFICE,
    OTHER_OFFICE,
    ZSM_OFFICER,
    image_bytes,
    make_site,
    store_in,
)

STATUSES = list(codes.STATUSES)
ALLOWED = {(m.source, m.target) for m in workflow.MOVES}


def _set_status(session, site, status: str) -> None:
    session.execute(update(Site).where(Site.id == site.id).values(status=status))
    session.commit()
    session.refresh(site)


def _events(session, site_id: int) -> list[tuple[str, dict]]:
    return session.execute(
        select(SiteEvent.action, SiteEvent.changes)
        .where(SiteEvent.site_id == site_id)
        .order_by(SiteEvent.id)
    ).all()


def _with_evidence(session, tmp_path, status: str):
    """A site in `status` with a before and an after photo (and, when awaiting acceptance,
    the office's view of the pair)."""
    site = make_site(session)
    store = store_in(tmp_path)
    add_photo(
        session, store, LIMITS, site.id, DZG_OFFICER, image_bytes((1, 2, 3)), "b.jpg", "before"
    )
    _set_status(session, site, "in_progress")
    add_photo(
        session, store, LIMITS, site.id, DZG_OFFICER, image_bytes((9, 9, 9)), "a.jpg", "after"
    )
    _set_status(session, site, status)
    if status == "awaiting_acceptance":
        assert workflow.record_acceptance_view(session, site.id, OFFICE) is not None
    return site


@pytest.mark.parametrize(
    ("source", "target"),
    [(a, b) for a, b in itertools.product(STATUSES, STATUSES)],
)
def test_transition_table(db_session, tmp_path, source: str, target: str) -> None:
    site = _with_evidence(db_session, tmp_path, source)
    before_events = len(_events(db_session, site.id))
    version = site.version
    move = workflow.MOVE_TABLE.get((source, target))
    if move is None:
        with pytest.raises(Conflict) as err:
            workflow.transition(db_session, site.id, OFFICE, target, "理由")
        assert err.value.status == 409
        assert codes.STATUSES[source] in err.value.message
        fresh = db_session.get(Site, site.id)
        db_session.refresh(fresh)
        assert fresh.status == source and fresh.version == version
        assert len(_events(db_session, site.id)) == before_events
        return
    actor = OFFICE if move.by == "district" else DZG_OFFICER
    done = workflow.transition(db_session, site.id, actor, target, "理由")
    assert done.status == target and done.version == version + 1
    action, changes = _events(db_session, site.id)[-1]
    assert action == "transition" and changes["status"] == [source, target]


def test_the_table_has_the_documented_moves() -> None:
    assert {
        ("new", "registered"),
        ("new", "in_progress"),
        ("registered", "in_progress"),
        ("in_progress", "awaiting_acceptance"),
        ("awaiting_acceptance", "in_progress"),
        ("awaiting_acceptance", "closed"),
    } == ALLOWED
    # closed goes back only through reopen
    assert not any(m.source == "closed" for m in workflow.MOVES)


def test_forbidden_message_names_the_way(db_session) -> None:
    site = make_site(db_session)
    with pytest.raises(Conflict, match=r"不能从「已建档」变为「已销账」.*「治理中」"):
        workflow.transition(db_session, site.id, OFFICE, "closed")
    _set_status(db_session, site, "closed")
    with pytest.raises(Conflict, match="抽查不合格或回潮"):
        workflow.transition(db_session, site.id, OFFICE, "in_progress", "想重开")


@pytest.mark.parametrize("cause", ["spot_check", "rebound"])
def test_reopen_a_closed_site_with_a_reason(db_session, cause: str) -> None:
    site = make_site(db_session)
    _set_status(db_session, site, "closed")
    done = workflow.reopen(db_session, site.id, DZG_INSPECTOR, "巡查发现原址又搭建", cause)
    assert done.status == "in_progress"
    action, changes = _events(db_session, site.id)[-1]
    assert action == "reopen" and changes == {
        "status": ["closed", "in_progress"],
        "cause": [None, cause],
    }
    event = db_session.scalar(select(SiteEvent).order_by(SiteEvent.id.desc()).limit(1))
    assert event.reason == "巡查发现原址又搭建" and event.actor == DZG_INSPECTOR.name


def test_reopen_refusals(db_session) -> None:
    site = make_site(db_session)
    with pytest.raises(Conflict, match="只有已销账的点位"):
        workflow.reopen(db_session, site.id, OFFICE, "原因", "rebound")
    _set_status(db_session, site, "closed")
    with pytest.raises(ValidationError) as err:
        workflow.reopen(db_session, site.id, OFFICE, "  ", "rebound")
    assert err.value.field == "reason"
    with pytest.raises(ValidationError) as err:
        workflow.reopen(db_session, site.id, OFFICE, "原因", "whim")
    assert err.value.field == "cause"
    with pytest.raises(NotFound):  # another street's site: 404
        workflow.reopen(db_session, site.id, ZSM_OFFICER, "原因", "rebound")
    assert db_session.get(Site, site.id).status == "closed"


def test_roles(db_session, tmp_path) -> None:
    site = make_site(db_session)
    # the site's inspector may see it but not move it; another street and housing (the site
    # is no renovation) do not even see it
    for actor, status in ((DZG_INSPECTOR, 403), (ZSM_OFFICER, 404), (HOUSING, 404)):
        with pytest.raises((Forbidden, NotFound)) as err:
            workflow.transition(db_session, site.id, actor, "in_progress")
        assert err.value.status == status, actor
    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")

    waiting = _with_evidence(db_session, tmp_path, "awaiting_acceptance")
    with pytest.raises(Forbidden, match="区领导小组办公室"):
        workflow.close(db_session, waiting.id, DZG_OFFICER)
    with pytest.raises(Forbidden):
        workflow.transition(db_session, waiting.id, DZG_OFFICER, "in_progress", "撤回")
    # sending back needs a reason
    with pytest.raises(ValidationError) as err:
        workflow.transition(db_session, waiting.id, OFFICE, "in_progress", "")
    assert err.value.field == "reason"


def test_acceptance_needs_a_before_and_an_after_photo(db_session, tmp_path) -> None:
    store = store_in(tmp_path)
    site = make_site(db_session)
    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    with pytest.raises(Conflict, match="整改前照片"):
        workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    add_photo(db_session, store, LIMITS, site.id, DZG_OFFICER, image_bytes(), "b.jpg", "before")
    with pytest.raises(Conflict, match="整改后照片"):
        workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    add_photo(
        db_session, store, LIMITS, site.id, DZG_OFFICER, image_bytes((0, 200, 0)), "a.jpg", "after"
    )
    done = workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    assert done.status == "awaiting_acceptance"


def test_close_only_after_viewing_the_newest_pair(db_session, tmp_path) -> None:
    store = store_in(tmp_path)
    site = _with_evidence(db_session, tmp_path, "in_progress")
    workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    with pytest.raises(Conflict, match="并排查看"):
        workflow.close(db_session, site.id, OFFICE)
    # another officer's view does not count for this one
    workflow.record_acceptance_view(db_session, site.id, OTHER_OFFICE)
    with pytest.raises(Conflict, match="并排查看"):
        workflow.close(db_session, site.id, OFFICE)
    workflow.record_acceptance_view(db_session, site.id, OFFICE)
    # a newer after photo arrives: the pair viewed is no longer the newest
    clock.freeze("2026-06-15T11:00:00+08:00")
    add_photo(
        db_session, store, LIMITS, site.id, DZG_OFFICER, image_bytes((5, 5, 250)), "a2.jpg", "after"
    )
    with pytest.raises(Conflict, match="并排查看"):
        workflow.close(db_session, site.id, OFFICE)
    workflow.record_acceptance_view(db_session, site.id, OFFICE)
    done = workflow.close(db_session, site.id, OFFICE, "前后对比一致，同意销账")
    assert done.status == "closed"
    # a street officer's page view is not recorded: it could not close anyway
    assert workflow.record_acceptance_view(db_session, site.id, DZG_OFFICER) is None


def test_view_before_a_send_back_does_not_count_after_resubmission(db_session, tmp_path) -> None:
    site = _with_evidence(db_session, tmp_path, "in_progress")
    workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    workflow.record_acceptance_view(db_session, site.id, OFFICE)
    clock.freeze("2026-06-15T11:00:00+08:00")
    workflow.transition(db_session, site.id, OFFICE, "in_progress", "外立面未恢复")
    clock.freeze("2026-06-15T12:00:00+08:00")
    workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    with pytest.raises(Conflict, match="并排查看"):
        workflow.close(db_session, site.id, OFFICE)


def test_after_a_reopen_a_new_after_photo_is_needed(db_session, tmp_path) -> None:
    store = store_in(tmp_path)
    site = _with_evidence(db_session, tmp_path, "closed")
    clock.freeze("2026-06-16T09:00:00+08:00")
    workflow.reopen(db_session, site.id, OFFICE, "抽查发现未整改到位", "spot_check")
    with pytest.raises(Conflict, match="重新打开"):
        workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    clock.freeze("2026-06-17T09:00:00+08:00")
    add_photo(
        db_session, store, LIMITS, site.id, DZG_OFFICER, image_bytes((7, 70, 7)), "a3.jpg", "after"
    )
    done = workflow.transition(db_session, site.id, DZG_OFFICER, "awaiting_acceptance")
    assert done.status == "awaiting_acceptance"


def test_stale_version_is_refused(db_session) -> None:
    site = make_site(db_session)
    with pytest.raises(Conflict, match="已被他人修改"):
        workflow.transition(
            db_session, site.id, DZG_OFFICER, "in_progress", version=site.version + 5
        )
    done = workflow.transition(
        db_session, site.id, DZG_OFFICER, "in_progress", version=site.version
    )
    assert done.status == "in_progress"


def test_unknown_target_is_422(db_session) -> None:
    site = make_site(db_session)
    with pytest.raises(ValidationError) as err:
        workflow.transition(db_session, site.id, OFFICE, "finished")
    assert err.value.field == "to"
    n = db_session.scalar(
        select(func.count()).select_from(SiteEvent).where(SiteEvent.site_id == site.id)
    )
    assert n == 1  # only the creation


def test_available_moves_tell_why_not(db_session) -> None:
    site = make_site(db_session)
    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    moves = workflow.available_moves(db_session, site, DZG_OFFICER)
    assert [(m["to"], m["allowed"]) for m in moves] == [("awaiting_acceptance", False)]
    assert "整改前照片" in moves[0]["blocked"]
    other = workflow.available_moves(db_session, site, ZSM_OFFICER)
    assert other[0]["blocked"] == "须由点位所在街道办理"


def test_the_streets_inspector_asks_for_acceptance(db_session, tmp_path) -> None:
    """Issue 15: the inspector of the site's street may 提请验收 (as the street's staff); what
    an inspector may not do is refused in words that fit an inspector of that street."""
    site = _with_evidence(db_session, tmp_path, "in_progress")
    moves = {m["to"]: m for m in workflow.available_moves(db_session, site, DZG_INSPECTOR)}
    assert moves["awaiting_acceptance"]["allowed"] is True
    done = workflow.transition(db_session, site.id, DZG_INSPECTOR, "awaiting_acceptance")
    assert done.status == "awaiting_acceptance"
    fresh = make_site(db_session)
    moves = {m["to"]: m for m in workflow.available_moves(db_session, fresh, DZG_INSPECTOR)}
    assert (
        moves["in_progress"]["blocked"] == "开始治理须由本街道的街道办事处办理（执法队员不能办理）"
    )
    with pytest.raises(Forbidden, match="开始治理须由街道办事处或区领导小组办公室办理"):
        workflow.transition(db_session, fresh.id, DZG_INSPECTOR, "in_progress")
