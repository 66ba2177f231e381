"""Status transitions of a site: the one place that changes `sites.status`.

已建档 → 治理中 → 待验收 → 已销账, with the moves in `MOVES`; a closed site goes back to 治理中
only through `reopen` (a failed spot check or a rebound, 回潮, with a reason). Each move is one
transaction and one `site_events` row ("transition" or "reopen") with who, when and why.
A move not in the table is a 409 naming both statuses; a role that may not make it, a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import ROLES, STREET_ROLES, Actor
from gis_app.core.errors import Conflict
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import (
    can_act_in_street,
    require_district,
    require_street_actor,
    street_code_of,
)
from gis_app.features.ledger.service import check_version, get_site, record_event
from gis_app.features.photos import service as photo_service
from gis_app.features.photos.models import Photo
from gis_app.features.plans import service as plan_service
from gis_app.features.workflow.models import AcceptanceView
from gis_app.features.workflow.schemas import MAX_REASON as MAX_REASON  # patrol cuts notes to it
from gis_app.features.workflow.schemas import clean_reason, parse_cause, parse_target


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    label: str
    by: str  # "street": the site's street office (or the district); "district": district only
    reason_required: bool = False
    needs_photos: bool = False  # a before and an after photo (taken since any reopening)
    needs_viewed_pair: bool = False  # the actor opened the acceptance page for the newest pair
    #: the street's roles that make a "street" move (the district always may)
    roles: tuple[str, ...] = ("street_officer",)


MOVES: tuple[Move, ...] = (
    Move("new", "registered", "登记建档", "street"),
    Move("new", "in_progress", "登记并开始治理", "street"),
    Move("registered", "in_progress", "开始治理", "street"),
    # the street's inspectors take the after photos: they may ask for acceptance too
    Move(
        "in_progress",
        "awaiting_acceptance",
        "提请验收",
        "street",
        needs_photos=True,
        roles=("street_officer", "inspector"),
    ),
    Move("awaiting_acceptance", "in_progress", "验收不通过，退回整改", "district", True),
    Move("awaiting_acceptance", "closed", "验收通过，销账", "district", needs_viewed_pair=True),
)
MOVE_TABLE: dict[tuple[str, str], Move] = {(m.source, m.target): m for m in MOVES}
REOPEN_TARGET = "in_progress"


def _label(status: str) -> str:
    return codes.STATUSES.get(status, status)


def forbidden_message(source: str, target: str) -> str:
    """Why `source` → `target` is not a move, in Chinese."""
    if source == target:
        return f"点位已是「{_label(source)}」状态"
    if source == "closed":
        return (
            "已销账的点位只能因抽查不合格或回潮重新打开（回到「治理中」），须说明原因；"
            f"不能直接变为「{_label(target)}」"
        )
    nexts = [f"「{_label(m.target)}」" for m in MOVES if m.source == source]
    hint = f"；「{_label(source)}」之后可以是：{'、'.join(nexts)}" if nexts else ""
    return f"不能从「{_label(source)}」变为「{_label(target)}」{hint}"


def _lock(session: Session, site_id: int, version: Any, actor: Actor) -> Site:
    site = get_site(session, site_id, for_update=True, actor=actor)
    if version is not None:
        check_version(site, version)
    return site


def _apply(
    session: Session,
    site: Site,
    actor: Actor,
    target: str,
    action: str,
    reason: str,
    **extra: Any,
) -> Site:
    source = site.status
    site.status = target
    site.version += 1
    site.updated_by = actor.name
    site.updated_at = site.status_since = clock.now()
    changes: dict[str, tuple[Any, Any]] = {"status": (source, target)}
    changes.update({k: (None, v) for k, v in extra.items()})
    record_event(session, site, actor, action, changes, reason)
    return site


def transition(
    session: Session,
    site_id: int,
    actor: Actor,
    target: str,
    reason: str = "",
    version: Any = None,
    open_steps_reason: Any = "",
) -> Site:
    """Move a site to `target` along the table; every rule is checked before anything is written.
    销账 with plan steps still open needs `open_steps_reason` (recorded with the event)."""
    target = parse_target(target)
    site = _lock(session, site_id, version, actor)
    move = MOVE_TABLE.get((site.status, target))
    if move is None:
        raise Conflict(forbidden_message(site.status, target), "to", status=site.status)
    street_code = street_code_of(session, site)
    if move.by == "district":
        require_district(actor, move.label)
    else:
        require_street_actor(actor, street_code, move.label, roles=move.roles)
    reason = clean_reason(reason, move.reason_required, move.label)
    if move.needs_photos:
        problem = acceptance_photo_problem(session, site)
        if problem:
            raise Conflict(problem, "photos")
    if move.needs_viewed_pair:
        problem = viewed_pair_problem(session, site, actor)
        if problem:
            raise Conflict(problem, "acceptance")
    if (move.source, move.target) == ("awaiting_acceptance", "in_progress"):
        return _return_with_stopped_clock(session, site, actor, reason)
    extra: dict[str, Any] = {}
    if target == "closed":
        why = clean_reason(open_steps_reason, False, "")
        open_titles = [s.title for s in plan_service.site_steps(session, site.id) if not s.done_at]
        if open_titles:
            if not why:
                raise Conflict(open_steps_message(open_titles), "open_steps_reason")
            extra["accepted_open_steps"] = open_titles
            reason = "；".join(p for p in (reason, f"未完成步骤销账理由：{why}") if p)
    return _apply(session, site, actor, target, "transition", reason, **extra)


def open_steps_message(titles: list[str]) -> str:
    """Why a site with open plan steps is not closed without a word."""
    named = "".join(f"「{t}」" for t in titles)
    return (
        f"治理方案还有 {len(titles)} 个步骤未完成：{named}。请退回街道完成这些步骤，"
        "或填写未完成步骤的销账理由后再销账"
    )


def waiting_days(session: Session, site: Site) -> int:
    """Whole days a site has waited for the office's 验收 since its submission."""
    since = last_event_at(session, site.id, "transition", "awaiting_acceptance")
    if since is None:
        return 0
    return max(0, (clock.today() - since.astimezone(clock.LOCAL_TZ).date()).days)


def _return_with_stopped_clock(session: Session, site: Site, actor: Actor, reason: str) -> Site:
    """退回整改: the days the site waited for the office do not count against its street; its
    current deadline moves on by them (recorded in the event)."""
    waited = waiting_days(session, site)
    changes: dict[str, tuple[Any, Any]] = {"status": (site.status, REOPEN_TARGET)}
    if waited and site.current_deadline is not None:
        moved = site.current_deadline + timedelta(days=waited)
        changes["current_deadline"] = (site.current_deadline, moved)
        changes["clock_stopped_days"] = (None, waited)
        site.current_deadline = moved
    site.status = REOPEN_TARGET
    site.version += 1
    site.updated_by = actor.name
    site.updated_at = site.status_since = clock.now()
    record_event(session, site, actor, "transition", changes, reason)
    return site


def close(
    session: Session,
    site_id: int,
    actor: Actor,
    comment: str = "",
    version: Any = None,
    open_steps_reason: Any = "",
) -> Site:
    """销账: the district office, after viewing the newest before/after pair side by side; with
    plan steps still open only with a reason for closing anyway."""
    return transition(session, site_id, actor, "closed", comment, version, open_steps_reason)


def reopen(
    session: Session,
    site_id: int,
    actor: Actor,
    reason: str,
    cause: str = "rebound",
    version: Any = None,
) -> Site:
    """A closed site back to 治理中: a failed spot check (抽查不合格) or a rebound (回潮).

    Spot checks (issue 8) and patrols (issue 9) call this. The site's street (its officers
    and inspectors) or the district may reopen; the reason is required.
    """
    cause = parse_cause(cause)
    reason = clean_reason(reason, True, "重新打开已销账点位")
    site = _lock(session, site_id, version, actor)
    if site.status != "closed":
        raise Conflict(
            f"只有已销账的点位才能重新打开；该点位当前为「{_label(site.status)}」", "status"
        )
    require_street_actor(
        actor, street_code_of(session, site), "重新打开点位", roles=("street_officer", "inspector")
    )
    return _apply(session, site, actor, REOPEN_TARGET, "reopen", reason, cause=cause)


def reopen_after_failed_spot_check(
    session: Session, site_id: int, actor: Actor, reason: str
) -> bool:
    """Reopen inside the caller's transaction (the spot-check service records the result too).

    The caller has checked that the actor is the district office or the inspector the site was
    assigned to (who by design never belongs to the site's street). Returns False, changing
    nothing, when the site is no longer closed.
    """
    reason = clean_reason(reason, True, "抽查不合格重新打开")
    site = session.scalar(select(Site).where(Site.id == site_id).with_for_update())
    if site is None or site.deleted_at is not None or site.status != "closed":
        return False
    _apply(session, site, actor, REOPEN_TARGET, "reopen", reason, cause="spot_check")
    return True


def reopen_after_rebound(session: Session, site: Site, actor: Actor, reason: str) -> Site:
    """A patrol finding at a closed site (回潮): reopen it inside the caller's transaction (the
    finding and its photos are written in the same one). The caller holds the site's row
    lock; the site's street (officers, inspectors) or the district may reopen."""
    reason = clean_reason(reason, True, "回潮重新打开")
    if site.status != "closed":
        raise Conflict(
            f"只有已销账的点位才能因回潮重新打开；该点位当前为「{_label(site.status)}」", "status"
        )
    require_street_actor(
        actor, street_code_of(session, site), "重新打开点位", roles=("street_officer", "inspector")
    )
    return _apply(session, site, actor, REOPEN_TARGET, "reopen", reason, cause="rebound")


# ---------------------------------------------------------------- the evidence rules


def last_event_at(
    session: Session, site_id: int, action: str, target: str | None = None
) -> datetime | None:
    """When the site last had an event of `action` (moving to `target`, if given)."""
    query = select(SiteEvent.at).where(SiteEvent.site_id == site_id, SiteEvent.action == action)
    if target is not None:
        query = query.where(SiteEvent.changes["status"][1].astext == target)
    return session.scalar(query.order_by(SiteEvent.at.desc(), SiteEvent.id.desc()).limit(1))


def acceptance_photo_problem(session: Session, site: Site) -> str | None:
    """What is missing before a site may go to 待验收 (None when nothing is)."""
    before = photo_service.newest(session, site.id, "before")
    after = photo_service.newest(session, site.id, "after")
    if before is None:
        return "提请验收前须上传至少一张整改前照片"
    if after is None:
        return "提请验收前须上传至少一张整改后照片"
    reopened = last_event_at(session, site.id, "reopen")
    if reopened is not None and after.uploaded_at < reopened:
        return f"点位于 {clock.fmt_local(reopened)} 重新打开，须上传此后拍摄的整改后照片再提请验收"
    return None


def newest_pair(session: Session, site_id: int) -> tuple[Photo | None, Photo | None]:
    return (
        photo_service.newest(session, site_id, "before"),
        photo_service.newest(session, site_id, "after"),
    )


def record_acceptance_view(session: Session, site_id: int, actor: Actor) -> AcceptanceView | None:
    """The acceptance page was shown to `actor` with the newest pair side by side.

    Recorded for district roles while the site awaits acceptance (the view is what allows them
    to close it). Returns None when there is nothing to record.
    """
    site = get_site(session, site_id, actor=actor)
    before, after = newest_pair(session, site.id)
    if not actor.is_district or site.status != "awaiting_acceptance" or not before or not after:
        return None
    view = AcceptanceView(
        district_code=site.district_code,
        site_id=site.id,
        before_photo_id=before.id,
        after_photo_id=after.id,
        actor=actor.name,
        viewed_at=clock.now(),
    )
    session.add(view)
    session.flush()
    return view


def viewed_pair_problem(session: Session, site: Site, actor: Actor) -> str | None:
    """None when `actor` opened the acceptance page for the newest pair since submission."""
    before, after = newest_pair(session, site.id)
    if before is None or after is None:
        return "缺少整改前或整改后照片，不能销账"
    since: datetime | None = last_event_at(session, site.id, "transition", "awaiting_acceptance")
    query = select(AcceptanceView.id).where(
        AcceptanceView.site_id == site.id,
        AcceptanceView.actor == actor.name,
        AcceptanceView.before_photo_id == before.id,
        AcceptanceView.after_photo_id == after.id,
    )
    if since is not None:
        query = query.where(AcceptanceView.viewed_at >= since)
    if session.scalar(query.limit(1)) is None:
        return (
            f"销账前须在验收页面并排查看最新的整改前、整改后照片（{actor.name} 尚未查看这一组照片）"
        )
    return None


# ---------------------------------------------------------------- what the pages offer


def street_move_refusal(actor: Actor, street_code: str, move: Move) -> str:
    """Why `actor` may not make a street's move, in words that fit who they are."""
    if actor.role in STREET_ROLES and actor.street_code == street_code:
        who = "、".join(ROLES[r] for r in move.roles)
        return f"{move.label}须由本街道的{who}办理（{ROLES[actor.role]}不能办理）"
    return "须由点位所在街道办理"


def available_moves(session: Session, site: Site, actor: Actor) -> list[dict[str, Any]]:
    """The moves from the site's status, each with whether this actor may make it now."""
    street_code = street_code_of(session, site)
    out: list[dict[str, Any]] = []
    for move in MOVES:
        if move.source != site.status:
            continue
        blocked = None
        if move.by == "district" and not actor.is_district:
            blocked = "须由区领导小组办公室办理"
        elif move.by == "street" and not can_act_in_street(actor, street_code, move.roles):
            blocked = street_move_refusal(actor, street_code, move)
        elif move.needs_photos:
            blocked = acceptance_photo_problem(session, site)
        elif move.needs_viewed_pair:
            blocked = viewed_pair_problem(session, site, actor)
        out.append(
            {
                "to": move.target,
                "to_label": _label(move.target),
                "label": move.label,
                "by": move.by,
                "reason_required": move.reason_required,
                "needs_viewed_pair": move.needs_viewed_pair,
                "allowed": blocked is None,
                "blocked": blocked,
            }
        )
    if site.status == "closed":
        may = can_act_in_street(actor, street_code, ("street_officer", "inspector"))
        out.append(
            {
                "to": REOPEN_TARGET,
                "to_label": _label(REOPEN_TARGET),
                "label": "重新打开（抽查不合格／回潮）",
                "by": "street",
                "reason_required": True,
                "reopen": True,
                "allowed": may,
                "blocked": None if may else "须由点位所在街道或区领导小组办公室办理",
            }
        )
    return out


def moves_table() -> list[dict[str, Any]]:
    """The table itself, for the API and the docs."""
    rows = [
        {
            "from": m.source,
            "to": m.target,
            "label": m.label,
            "by": m.by,
            "reason_required": m.reason_required,
            "needs_photos": m.needs_photos,
            "needs_viewed_pair": m.needs_viewed_pair,
        }
        for m in MOVES
    ]
    rows.append(
        {
            "from": "closed",
            "to": REOPEN_TARGET,
            "label": "重新打开（抽查不合格／回潮）",
            "by": "street",
            "reason_required": True,
            "needs_photos": False,
            "needs_viewed_pair": False,
            "via": "reopen",
        }
    )
    return rows


# ---------------------------------------------------------------- historical closures

HISTORICAL_ACCEPT_ACTION = "historical_accept"


def accept_historical_closure(
    session: Session, site_id: int, actor: Actor, comment: str = "", version: Any = None
) -> Site:
    """The office accepts the before/after pair of a site closed before the system existed:
    from now on it counts as 销账 with evidence."""
    comment = clean_reason(comment, False, "")
    site = _lock(session, site_id, version, actor)
    require_district(actor, "验收历史销账点位")
    if site.historical_source is None:
        raise Conflict(
            f"点位 {site.code} 不是历史销账点位：其销账须经提请验收和验收", "historical_source"
        )
    if site.historical_accepted_at is not None:
        raise Conflict(
            f"点位 {site.code} 的历史销账已于 {clock.fmt_local(site.historical_accepted_at)} "
            f"由 {site.historical_accepted_by} 验收",
            "historical_source",
        )
    before, after = newest_pair(session, site.id)
    if before is None or after is None:
        missing = "整改前" if before is None else "整改后"
        raise Conflict(
            f"历史销账点位 {site.code} 缺少{missing}照片：须上传整改前、整改后照片各一张后才能验收",
            "photos",
        )
    now = clock.now()
    site.historical_accepted_at = now
    site.historical_accepted_by = actor.name
    site.version += 1
    site.updated_by = actor.name
    site.updated_at = now
    record_event(
        session,
        site,
        actor,
        HISTORICAL_ACCEPT_ACTION,
        {
            "historical_accepted": (False, True),
            "before_photo": (None, before.id),
            "after_photo": (None, after.id),
        },
        comment,
    )
    session.flush()
    return site
