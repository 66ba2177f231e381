"""The inspectors' pool (执法人员库) for the double-random draw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app import clock
from gis_app.actor import Actor
from gis_app.errors import Conflict, NotFound, ValidationError
from gis_app.models import Inspector, Street
from gis_app.services.sampling.service import require_district
from gis_app.services.streets import normalise_street_code

MAX_NAME = 64


def add_inspector(
    session: Session, name: object, street: object, actor: Actor, district_code: str
) -> Inspector:
    """Add an inspector; street '' or None means a district-level inspector (any street)."""
    require_district(actor)
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("请填写执法人员姓名", "name")
    clean = name.strip()
    if len(clean) > MAX_NAME:
        raise ValidationError(f"姓名过长（最多 {MAX_NAME} 个字）", "name")
    street_code = None
    if street not in (None, ""):
        street_code = normalise_street_code(street)
        exists = street_code and session.scalar(
            select(Street.id).where(
                Street.code == street_code, Street.district_code == district_code
            )
        )
        if not exists:
            raise ValidationError(f"未知街道：{street}（本区没有这个街道代码）", "street")
    inspector = Inspector(
        district_code=district_code,
        name=clean,
        street_code=street_code,
        active=True,
        created_by=actor.name,
        created_at=clock.now(),
    )
    session.add(inspector)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"执法人员 {clean} 已在人员库中", "name") from exc
    session.commit()
    return inspector


def set_active(
    session: Session, inspector_id: int, active: bool, actor: Actor, district_code: str
) -> Inspector:
    require_district(actor)
    inspector = session.get(Inspector, inspector_id) if 0 < inspector_id < 2**31 else None
    if inspector is None or inspector.district_code != district_code:
        raise NotFound(f"没有编号为 {inspector_id} 的执法人员", "id")
    inspector.active = active
    session.commit()
    return inspector


def list_inspectors(session: Session, district_code: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Inspector, Street.name)
        .join(Street, Street.code == Inspector.street_code, isouter=True)
        .where(Inspector.district_code == district_code)
        .order_by(Inspector.id)
    ).all()
    return [
        {
            "id": i.id,
            "name": i.name,
            "street_code": i.street_code,
            "street_name": street_name or "区级",
            "active": i.active,
        }
        for i, street_name in rows
    ]
