"""Who may act on which site: district roles everywhere, street roles only in their own street.

The workflow services call these before they change anything; a refusal is a 403 whose
message says in Chinese what the role would need.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from gis_app.core import codes
from gis_app.core.actor import ROLES, STREET_ROLES, Actor
from gis_app.core.errors import Forbidden
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import Street


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
        # the other street is not named: where a point lies is that street's business
        raise Forbidden(
            f"只能办理本街道的点位：该点位不在本街道（{actor.street_code}）范围内", "street"
        )


def can_see_sites(actor: Actor) -> bool:
    """District and street roles see sites and their photos (bureaus have views of their own)."""
    return actor.is_district or actor.role in STREET_ROLES


# ---------------------------------------------------------------- street scope (属地管理)

#: bureaus see the sites of their task across the district; media and agencies see every
#: site but never personal data
BUREAU_FLAGS = {
    "bureau_civil": "flag_hardship",
    "bureau_housing": "flag_renovation",
    "bureau_police": "flag_obstruction",
}
OPEN_DATA_ROLES = ("bureau_media", "agency")


def site_scope(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on Site that keep a query to what `actor` may see (the service layer's wall;
    PostgreSQL's row-level security is the second one, with the same rules)."""
    if actor.is_district or actor.role in OPEN_DATA_ROLES:
        return []
    if actor.role in STREET_ROLES:
        if not actor.street_code:
            return [false()]
        own = select(Street.id).where(Street.code == actor.street_code).scalar_subquery()
        return [Site.street_id == own]
    flag = BUREAU_FLAGS.get(actor.role)
    if flag is not None:
        return [getattr(Site, flag).is_(True)]
    return [false()]


def sees_site(session: Session, site: Site, actor: Actor) -> bool:
    if actor.is_district or actor.role in OPEN_DATA_ROLES:
        return True
    if actor.role in STREET_ROLES:
        return bool(actor.street_code) and street_code_of(session, site) == actor.street_code
    flag = BUREAU_FLAGS.get(actor.role)
    return bool(flag and getattr(site, flag))


def sees_street(actor: Actor, street_code: str) -> bool:
    """Street-level data (reports, a street's dashboard): the district, or that street."""
    if actor.is_district:
        return True
    return actor.role in STREET_ROLES and actor.street_code == street_code


def own_street(actor: Actor) -> str | None:
    """The street a street role is bound to (None for everyone else)."""
    return actor.street_code if actor.role in STREET_ROLES else None


def sees_personal_data(actor: Actor, street_code: str) -> bool:
    """The persons concerned: the district, and the site's own street's officers."""
    return actor.is_district or (
        actor.role in STREET_ROLES and bool(actor.street_code) and actor.street_code == street_code
    )


# ---------------------------------------------------------------- fields a role may see

#: the site fields that say something about the person concerned (相对人): the district and the
#: site's own street see them; a bureau only its own flag; media and agencies none
PERSONAL_SITE_FIELDS: frozenset[str] = frozenset((*codes.PERSONAL_FIELDS, "note"))


def hidden_fields(actor: Actor) -> frozenset[str]:
    """The site fields `actor` is never shown, so may not filter on either: a filter on a field
    one cannot see tells which sites carry it (flag=hardship: the households in hardship)."""
    if actor.is_district or actor.role in STREET_ROLES:
        # a street role's scope is its own street, whose persons concerned it sees
        return frozenset()
    return PERSONAL_SITE_FIELDS - {BUREAU_FLAGS.get(actor.role, "")}


def field_label(name: str) -> str:
    if name.startswith("flag_") and name[5:] in codes.FLAGS:
        return codes.FLAGS[name[5:]]
    return {"person_name": "相对人", "person_contact": "联系电话", "note": "备注"}.get(name, name)


def require_visible_filters(actor: Actor | None, fields: Iterable[str]) -> None:
    """Refuse (403, naming the field) a filter on a field `actor` may not see; the one check
    behind the site list, counts, exports, OGC items, tiles and maps (None: a command)."""
    if actor is None:
        return
    hidden = sorted(set(fields) & hidden_fields(actor))
    if hidden:
        names = "、".join(f"{field_label(f)}（{f}）" for f in hidden)
        raise Forbidden(
            f"无权按 {names} 筛选：该字段不对当前身份公开（当前身份：{role_label(actor)}）",
            hidden[0],
        )


def visible_flags(actor: Actor) -> dict[str, str]:
    """The flags `actor` may see and filter on (code -> Chinese label), for the forms."""
    hidden = hidden_fields(actor)
    return {code: label for code, label in codes.FLAGS.items() if f"flag_{code}" not in hidden}


def require_site_reader(actor: Actor) -> None:
    """Refuse a role that sees no site at all (the bureaus' own pages excepted)."""
    if not can_see_sites(actor):
        raise Forbidden(f"无权查看（当前身份：{role_label(actor)}）", "role")
