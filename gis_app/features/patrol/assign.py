"""Sites chosen in the ledger list given to a patrol (安排巡查): a new patrol of exactly those
sites for an inspector and a day, or more stops of a patrol not yet started (its route is
planned again over the old and the new stops). The office for any sites, a street office for
its own; one transaction; the database's audit trigger records the patrol and its stops.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import own_street, site_scope
from gis_app.features.patrol.areas import MAX_SITES, Area, read_site_ids, sites_area
from gis_app.features.patrol.models import Patrol, PatrolStop
from gis_app.features.patrol.plans import (
    MAX_TITLE,
    STATUSES,
    create_patrol,
    get_patrol,
    point_of,
    route_record,
)
from gis_app.features.patrol.priorities import Priorities, select_candidates
from gis_app.features.streets.models import Street

#: who hands sites to a patrol: the district office, and a street office for its own sites
ASSIGNERS = ("district_admin", "district_officer", "street_officer")


@dataclass(frozen=True)
class Assignment:
    """A request as given, checked for what needs no database."""

    sites: tuple[int, ...]
    patrol_id: int | None = None  # an existing patrol (else a new one)
    assignee: str = ""  # a new patrol: the inspector's account name
    day: date | None = None  # a new patrol: the day it is planned for
    title: str = ""


@dataclass(frozen=True)
class Assigned:
    patrol: Patrol
    created: bool
    added: int  # stops added (a new patrol: all of them)
    already: int  # chosen sites that were stops of the patrol already


def _patrol_id(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    text_value = str(raw).strip()
    if isinstance(raw, bool) or not text_value.isdigit() or not 0 < int(text_value) < 2**63:
        raise ValidationError(f"所选巡查无效：{raw!r}", "patrol_id")
    return int(text_value)


def _day(raw: Any) -> date:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationError("请填写巡查日期", "date")
    try:
        day = date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValidationError(f"巡查日期格式不对：{raw}（应为 年-月-日）", "date") from None
    today = clock.today()
    if day < today:
        raise ValidationError(f"巡查日期 {day} 已过去：请选择今天（{today}）或以后", "date")
    return day


def read_assignment(raw: Any) -> Assignment:
    """Check a request {sites, patrol_id | assignee + date, title}; errors name the field."""
    if not isinstance(raw, dict):
        raise ValidationError("请求体必须是对象", "body")
    sites = read_site_ids(raw.get("sites"), "sites")
    title = raw.get("title") or ""
    if not isinstance(title, str):
        raise ValidationError("标题必须是文字", "title")
    if len(title.strip()) > MAX_TITLE:
        raise ValidationError(f"标题过长（最多 {MAX_TITLE} 个字）", "title")
    patrol_id = _patrol_id(raw.get("patrol_id"))
    if patrol_id is not None:
        return Assignment(sites, patrol_id, title=title.strip())
    assignee = raw.get("assignee")
    if not isinstance(assignee, str) or not assignee.strip():
        raise ValidationError("请选择执行巡查的执法队员", "assignee")
    return Assignment(sites, None, assignee.strip(), _day(raw.get("date")), title.strip())


def _require_assigner(actor: Actor) -> None:
    if actor.role not in ASSIGNERS:
        raise Forbidden("只有区领导小组办公室和街道办事处可以安排巡查", "role")


def _street_name(session: Session, code: str | None) -> str:
    name = session.scalar(select(Street.name).where(Street.code == code)) if code else None
    return name or "全区"


@dataclass(frozen=True)
class Inspector:
    username: str
    name: str
    street_code: str


def _all_inspectors(session: Session) -> list[Inspector]:
    """The active inspectors (the users table is closed to street roles: read through the
    database function access.inspectors, migration 0120)."""
    rows = session.execute(
        text("SELECT username, display_name, street_code FROM access.inspectors()")
    ).all()
    return [Inspector(r.username, r.display_name or r.username, r.street_code) for r in rows]


def _inspector(session: Session, username: str, area: Area) -> Inspector:
    """The inspector of the sites' street, by account name; refused in words that say why."""
    user = next((i for i in _all_inspectors(session) if i.username == username), None)
    if user is None:
        raise ValidationError(f"没有名为“{username}”的在职执法队员", "assignee")
    if area.street_code is None:
        streets = session.scalars(
            select(Street.name)
            .join(Site, Site.street_id == Street.id)
            .where(Site.id.in_(area.params["sites"]))
            .distinct()
            .order_by(Street.name)
        ).all()
        raise ValidationError(
            f"所选点位分属多个街道（{'、'.join(streets)}）：执法队员只巡查本街道，"
            "请按街道分别勾选安排",
            "sites",
        )
    if user.street_code != area.street_code:
        raise ValidationError(
            f"{user.name}是{_street_name(session, user.street_code)}的执法队员，"
            f"所选点位属于{_street_name(session, area.street_code)}：请选择该街道的执法队员",
            "assignee",
        )
    return user


def assign_sites(
    session: Session,
    raw: Any,
    actor: Actor,
    district_code: str,
    speeds: tuple[float, float] | None = None,
) -> Assigned:
    """Give the chosen sites to a patrol (see the module's docstring). One transaction."""
    _require_assigner(actor)
    given = read_assignment(raw)
    if given.patrol_id is not None:
        return _add_to_patrol(session, given, actor, speeds)
    area = sites_area(session, given.sites, actor, "sites")
    user = _inspector(session, given.assignee, area)
    assert given.day is not None
    title = given.title or (
        f"{_street_name(session, area.street_code)} {given.day} 指定点位巡查（{user.name}）"
    )
    request = {"title": title, "area": {"kind": "sites", "sites": list(given.sites)}}
    patrol, _plan = create_patrol(session, request, actor, district_code, speeds=speeds)
    assert patrol is not None  # every chosen site is a stop
    patrol.assignee = user.username
    patrol.planned_for = given.day
    session.flush()
    return Assigned(patrol, True, len(given.sites), 0)


def _add_to_patrol(
    session: Session, given: Assignment, actor: Actor, speeds: tuple[float, float] | None
) -> Assigned:
    """The chosen sites as more stops of a planned patrol; the route is planned again."""
    assert given.patrol_id is not None
    patrol = get_patrol(session, given.patrol_id, actor, for_update=True)
    if patrol.status != "planned":
        raise Conflict(
            f"巡查“{patrol.title}”{STATUSES[patrol.status]}：只能加入尚未开始的巡查",
            "patrol_id",
        )
    area = sites_area(session, given.sites, actor, "sites")
    if patrol.street_id is not None:
        outside = session.scalars(
            select(Site.code)
            .where(Site.id.in_(given.sites), Site.street_id != patrol.street_id)
            .order_by(Site.code)
        ).all()
        if outside:
            street = session.get(Street, patrol.street_id)
            raise ValidationError(
                f"{'、'.join(outside[:10])}不在该巡查的街道（{street.name if street else ''}）内",
                "sites",
            )
    stops = list(
        session.scalars(
            select(PatrolStop).where(PatrolStop.patrol_id == patrol.id).order_by(PatrolStop.ord)
        )
    )
    have = {stop.site_id for stop in stops}
    new_ids = [i for i in given.sites if i not in have]
    if not new_ids:
        raise ValidationError("所选点位都已在该巡查中，没有要加入的点位", "sites")
    chosen = Area("sites", area.geojson, {"sites": new_ids})
    candidates, _matched = select_candidates(session, chosen, Priorities(), actor)
    _reroute(session, patrol, stops, candidates, speeds)
    _widen_area(session, patrol, area, new_ids)
    session.flush()
    return Assigned(patrol, False, len(new_ids), len(given.sites) - len(new_ids))


def _reroute(
    session: Session,
    patrol: Patrol,
    stops: list[PatrolStop],
    candidates: list[Any],
    speeds: tuple[float, float] | None,
) -> None:
    """Plan the route over the old and new stops from the patrol's start; renumber them."""
    from gis_app.features.patrol.routing import plan_route

    coords = dict(
        session.execute(
            select(Site.id, func.ST_AsGeoJSON(Site.geom)).where(
                Site.id.in_([s.site_id for s in stops])
            )
        ).all()
    )
    points = [tuple(json.loads(coords[s.site_id])["coordinates"]) for s in stops]
    points += [(c.lon, c.lat) for c in candidates]
    start = point_of(session, patrol.start_point)
    end = point_of(session, patrol.end_point)
    assert start is not None
    route = plan_route(
        session,
        (start[0], start[1]),
        points,
        (end[0], end[1]) if end else None,
        speeds=speeds,
    )
    for stop in stops:  # out of the way of the unique (patrol, ord) while renumbering
        stop.ord = -stop.ord
    session.flush()
    rank = {index: position for position, index in enumerate(route.order, start=1)}
    for index, stop in enumerate(stops):
        stop.ord = rank[index]
    for index, cand in enumerate(candidates, start=len(stops)):
        session.add(
            PatrolStop(
                patrol_id=patrol.id,
                district_code=patrol.district_code,
                site_id=cand.site_id,
                ord=rank[index],
                priority=cand.priority,
                reason=cand.reason,
            )
        )
    patrol.route = route_record(route)
    patrol.total_m = route.total_m
    patrol.walk_minutes = route.walk_minutes
    patrol.bike_minutes = route.bike_minutes


def _widen_area(session: Session, patrol: Patrol, area: Area, new_ids: list[int]) -> None:
    """The patrol's area now also covers the added sites; its parameters say which."""
    shape = func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(area.geojson)), 4326)
    patrol.area = func.ST_CollectionExtract(func.ST_MakeValid(func.ST_Union(Patrol.area, shape)), 3)
    params = dict(patrol.params or {})
    params["added_sites"] = [*params.get("added_sites", []), *new_ids]
    patrol.params = params


def inspectors(session: Session, actor: Actor) -> list[dict[str, str]]:
    """The active inspectors an actor may hand a patrol to (a street office: its own)."""
    names = dict(session.execute(select(Street.code, Street.name)).all())
    mine = own_street(actor)
    return [
        {"username": i.username, "name": i.name, "street": i.street_code,
         "street_name": names.get(i.street_code, "")}
        for i in sorted(
            _all_inspectors(session), key=lambda i: (names.get(i.street_code, ""), i.name)
        )
        if actor.is_district or i.street_code == mine
    ]  # fmt: skip


def ticked(values: list[str]) -> list[int]:
    """The ids of the sites ticked in the list (`id`, repeated), each once, at most
    MAX_SITES; anything else is left out (the service names a bad choice)."""
    ids: list[int] = []
    for raw in values:
        if raw.isdigit() and 0 < int(raw) < 2**63 and int(raw) not in ids:
            ids.append(int(raw))
    return ids[:MAX_SITES]


def chosen_sites(session: Session, actor: Actor, ids: list[int]) -> list[dict[str, Any]]:
    """The chosen sites the actor may see, by code, as the list shows them."""
    rows = session.execute(
        select(Site.id, Site.code, Site.address, Street.name, Site.status)
        .join(Street, Street.id == Site.street_id)
        .where(Site.id.in_(ids), Site.deleted_at.is_(None), *site_scope(actor))
        .order_by(Site.code)
    ).all()
    return [
        {"id": i, "code": c, "address": a, "street": n, "status": codes.label(codes.STATUSES, s)}
        for i, c, a, n, s in rows
    ]


def planned_patrols(session: Session, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """The patrols not yet started that stops may be added to, newest first."""
    query = (
        select(Patrol.id, Patrol.title, Patrol.assignee, Patrol.planned_for, Street.name)
        .outerjoin(Street, Street.id == Patrol.street_id)
        .where(Patrol.status == "planned")
        .order_by(Patrol.created_at.desc(), Patrol.id.desc())
        .limit(limit)
    )
    if not actor.is_district:
        query = query.where(Street.code == (own_street(actor) or ""))
    return [
        {
            "id": pid,
            "title": title,
            "assignee": assignee,
            "planned_for": day.isoformat() if day else None,
            "street_name": street or "全区",
        }
        for pid, title, assignee, day, street in session.execute(query).all()
    ]
