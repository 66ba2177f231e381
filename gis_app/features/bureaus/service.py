"""What the other bureaus see: each only the fields its task needs.

- Civil affairs (区民政局): persons concerned flagged in hardship, with their contact and where
  they live — for relief; no enforcement details (no deadlines, status or notes).
- Housing (区住建委): sites folded into old-building renovation, no personal data; it marks
  their works done.
- Police (公安河东分局): sites where enforcement met obstruction, with the dates, and the person
  concerned; no hardship data and no notes.
District roles see every view.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.core.text import clean_text
from gis_app.features.bureaus import renovation
from gis_app.features.bureaus.models import (
    PoliceRequest,
    ReliefRecord,
    RenovationPlan,
    RenovationWork,
)
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import (
    require_street_actor,
    role_label,
    street_code_of,
)
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.ledger.service import (
    get_site,
    live_site_id_by_code,
    record_event,
    record_site_event,
)
from gis_app.features.streets.models import Street

VIEW_ROLES = {
    "civil": ("bureau_civil", "区民政局"),
    "housing": ("bureau_housing", "区住建委"),
    "police": ("bureau_police", "公安河东分局"),
}


def require_view(actor: Actor, view: str) -> None:
    role, name = VIEW_ROLES[view]
    if not (actor.is_district or actor.role == role):
        raise Forbidden(f"该页面仅供{name}和区领导小组办公室查看（当前身份：{role_label(actor)}）")


def _live() -> list[Any]:
    return [Site.deleted_at.is_(None)]


def civil_affairs(session: Session, actor: Actor) -> list[dict[str, Any]]:
    require_view(actor, "civil")
    rows = session.execute(
        select(
            Site.id,
            Site.code,
            Street.name,
            Site.community,
            Site.address,
            Site.person_name,
            Site.person_contact,
        )
        .join(Street, Street.id == Site.street_id)
        .where(*_live(), Site.flag_hardship.is_(True))
        .order_by(Street.code, Site.code)
    ).all()
    return [
        {
            "site_id": r[0],
            "code": r[1],
            "street": r[2],
            "community": r[3],
            "address": r[4],
            "person_name": r[5],
            "person_contact": r[6],
            "hardship": True,
        }
        for r in rows
    ]


def housing(session: Session, actor: Actor) -> list[dict[str, Any]]:
    require_view(actor, "housing")
    rows = session.execute(
        select(
            Site.id,
            Site.code,
            Street.name,
            Site.community,
            Site.address,
            Site.kind,
            Site.area_m2,
            Site.disposition,
            Site.status,
            Site.current_deadline,
            RenovationWork.done_on,
            RenovationWork.marked_by,
            RenovationWork.note,
            RenovationPlan.id,
            RenovationPlan.status,
        )
        .join(Street, Street.id == Site.street_id)
        .outerjoin(RenovationWork, RenovationWork.site_id == Site.id)
        .outerjoin(RenovationPlan, RenovationPlan.site_id == Site.id)
        .where(*_live(), Site.flag_renovation.is_(True))
        .order_by(RenovationWork.done_on.is_not(None), Street.code, Site.code)
    ).all()
    return [
        {
            "site_id": r[0],
            "code": r[1],
            "street": r[2],
            "community": r[3],
            "address": r[4],
            "kind": codes.label(codes.KINDS, r[5]),
            "area_m2": float(r[6]) if r[6] is not None else None,
            "disposition": codes.label(codes.DISPOSITIONS, r[7]),
            "status": codes.label(codes.STATUSES, r[8]),
            "current_deadline": r[9].isoformat() if r[9] else None,
            "works_done_on": r[10].isoformat() if r[10] else None,
            "works_marked_by": r[11],
            "works_note": r[12] or "",
            "plan_id": r[13],
            "plan_status": r[14],
            "plan_status_label": codes.label(codes.RENOVATION_PLAN_STATUSES, r[14]) or "未报送",
        }
        for r in rows
    ]


def mark_renovation_done(
    session: Session, site_id: int, actor: Actor, done_on: Any = None, note: Any = ""
) -> RenovationWork:
    """Housing records that the renovation works of a site are done (once)."""
    require_view(actor, "housing")
    when = parse_date(done_on, "done_on") if done_on not in (None, "") else clock.today()
    assert when is not None
    if when > clock.today():
        raise ValidationError(f"完工日期 {when} 不能晚于今天", "done_on")
    if not isinstance(note, str | type(None)):
        raise ValidationError("说明必须是文字", "note")
    text = (note or "").strip()
    if len(text) > 500:
        raise ValidationError("说明过长（最多 500 个字）", "note")
    # no row lock on the site (housing may not update sites); the works' primary key is the
    # site, so a second marking at the same moment fails on the insert below
    site = get_site(session, site_id, actor=actor)
    if not site.flag_renovation:
        raise Conflict("该点位未纳入旧楼区改造", "site_id")
    existing = session.get(RenovationWork, site.id)
    if existing is not None:
        raise Conflict(
            f"该点位的改造工程已于 {existing.done_on} 标记完工（{existing.marked_by}）", "site_id"
        )
    work = RenovationWork(
        site_id=site.id,
        district_code=site.district_code,
        done_on=when,
        note=text,
        marked_by=actor.name,
        marked_at=clock.now(),
    )
    try:
        with session.begin_nested():  # a savepoint: a refusal leaves the transaction usable
            session.add(work)
    except IntegrityError as exc:
        raise Conflict("该点位的改造工程已标记完工", "site_id") from exc
    record_event(
        session, site, actor, "renovation_done", {"renovation_done_on": (None, when)}, text
    )
    session.flush()
    return work


def police(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Obstruction sites with the dates obstruction was recorded (the flag set on the site)."""
    require_view(actor, "police")
    flagged = (
        select(
            SiteEvent.site_id,
            func.array_agg(func.date(func.timezone("Asia/Shanghai", SiteEvent.at))).label("dates"),
        )
        .where(SiteEvent.changes["flag_obstruction"][1].astext == "true")
        .group_by(SiteEvent.site_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Site.id,
            Site.code,
            Street.name,
            Site.community,
            Site.address,
            Site.person_name,
            Site.person_contact,
            Site.status,
            Site.disposition,
            Site.current_deadline,
            Site.created_at,
            flagged.c.dates,
        )
        .join(Street, Street.id == Site.street_id)
        .outerjoin(flagged, flagged.c.site_id == Site.id)
        .where(*_live(), Site.flag_obstruction.is_(True))
        .order_by(Street.code, Site.code)
    ).all()
    out = []
    for r in rows:
        dates: list[date] = sorted(set(r[11] or [])) or [clock.to_local(r[10]).date()]
        out.append(
            {
                "site_id": r[0],
                "code": r[1],
                "street": r[2],
                "community": r[3],
                "address": r[4],
                "person_name": r[5],
                "person_contact": r[6],
                "status": codes.label(codes.STATUSES, r[7]),
                "disposition": codes.label(codes.DISPOSITIONS, r[8]),
                "current_deadline": r[9].isoformat() if r[9] else None,
                "obstruction_dates": [d.isoformat() for d in dates],
            }
        )
    return out


# ---------------------------------------------------------------- 公安 support requests

POLICE_STATUSES = {
    "requested": "待公安受理",
    "accepted": "已受理",
    "declined": "不予受理",
    "done": "已处置",
}
MAX_NOTE = 2000


def _text(value: Any, field: str, label: str, required: bool) -> str:
    return clean_text(value, field, label, required, MAX_NOTE)


def request_police(
    session: Session, site_id: int, actor: Actor, wanted_on: Any, reason: Any
) -> PoliceRequest:
    """The site's street officer asks 公安 for support on a day (today or later)."""
    site = get_site(session, site_id, actor=actor)
    require_street_actor(
        actor, street_code_of(session, site), "申请公安协助", district_allowed=False
    )
    day = parse_date(wanted_on, "wanted_on")
    if day is None:
        raise ValidationError("缺少需要协助的日期", "wanted_on")
    if day < clock.today():
        raise ValidationError(f"协助日期不能早于今天（{clock.today()}）", "wanted_on")
    reason = _text(reason, "reason", "申请事由", True)
    req = PoliceRequest(
        district_code=site.district_code,
        site_id=site.id,
        street_id=site.street_id,
        site_code=site.code,
        address=site.address,
        wanted_on=day,
        reason=reason,
        requested_by=actor.name,
        requested_at=clock.now(),
    )
    session.add(req)
    record_event(
        session, site, actor, "police_request", {"police_request": (None, str(day))}, reason
    )
    session.flush()
    return req


def _police_request(session: Session, request_id: int, actor: Actor) -> PoliceRequest:
    req = session.get(PoliceRequest, request_id) if 0 < request_id < 2**63 else None
    if req is None or not (
        actor.is_district
        or actor.role == "bureau_police"
        or (
            actor.role in STREET_ROLES and _street_code(session, req.street_id) == actor.street_code
        )
    ):
        raise NotFound(f"没有编号为 {request_id} 的协助申请", "request_id")
    return req


def _street_code(session: Session, street_id: int) -> str:
    return session.scalar(select(Street.code).where(Street.id == street_id)) or ""


def answer_police(
    session: Session, request_id: int, actor: Actor, accept: Any, note: Any = ""
) -> PoliceRequest:
    """公安 accepts or declines (a reason is required to decline)."""
    req = _police_request(session, request_id, actor)
    if actor.role != "bureau_police":
        raise Forbidden("协助申请须由公安河东分局受理", "role")
    if accept not in ("accept", "decline"):
        raise ValidationError("须是 accept（受理）或 decline（不予受理）", "decision")
    note = _text(note, "note", "说明", accept == "decline")
    if req.status != "requested":
        raise Conflict(f"该申请已{POLICE_STATUSES[req.status]}", "status")
    req.status = "accepted" if accept == "accept" else "declined"
    req.answered_by, req.answered_at, req.answer_note = actor.name, clock.now(), note
    _police_event(
        session,
        req,
        actor,
        "police_accepted" if req.status == "accepted" else "police_declined",
        {"police_request": (str(req.wanted_on), POLICE_STATUSES[req.status])},
        note,
    )
    session.flush()
    return req


def police_outcome(
    session: Session, request_id: int, actor: Actor, outcome: Any, violent: Any, case_number: Any
) -> PoliceRequest:
    """公安 records the outcome of an accepted request; 暴力抗法 needs its case number."""
    req = _police_request(session, request_id, actor)
    if actor.role != "bureau_police":
        raise Forbidden("处置结果须由公安河东分局记录", "role")
    outcome = _text(outcome, "outcome", "处置结果", True)
    if not isinstance(violent, bool):
        raise ValidationError("是否暴力抗法须是 true 或 false", "violent")
    case_number = _text(case_number, "case_number", "案件编号", violent)
    if len(case_number) > 64:
        raise ValidationError("案件编号过长（最多 64 个字）", "case_number")
    if req.status != "accepted":
        raise Conflict("只有已受理的申请可以记录处置结果", "status")
    req.status = "done"
    req.outcome, req.violent, req.case_number, req.outcome_at = (
        outcome,
        violent,
        case_number,
        clock.now(),
    )
    changes = {"police_outcome": (None, outcome)}
    if violent:
        changes["police_case_number"] = (None, case_number)
    _police_event(session, req, actor, "police_outcome", changes, "")
    session.flush()
    return req


def _police_event(
    session: Session,
    req: PoliceRequest,
    actor: Actor,
    action: str,
    changes: dict[str, tuple[str | None, str]],
    reason: str,
) -> None:
    """公安's answer or outcome on the site's timeline (the police read no site row itself)."""
    record_site_event(session, req.district_code, req.site_id, actor, action, changes, reason)


def police_requests(
    session: Session, actor: Actor, status: str | None = None
) -> list[dict[str, Any]]:
    """The requests `actor` may see: the district and the police all, a street its own."""
    if not (actor.is_district or actor.role == "bureau_police" or actor.role in STREET_ROLES):
        raise Forbidden(f"无权查看协助申请（当前身份：{role_label(actor)}）", "role")
    query = select(PoliceRequest, Street.code, Street.name).join(
        Street, Street.id == PoliceRequest.street_id
    )
    if actor.role in STREET_ROLES:
        query = query.where(Street.code == (actor.street_code or ""))
    if status:
        query = query.where(PoliceRequest.status == status)
    return [
        {
            "id": r.id,
            "site_id": r.site_id,
            "site_code": r.site_code,
            "address": r.address,
            "street_code": s_code,
            "street": s_name,
            "wanted_on": r.wanted_on.isoformat(),
            "reason": r.reason,
            "status": r.status,
            "status_label": POLICE_STATUSES[r.status],
            "requested_by": r.requested_by,
            "answer_note": r.answer_note,
            "outcome": r.outcome,
            "violent": r.violent,
            "case_number": r.case_number,
        }
        for r, s_code, s_name in session.execute(
            query.order_by(PoliceRequest.wanted_on, PoliceRequest.id)
        ).all()
    ]


def request_police_by_code(
    session: Session, site_code: Any, actor: Actor, wanted_on: Any, reason: Any
) -> PoliceRequest:
    """As request_police, the site named by its code (the page's form)."""
    site_id = live_site_id_by_code(session, site_code)
    return request_police(session, site_id, actor, wanted_on, reason)


# ---------------------------------------------------------------- 民政 relief


def record_relief(
    session: Session, site_id: int, actor: Actor, what: Any, given_on: Any
) -> ReliefRecord:
    """The civil-affairs bureau records relief given to a site's hardship person."""
    if actor.role != "bureau_civil":
        raise Forbidden("救助记录须由区民政局登记", "role")
    site = get_site(session, site_id, actor=actor)  # its view: hardship sites only
    if not site.flag_hardship:
        raise NotFound(f"没有编号为 {site_id} 的点位", "id")
    what = _text(what, "what", "救助内容", True)
    day = parse_date(given_on, "given_on")
    if day is None:
        raise ValidationError("缺少救助日期", "given_on")
    if day > clock.today():
        raise ValidationError(f"救助日期不能晚于今天（{clock.today()}）", "given_on")
    row = ReliefRecord(
        district_code=site.district_code,
        site_id=site.id,
        street_id=site.street_id,
        what=what,
        given_on=day,
        recorded_by=actor.name,
        recorded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def relief_records(
    session: Session, actor: Actor, site_id: int | None = None
) -> list[dict[str, Any]]:
    """Relief records: the district, the site's street and the civil bureau; nobody else."""
    if not (actor.is_district or actor.role == "bureau_civil" or actor.role in STREET_ROLES):
        raise Forbidden(f"无权查看救助记录（当前身份：{role_label(actor)}）", "role")
    query = select(ReliefRecord, Street.code, Street.name).join(
        Street, Street.id == ReliefRecord.street_id
    )
    if actor.role in STREET_ROLES:
        query = query.where(Street.code == (actor.street_code or ""))
    if site_id is not None:
        query = query.where(ReliefRecord.site_id == site_id)
    return [
        {
            "id": r.id,
            "site_id": r.site_id,
            "street_code": code,
            "street": name,
            "what": r.what,
            "given_on": r.given_on.isoformat(),
            "recorded_by": r.recorded_by,
        }
        for r, code, name in session.execute(
            query.order_by(ReliefRecord.given_on.desc(), ReliefRecord.id.desc())
        ).all()
    ]


# ---------------------------------------------------------------- 住建委 plans (see renovation)


def renovation_plans(
    session: Session, actor: Actor, status: str | None = None
) -> list[dict[str, Any]]:
    """The renovation sites' 规范治理 plans `actor` may see (renovation.list_plans)."""
    return renovation.list_plans(session, actor, status)
