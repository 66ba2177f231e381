"""住建委 and the 规范治理 plan of an old-building renovation site (plan 四(三)): "由所属街道提出
统一规范治理方案，待方案得到审批后，区住建委旧楼改造指挥部按照方案实施规范整修".

The site's street submits the plan (what will be done, and its steps with dates) to the
housing committee; the committee approves it, or returns it with its comments; the street
revises and resubmits; once approved, the committee records the works done.

    (none) --submit--> submitted --approve--> approved --works--> (works recorded)
                           |  ^
                    return |  | resubmit
                           v  |
                         returned

Scope: the district roles and the site's street see a plan; the housing committee sees every
plan (each is addressed to it); other bureaus and other streets are told it does not exist
(404). Row-level security (migration 0100) is the second wall. Every act is an event of the
site (its timeline) and, by the tables' triggers, in the audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.core import clock, codes, text
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.accounts.service import display_names
from gis_app.features.bureaus.models import RenovationPlan, RenovationPlanWork
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_street_actor, role_label, street_code_of
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.ledger.service import get_site, live_site_id_by_code, record_event
from gis_app.features.plans.schemas import MAX_ID, parse_plan
from gis_app.features.streets.models import Street

STATUSES = codes.RENOVATION_PLAN_STATUSES
HOUSING = "bureau_housing"
MAX_TEXT = 2000
DECISIONS = {"approve": "批准", "return": "退回修改"}


def _text(value: Any, field: str, label: str, required: bool) -> str:
    return text.clean_text(value, field, label, required, MAX_TEXT)


def may_read(actor: Actor) -> bool:
    return actor.is_district or actor.role in STREET_ROLES or actor.role == HOUSING


def _plain_steps(steps: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"title": s["title"], "due_date": s["due_date"].isoformat()} for s in steps]


def _checked_plan(site: Site, content: Any, steps: Any) -> tuple[str, list[dict[str, str]]]:
    """The plan's text and steps (no step before today, none after the site's deadline)."""
    content = _text(content, "content", "治理内容", True)
    plan = parse_plan(steps, "steps", not_before=clock.today())
    last = plan[-1]["due_date"]
    if site.current_deadline is not None and last > site.current_deadline:
        raise ValidationError(
            f"方案最后一步的日期 {last} 晚于点位当前期限 {site.current_deadline}："
            "推迟期限须先提出延期申请",
            f"steps[{len(plan)}].due_date",
        )
    return content, _plain_steps(plan)


def _own_site(session: Session, site_id: int, actor: Actor, what: str) -> Site:
    """The renovation site `actor` (its street's officer) acts on."""
    site = get_site(session, site_id, for_update=True, actor=actor)
    require_street_actor(actor, street_code_of(session, site), what, district_allowed=False)
    return site


def submit(
    session: Session, site_id: int, actor: Actor, content: Any, steps: Any
) -> RenovationPlan:
    """The site's street submits its 规范治理 plan to the housing committee (once per site;
    a returned plan is resubmitted, see `resubmit`)."""
    site = _own_site(session, site_id, actor, "报送旧楼区改造点位的规范治理方案")
    if not site.flag_renovation:
        raise Conflict(
            f"点位 {site.code} 未纳入旧楼区改造：规范治理方案只报送纳入旧楼区改造的点位", "site"
        )
    if site.status == "closed":
        raise Conflict(f"点位 {site.code} 已销账，不需要报送方案", "site")
    content, steps = _checked_plan(site, content, steps)
    existing = session.scalar(select(RenovationPlan).where(RenovationPlan.site_id == site.id))
    if existing is not None:
        raise Conflict(
            f"点位 {site.code} 已有方案（第 {existing.id} 号，{STATUSES[existing.status]}）"
            + ("：请修改后重新报送" if existing.status == "returned" else ""),
            "site",
        )
    plan = RenovationPlan(
        district_code=site.district_code,
        site_id=site.id,
        street_id=site.street_id,
        content=content,
        steps=steps,
        status="submitted",
        revision=1,
        submitted_by=actor.name,
        submitted_at=clock.now(),
    )
    try:
        with session.begin_nested():  # a second submission at the same moment fails here
            session.add(plan)
    except IntegrityError as exc:
        raise Conflict(f"点位 {site.code} 已有方案", "site") from exc
    record_event(
        session,
        site,
        actor,
        "renovation_plan_submitted",
        {"renovation_plan": (None, "submitted"), "renovation_steps": (None, steps)},
        content,
    )
    session.flush()
    return plan


def submit_by_code(
    session: Session, site_code: Any, actor: Actor, content: Any, steps: Any
) -> RenovationPlan:
    """As `submit`, the site named by its code (the page's form)."""
    site_id = live_site_id_by_code(session, site_code)
    return submit(session, site_id, actor, content, steps)


def get_plan(
    session: Session, plan_id: int, actor: Actor, for_update: bool = False
) -> RenovationPlan:
    """A plan `actor` may see; any other is one that does not exist (404)."""
    plan = None
    if may_read(actor) and 0 < plan_id <= MAX_ID:
        query = select(RenovationPlan).where(RenovationPlan.id == plan_id)
        plan = session.scalar(query.with_for_update() if for_update else query)
    if plan is not None and actor.role in STREET_ROLES:
        own = session.scalar(select(Street.id).where(Street.code == (actor.street_code or "")))
        if plan.street_id != own:
            plan = None
    if plan is None:
        raise NotFound(f"没有编号为 {plan_id} 的改造治理方案", "plan_id")
    return plan


def resubmit(
    session: Session, plan_id: int, actor: Actor, content: Any, steps: Any
) -> RenovationPlan:
    """The street revises a returned plan and submits it again."""
    plan = get_plan(session, plan_id, actor, for_update=True)
    site = _own_site(session, plan.site_id, actor, "修改并重新报送规范治理方案")
    content, steps = _checked_plan(site, content, steps)
    if plan.status != "returned":
        raise Conflict(f"方案{STATUSES[plan.status]}：只有被退回的方案可以修改后重新报送", "status")
    old_steps = plan.steps
    plan.content, plan.steps, plan.status = content, steps, "submitted"
    plan.revision += 1
    plan.submitted_by, plan.submitted_at = actor.name, clock.now()
    record_event(
        session,
        site,
        actor,
        "renovation_plan_resubmitted",
        {"renovation_plan": ("returned", "submitted"), "renovation_steps": (old_steps, steps)},
        content,
    )
    session.flush()
    return plan


def _housing_site(session: Session, plan: RenovationPlan, actor: Actor, what: str) -> Site:
    if actor.role != HOUSING:
        raise Forbidden(f"{what}须由区住建委办理（当前身份：{role_label(actor)}）", "role")
    site = session.get(Site, plan.site_id)  # the committee sees renovation sites only
    if site is None or site.deleted_at is not None or not site.flag_renovation:
        raise Conflict("该点位已不再纳入旧楼区改造，请与区领导小组办公室核实", "plan_id")
    return site


def review(
    session: Session, plan_id: int, actor: Actor, decision: Any, comment: Any = ""
) -> RenovationPlan:
    """The housing committee approves a submitted plan or returns it (with its comments)."""
    plan = get_plan(session, plan_id, actor, for_update=True)
    site = _housing_site(session, plan, actor, "审核规范治理方案")
    if decision not in DECISIONS:
        raise ValidationError("审核结论须是 approve（批准）或 return（退回修改）", "decision")
    comment = _text(comment, "comment", "审核意见（退回须说明理由）", decision == "return")
    if plan.status != "submitted":
        raise Conflict(f"方案{STATUSES[plan.status]}，不能再审核", "status")
    new = "approved" if decision == "approve" else "returned"
    plan.status = new
    plan.reviewed_by, plan.reviewed_at, plan.review_comment = actor.name, clock.now(), comment
    record_event(
        session,
        site,
        actor,
        f"renovation_plan_{new}",
        {"renovation_plan": ("submitted", new)},
        comment,
    )
    session.flush()
    return plan


def record_works(
    session: Session, plan_id: int, actor: Actor, done_on: Any, what: Any, note: Any = ""
) -> RenovationPlanWork:
    """The housing committee records works done under an approved plan."""
    plan = get_plan(session, plan_id, actor, for_update=True)
    site = _housing_site(session, plan, actor, "记录改造施工")
    day = parse_date(done_on, "done_on")
    if day is None:
        raise ValidationError("缺少施工日期", "done_on")
    if day > clock.today():
        raise ValidationError(f"施工日期不能晚于今天（{clock.today()}）", "done_on")
    what = _text(what, "what", "施工内容", True)
    note = _text(note, "note", "说明", False)
    if plan.status != "approved":
        raise Conflict(f"方案{STATUSES[plan.status]}：方案经区住建委批准后才能记录施工", "status")
    approved_on = clock.to_local(plan.reviewed_at).date() if plan.reviewed_at else None
    if approved_on and day < approved_on:
        raise ValidationError(f"施工日期不能早于方案批准日期（{approved_on}）", "done_on")
    work = RenovationPlanWork(
        district_code=plan.district_code,
        plan_id=plan.id,
        site_id=plan.site_id,
        street_id=plan.street_id,
        done_on=day,
        what=what,
        note=note,
        recorded_by=actor.name,
        recorded_at=clock.now(),
    )
    session.add(work)
    record_event(
        session,
        site,
        actor,
        "renovation_works",
        {"renovation_works": (None, {"done_on": day.isoformat(), "what": what})},
        note,
    )
    session.flush()
    return work


# ---------------------------------------------------------------- reading


def _works_counts(session: Session, plan_ids: list[int]) -> dict[int, tuple[int, date | None]]:
    if not plan_ids:
        return {}
    rows = session.execute(
        select(RenovationPlanWork.plan_id, func.count(), func.max(RenovationPlanWork.done_on))
        .where(RenovationPlanWork.plan_id.in_(plan_ids))
        .group_by(RenovationPlanWork.plan_id)
    )
    return {pid: (n, last) for pid, n, last in rows}


def _row(
    plan: RenovationPlan,
    site_code: str,
    address: str,
    street: tuple[str, str],
    names: dict[str, str],
    works: tuple[int, date | None],
) -> dict[str, Any]:
    return {
        "id": plan.id,
        "site_id": plan.site_id,
        "site_code": site_code,
        "address": address,
        "street_code": street[0],
        "street": street[1],
        "content": plan.content,
        "steps": plan.steps,
        "status": plan.status,
        "status_label": STATUSES[plan.status],
        "revision": plan.revision,
        "submitted_by": names.get(plan.submitted_by, plan.submitted_by),
        "submitted_at": plan.submitted_at.isoformat(),
        "submitted_at_local": clock.fmt_local(plan.submitted_at),
        "reviewed_by": names.get(plan.reviewed_by or "", plan.reviewed_by),
        "reviewed_at_local": clock.fmt_local(plan.reviewed_at) if plan.reviewed_at else None,
        "review_comment": plan.review_comment,
        "works": works[0],
        "last_works_on": works[1].isoformat() if works[1] else None,
    }


def list_plans(
    session: Session, actor: Actor, status: str | None = None, plan_id: int | None = None
) -> list[dict[str, Any]]:
    """The plans `actor` may see (a street: its own), those waiting longest first."""
    if not may_read(actor):
        raise Forbidden(f"无权查看改造治理方案（当前身份：{role_label(actor)}）", "role")
    if status is not None and status not in STATUSES:
        allowed = "、".join(f"{k}（{v}）" for k, v in STATUSES.items())
        raise ValidationError(f"状态无效：{status}（可选：{allowed}）", "status")
    query = (
        select(RenovationPlan, Site.code, Site.address, Street.code, Street.name)
        .join(Site, Site.id == RenovationPlan.site_id)
        .join(Street, Street.id == RenovationPlan.street_id)
    )
    if actor.role in STREET_ROLES:
        query = query.where(Street.code == (actor.street_code or ""))
    if status:
        query = query.where(RenovationPlan.status == status)
    if plan_id is not None:
        query = query.where(RenovationPlan.id == plan_id)
    rows = session.execute(query.order_by(RenovationPlan.submitted_at, RenovationPlan.id)).all()
    names = display_names(
        session, [u for r in rows for u in (r[0].submitted_by, r[0].reviewed_by or "")]
    )
    works = _works_counts(session, [r[0].id for r in rows])
    return [
        _row(p, code, address, (s_code, s_name), names, works.get(p.id, (0, None)))
        for p, code, address, s_code, s_name in rows
    ]


def plan_view(session: Session, plan_id: int, actor: Actor) -> dict[str, Any]:
    """One plan with the works recorded under it (404 outside `actor`'s scope)."""
    plan = get_plan(session, plan_id, actor)
    rows = list_plans(session, actor, plan_id=plan.id)
    if not rows:  # its site is gone from the committee's view
        raise NotFound(f"没有编号为 {plan_id} 的改造治理方案", "plan_id")
    works = session.scalars(
        select(RenovationPlanWork)
        .where(RenovationPlanWork.plan_id == plan.id)
        .order_by(RenovationPlanWork.done_on, RenovationPlanWork.id)
    ).all()
    names = display_names(session, [w.recorded_by for w in works])
    return {
        **rows[0],
        "works_done": [
            {
                "id": w.id,
                "done_on": w.done_on.isoformat(),
                "what": w.what,
                "note": w.note,
                "recorded_by": names.get(w.recorded_by, w.recorded_by),
            }
            for w in works
        ],
    }


def plan_of_site(session: Session, site_id: int, actor: Actor) -> dict[str, Any] | None:
    """The plan of a site, if it has one and `actor` may see it (the site page's link)."""
    if not may_read(actor):
        return None
    plan_id = session.scalar(select(RenovationPlan.id).where(RenovationPlan.site_id == site_id))
    if plan_id is None:
        return None
    rows = list_plans(session, actor, plan_id=plan_id)
    return rows[0] if rows else None
