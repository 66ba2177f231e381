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
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, ValidationError
from gis_app.features.bureaus.models import RenovationWork
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import role_label
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.ledger.service import get_site, record_event
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
        )
        .join(Street, Street.id == Site.street_id)
        .outerjoin(RenovationWork, RenovationWork.site_id == Site.id)
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
