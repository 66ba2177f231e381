"""Who may act on which site: district roles everywhere, street roles only in their own street.

The workflow services call these before they change anything; a refusal is a 403 whose
message says in Chinese what the role would need.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_app.actor import ROLES, STREET_ROLES, Actor
from gis_app.errors import Forbidden
from gis_app.models import Site, Street


def street_code_of(session: Session, site: Site) -> str:
    return session.scalar(select(Street.code).where(Street.id == site.street_id)) or ""


def role_label(actor: Actor) -> str:
    return ROLES.get(actor.role, actor.role)


def require_district(actor: Actor, what: str) -> None:
    """Only the district office (区领导小组办公室, 区级管理员) may do `what`."""
    if not actor.is_district:
        raise Forbidden(f"{what}须由区领导小组办公室办理（当前身份：{role_label(actor)}）", "role")


def can_act_in_street(actor: Actor, street_code: str, roles: tuple[str, ...]) -> bool:
    if actor.is_district:
        return True
    return actor.role in roles and bool(actor.street_code) and actor.street_code == street_code


def require_street_actor(
    actor: Actor,
    street_code: str,
    what: str,
    roles: tuple[str, ...] = ("street_officer",),
    district_allowed: bool = True,
) -> None:
    """`what` is done by the site's own street (and, unless told otherwise, the district)."""
    if district_allowed and actor.is_district:
        return
    if actor.role not in roles:
        who = "、".join(ROLES[r] for r in roles)
        if district_allowed:
            who += "或区领导小组办公室"
        raise Forbidden(f"{what}须由{who}办理（当前身份：{role_label(actor)}）", "role")
    if not actor.street_code:
        raise Forbidden("街道用户须指定所属街道（X-Street）", "X-Street")
    if actor.street_code != street_code:
        raise Forbidden(
            f"只能办理本街道的点位：该点位属于街道 {street_code}，当前用户属于 {actor.street_code}",
            "street",
        )


def can_see_sites(actor: Actor) -> bool:
    """District and street roles see sites and their photos (bureaus have views of their own)."""
    return actor.is_district or actor.role in STREET_ROLES
