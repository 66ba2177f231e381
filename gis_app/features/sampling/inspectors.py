"""The inspectors' pool (执法人员库) for the double-random draw.

An entry may be linked to a login (`user_id`): an active account of role inspector, whose
street the entry takes. That login then sees the sites drawn for the entry and records their
results. An entry without a login is a person whose results the office enters. The link is by
account id, not by name: names are what the reports and the public summary show and may be
shared by two people; an account's username and street may change, its id does not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.accounts.models import User
from gis_app.features.sampling.models import Inspector
from gis_app.features.sampling.service import require_district
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import normalise_street_code

MAX_NAME = 64


def _login(session: Session, username: object) -> User | None:
    """The account an entry is linked to: an active inspector (None: no login given)."""
    if username is None or (isinstance(username, str) and not username.strip()):
        return None
    if not isinstance(username, str):
        raise ValidationError("登录账户 username 必须是文字", "username")
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or user.role != "inspector":
        raise ValidationError(
            f"没有名为 {username.strip()} 的在岗执法队员账户（角色须为执法队员）", "username"
        )
    return user


def add_inspector(
    session: Session,
    name: object,
    street: object,
    actor: Actor,
    district_code: str,
    username: object = None,
) -> Inspector:
    """Add an inspector; street '' or None means a district-level inspector (any street).

    With `username` the entry is linked to that login (an active inspector): the name may be
    left out (the account's display name is taken) and the street is the account's.
    """
    require_district(actor)
    user = _login(session, username)
    if user is not None and (name is None or (isinstance(name, str) and not name.strip())):
        name = user.display_name
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
    if user is not None:
        if street_code not in (None, user.street_code):
            raise ValidationError(
                f"账户 {user.username} 属于街道 {user.street_code}，所属街道须与账户一致", "street"
            )
        street_code = user.street_code
        linked = session.scalar(select(Inspector.name).where(Inspector.user_id == user.id))
        if linked is not None:
            raise Conflict(f"账户 {user.username} 已关联执法人员 {linked}", "username")
    inspector = Inspector(
        district_code=district_code,
        name=clean,
        street_code=street_code,
        user_id=user.id if user is not None else None,
        active=True,
        created_by=actor.name,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():  # a savepoint: a refusal leaves the transaction usable
            session.add(inspector)
    except IntegrityError as exc:
        raise Conflict(f"执法人员 {clean} 已在人员库中", "name") from exc
    return inspector


def set_active(
    session: Session, inspector_id: int, active: bool, actor: Actor, district_code: str
) -> Inspector:
    require_district(actor)
    inspector = session.get(Inspector, inspector_id) if 0 < inspector_id < 2**31 else None
    if inspector is None or inspector.district_code != district_code:
        raise NotFound(f"没有编号为 {inspector_id} 的执法人员", "id")
    inspector.active = active
    session.flush()
    return inspector


def list_inspectors(session: Session, district_code: str) -> list[dict[str, Any]]:
    """The pool; a linked entry shows its login and the login's street and state."""
    rows = session.execute(
        select(Inspector, User.username, User.active, User.street_code)
        .join(User, User.id == Inspector.user_id, isouter=True)
        .where(Inspector.district_code == district_code)
        .order_by(Inspector.id)
    ).all()
    names = dict(
        session.execute(
            select(Street.code, Street.name).where(Street.district_code == district_code)
        ).all()
    )
    out = []
    for i, username, login_active, login_street in rows:
        street = login_street if i.user_id is not None else i.street_code
        out.append(
            {
                "id": i.id,
                "name": i.name,
                "street_code": street,
                "street_name": names.get(street, street) if street else "区级",
                "active": i.active,
                "username": username,
                "login_active": login_active,
            }
        )
    return out
