"""Step plans (分步治理方案): a site's list of steps, each with a committed date and evidence.

The site's current deadline is its last step's date. A street may refine its plan within the
current deadline while no step is overdue; pushing the deadline later, or re-planning once
behind, goes through an extension request the district approves (features/extensions).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.campaign.service import beyond_end_message, current_end
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_street_actor, street_code_of
from gis_app.features.ledger.service import get_site, record_event
from gis_app.features.photos.models import Photo
from gis_app.features.plans.models import SiteStep
from gis_app.features.plans.schemas import MAX_ID, clean_note, parse_photo_id, parse_plan

#: typical plans, offered in the forms
SUGGESTED_STEPS = ("拆除违建部分", "恢复原状", "规范外立面", "清运建筑垃圾", "验收前自查")


def site_steps(session: Session, site_id: int) -> list[SiteStep]:
    return list(
        session.scalars(
            select(SiteStep).where(SiteStep.site_id == site_id).order_by(SiteStep.position)
        )
    )


def overdue_steps(steps: list[SiteStep], today: date) -> list[SiteStep]:
    return [s for s in steps if s.done_at is None and s.due_date < today]


def replace_open_steps(
    session: Session, site: Site, plan: list[dict], actor: Actor
) -> tuple[list[dict], list[dict]]:
    """Put `plan` in place of the steps not yet done (done steps stay); returns (old, new)."""
    existing = site_steps(session, site.id)
    old = [_plain(s) for s in existing if s.done_at is None]
    session.execute(delete(SiteStep).where(SiteStep.site_id == site.id, SiteStep.done_at.is_(None)))
    start = max((s.position for s in existing if s.done_at is not None), default=0)
    now = clock.now()
    for i, step in enumerate(plan, start=1):
        session.add(
            SiteStep(
                district_code=site.district_code,
                site_id=site.id,
                position=start + i,
                title=step["title"],
                due_date=step["due_date"],
                created_by=actor.name,
                created_at=now,
            )
        )
    session.flush()
    return old, [{"title": s["title"], "due_date": s["due_date"].isoformat()} for s in plan]


def _plain(step: SiteStep) -> dict[str, str]:
    return {"title": step.title, "due_date": step.due_date.isoformat()}


def set_plan(session: Session, site_id: int, actor: Actor, raw: Any, reason: str = "") -> Site:
    """Set the steps still to do; the last one's date becomes the site's current deadline."""
    today = clock.today()
    plan = parse_plan(raw, "steps", not_before=today)
    site = get_site(session, site_id, for_update=True, actor=actor)
    require_street_actor(actor, street_code_of(session, site), "制定分步治理方案")
    if site.status in ("closed", "awaiting_acceptance"):
        raise Conflict(f"点位为「{_status(site)}」，不能修改治理方案", "status")
    late = overdue_steps(site_steps(session, site.id), today)
    if late or (site.current_deadline is not None and site.current_deadline < today):
        raise Conflict("点位已逾期：调整方案须提出延期申请，经区领导小组办公室批准", "steps")
    last = plan[-1]["due_date"]
    if site.current_deadline is not None and last > site.current_deadline:
        raise Conflict(
            f"方案最后一步的日期 {last} 晚于当前期限 {site.current_deadline}："
            "推迟期限须提出延期申请",
            "steps",
        )
    _refuse_beyond_campaign(session, plan, actor, reason)
    old, new = replace_open_steps(session, site, plan, actor)
    changes: dict[str, tuple[Any, Any]] = {"plan": (old, new)}
    if site.current_deadline != last:
        changes["current_deadline"] = (site.current_deadline, last)
        site.current_deadline = last
    if site.committed_deadline is None:
        changes["committed_deadline"] = (None, last)
        site.committed_deadline = last
    site.version += 1
    site.updated_by = actor.name
    site.updated_at = clock.now()
    record_event(session, site, actor, "plan", changes, (reason or "").strip()[:500])
    session.flush()
    return site


def _refuse_beyond_campaign(session: Session, plan: list[dict], actor: Actor, reason: str) -> None:
    """A step past the campaign's end: refused for a street; the office decides, with a reason."""
    end = current_end(session)
    late = next((i for i, s in enumerate(plan, start=1) if end and s["due_date"] > end), None)
    if late is None or end is None:
        return
    if not actor.is_district:
        raise ValidationError(
            beyond_end_message(f"第 {late} 步的日期", plan[late - 1]["due_date"], end),
            f"steps[{late}].due_date",
        )
    if not (reason or "").strip():
        raise ValidationError(
            f"第 {late} 步的日期晚于专项行动结束日 {end}：区办决定须说明理由", "reason"
        )


def _status(site: Site) -> str:
    return codes.STATUSES[site.status]


def complete_step(
    session: Session,
    step_id: int,
    actor: Actor,
    note: Any = "",
    photo_id: Any = None,
) -> SiteStep:
    """Mark a step done with its evidence: a note, a photo of the site, or both."""
    note = clean_note(note)
    photo_id = parse_photo_id(photo_id)
    if not note and photo_id is None:
        raise ValidationError("完成步骤须留下佐证：说明或照片至少一项", "note")
    step = None
    if 0 < step_id <= MAX_ID:
        step = session.scalar(select(SiteStep).where(SiteStep.id == step_id).with_for_update())
    if step is None:
        raise NotFound(f"没有编号为 {step_id} 的治理步骤", "id")
    site = get_site(session, step.site_id, for_update=True, actor=actor)
    require_street_actor(actor, street_code_of(session, site), "完成治理步骤", roles=STREET_ROLES)
    if step.done_at is not None:
        raise Conflict(f"该步骤已于 {clock.fmt_local(step.done_at)} 完成", "id")
    if site.status != "in_progress":
        raise Conflict(f"点位为「{_status(site)}」：须在「治理中」时完成步骤", "status")
    if photo_id is not None:
        photo = session.get(Photo, photo_id) if 0 < photo_id <= MAX_ID else None
        if photo is None or photo.site_id != site.id:
            raise ValidationError(f"照片 {photo_id} 不属于该点位", "photo_id")
        photo.step_id = step.id
    step.done_at = clock.now()
    step.done_by = actor.name
    step.evidence_note = note
    record_event(
        session,
        site,
        actor,
        "step_done",
        {"step": (None, {"id": step.id, "title": step.title, "photo_id": photo_id})},
        note,
    )
    session.flush()
    return step


def step_dict(step: SiteStep, today: date) -> dict[str, Any]:
    return {
        "id": step.id,
        "position": step.position,
        "title": step.title,
        "due_date": step.due_date.isoformat(),
        "done": step.done_at is not None,
        "done_at": step.done_at.isoformat() if step.done_at else None,
        "done_at_local": clock.fmt_local(step.done_at),
        "done_by": step.done_by,
        "evidence_note": step.evidence_note,
        "overdue": step.done_at is None and step.due_date < today,
    }


def plan_rows(titles: list[str], dates: list[str]) -> list[dict[str, str]]:
    """A plan from a form's parallel step_title / step_date fields; blank rows are skipped."""
    rows = []
    for i in range(max(len(titles), len(dates))):
        title = titles[i].strip() if i < len(titles) else ""
        due = dates[i].strip() if i < len(dates) else ""
        if title or due:
            rows.append({"title": title, "due_date": due})
    return rows


def site_steps_view(
    session: Session, site_id: int, actor: Actor, today: date
) -> list[dict[str, Any]]:
    """A site's steps as the API lists them (the site must be visible to `actor`)."""
    site = get_site(session, site_id, actor=actor)
    return [step_dict(s, today) for s in site_steps(session, site.id)]
