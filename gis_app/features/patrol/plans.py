"""Patrol plans: choose the area and what to visit, get the route, save it; then the patrol log
(start, tick stops as visited, finish). One transaction per user action."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.core.fieldtime import parse_recorded_at
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import (
    own_street,
    require_district,
    require_street_actor,
    site_scope,
)
from gis_app.features.patrol.areas import KINDS, Area, parse_area, parse_point, read_area
from gis_app.features.patrol.models import Patrol, PatrolFinding, PatrolStop
from gis_app.features.patrol.priorities import (
    CLASSES,
    STOP_LABELS,
    Candidate,
    Priorities,
    parse_priorities,
    select_candidates,
    status_label,
)
from gis_app.features.streets.models import Street

STATUSES = {"planned": "已计划", "active": "巡查中", "finished": "已完成"}
MAX_TITLE = 200
MAX_NOTE = 500


@dataclass(frozen=True)
class Office:
    street_code: str
    street_name: str
    lon: float
    lat: float
    approximate: bool
    address: str


@dataclass
class Plan:
    """A checked request, its stops and (when there are any) its route."""

    area: Area
    priorities: Priorities
    stops: list[Candidate]
    matched: dict[str, int]
    street_id: int | None
    start: tuple[float, float] | None
    start_source: str
    end: tuple[float, float] | None
    office: Office | None
    route: Any = None  # routing.Route
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        route = self.route
        return {
            "area": {
                "kind": self.area.kind,
                "label": self.area.label,
                "geometry": self.area.geojson,
                **self.area.params,
                "repaired": self.area.repaired,
            },
            "priorities": self.priorities.as_dict(),
            "matched": self.matched,
            "start": list(self.start) if self.start else None,
            "start_source": self.start_source,
            "end": list(self.end) if self.end else None,
            "office": office_dict(self.office),
            "stops": [
                {
                    "ord": i + 1,
                    "site_id": c.site_id,
                    "code": c.code,
                    "address": c.address,
                    "status": c.status,
                    "status_label": status_label(c.status),
                    "street_code": c.street_code,
                    "priority": c.priority,
                    "priority_label": STOP_LABELS[c.priority],
                    "reason": c.reason,
                    "lon": c.lon,
                    "lat": c.lat,
                }
                for i, c in enumerate(self.stops)
            ],
            "route": route_summary(route) if route is not None else None,
            "message": self.message,
        }


def office_dict(office: Office | None) -> dict[str, Any] | None:
    if office is None:
        return None
    return {
        "street": office.street_code,
        "street_name": office.street_name,
        "lon": office.lon,
        "lat": office.lat,
        "approximate": office.approximate,
        "address": office.address,
    }


def route_summary(route: Any) -> dict[str, Any]:
    return {
        "total_m": round(route.total_m, 1),
        "walk_minutes": round(route.walk_minutes, 1),
        "bike_minutes": round(route.bike_minutes, 1),
        "network": route.network,
        "solver": route.solver,
        "seconds": round(route.seconds, 3),
    }


def street_office(session: Session, street_id: int) -> Office:
    """The street office: its configured point, else a point on the street's surface (shown as
    approximate)."""
    row = session.execute(
        text(
            """
            SELECT code, name, office IS NULL AS approximate, office_address,
                   ST_X(coalesce(office, ST_PointOnSurface(geom))) AS lon,
                   ST_Y(coalesce(office, ST_PointOnSurface(geom))) AS lat
            FROM streets WHERE id = :i
            """
        ),
        {"i": street_id},
    ).one()
    # street names end in 街道 (大直沽街道): its office is 大直沽街道办事处
    office_name = row.name if row.name.endswith("街道") else f"{row.name}街道"
    address = row.office_address or f"{office_name}办事处（街道范围内的一点）"
    return Office(
        row.code, row.name, round(row.lon, 7), round(row.lat, 7), row.approximate, address
    )


def in_district(session: Session, district_code: str, point: tuple[float, float]) -> bool:
    return bool(
        session.execute(
            text(
                "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) "
                "FROM districts WHERE code = :d"
            ),
            {"x": point[0], "y": point[1], "d": district_code},
        ).scalar()
    )


def _district_point(
    session: Session, district_code: str, raw: Any, name: str, what: str
) -> tuple[float, float]:
    point = parse_point(raw, name)
    if not in_district(session, district_code, point):
        raise ValidationError(
            f"{what}（经度 {point[0]}，纬度 {point[1]}）不在本区范围内：请在本区内选择{what}",
            name,
        )
    return point


def _street_id(session: Session, area: Area, actor: Actor, stops: list[Candidate]) -> int | None:
    if area.street_id is not None:
        return area.street_id
    mine = own_street(actor)
    if mine:
        return session.scalar(select(Street.id).where(Street.code == mine))
    if not stops:
        return None
    counts = _stops_per_street(stops)
    if len(counts) > 1:
        return None  # spans streets: a district-wide patrol (the district's roles see it)
    return session.scalar(select(Street.id).where(Street.code == next(iter(counts))))


def _stops_per_street(stops: list[Candidate]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for stop in stops:
        counts[stop.street_code] = counts.get(stop.street_code, 0) + 1
    return counts


def _office_street_id(
    session: Session, street_id: int | None, stops: list[Candidate]
) -> int | None:
    """Where the route starts by default: the patrol's street, or the street with most stops."""
    if street_id is not None or not stops:
        return street_id
    counts = _stops_per_street(stops)
    busiest = max(sorted(counts), key=lambda c: counts[c])
    return session.scalar(select(Street.id).where(Street.code == busiest))


def parse_flag(raw: Any, name: str) -> bool | None:
    """true / false (also 1 / 0, yes / no, on / off as text); None when not given."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    text_value = str(raw).strip().lower()
    if text_value in ("1", "true", "yes", "on"):
        return True
    if text_value in ("0", "false", "no", "off"):
        return False
    raise ValidationError(f"{name} 必须是 true 或 false", name)


def empty_message(area: Area, prio: Priorities) -> str:
    classes = "、".join(CLASSES[c] for c in prio.order)
    return (
        f"所选范围（{area.label}）内没有需要巡查的点位（优先类别：{classes}）：请扩大范围或增加类别"
    )


def check_plan_input(raw: Any) -> None:
    """The checks of a plan request that need no database, with build_plan's messages: the
    area's shape (areas.read_area), the priorities, use_roads, the end and start points as
    points. build_plan makes them again along with the database's (the street, the drawn
    polygon as PostGIS reads it, the points inside the district)."""
    if not isinstance(raw, dict):
        raise ValidationError("请求体必须是对象", "body")
    read_area(raw.get("area"))
    parse_priorities(raw)
    parse_flag(raw.get("use_roads"), "use_roads")
    if raw.get("end") not in (None, "", []):
        parse_point(raw.get("end"), "end")
    if raw.get("start") not in (None, "", "office"):
        parse_point(raw.get("start"), "start")


def check_title(raw: Any) -> str:
    """A patrol's title as given (at most MAX_TITLE characters; "" when none)."""
    return clean_text(raw.get("title"), "title", MAX_TITLE) if isinstance(raw, dict) else ""


def build_plan(
    session: Session,
    raw: dict[str, Any],
    actor: Actor,
    district_code: str,
    route: bool = True,
    speeds: tuple[float, float] | None = None,
) -> Plan:
    """Check the request and choose the stops; with `route`, order them (nothing is written).
    `speeds`: walking and cycling km/h of the route's estimated times (routing.plan_route)."""
    if not isinstance(raw, dict):
        raise ValidationError("请求体必须是对象", "body")
    if not (actor.is_district or actor.role in STREET_ROLES):
        raise ValidationError("只有区办和街道人员可以制定巡查计划", "role")
    area = parse_area(session, raw.get("area"), actor)
    prio = parse_priorities(raw)
    use_roads = parse_flag(raw.get("use_roads"), "use_roads")
    end = None
    if raw.get("end") not in (None, "", []):
        end = _district_point(session, district_code, raw.get("end"), "end", "终点")
    start_raw = raw.get("start")
    stops, matched = select_candidates(session, area, prio, actor)
    street_id = _street_id(session, area, actor, stops)
    office_street = _office_street_id(session, street_id, stops)
    office = street_office(session, office_street) if office_street is not None else None
    if start_raw in (None, "", "office"):
        if office is None and not stops:
            plan = Plan(area, prio, stops, matched, None, None, "office", end, None)
            plan.message = empty_message(area, prio)
            return plan
        if office is None:
            raise ValidationError(
                "请指定起点 start（该范围不属于某一街道，无法使用街道办位置）", "start"
            )
        start = (office.lon, office.lat)
        source = "office"
    else:
        start = _district_point(session, district_code, start_raw, "start", "起点")
        source = "user"
    plan = Plan(area, prio, stops, matched, street_id, start, source, end, office)
    if not stops:
        plan.message = empty_message(area, prio)
        return plan
    if route:
        from gis_app.features.patrol.routing import plan_route

        plan.route = plan_route(
            session,
            start,
            [(c.lon, c.lat) for c in stops],
            end,
            use_roads=use_roads,
            speeds=speeds,
        )
        plan.stops = [stops[i] for i in plan.route.order]
    return plan


def clean_text(raw: Any, name: str, limit: int) -> str:
    """Text of at most `limit` characters, stripped ("" when not given)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValidationError(f"{name} 必须是文字", name)
    value = raw.strip()
    if len(value) > limit:
        raise ValidationError(f"{name} 过长（最多 {limit} 个字）", name)
    return value


def create_patrol(
    session: Session,
    raw: dict[str, Any],
    actor: Actor,
    district_code: str,
    speeds: tuple[float, float] | None = None,
) -> tuple[Patrol | None, Plan]:
    """Save a patrol plan with its ordered stops. An empty area saves nothing (the plan's
    message says why). One transaction."""
    title = check_title(raw)
    plan = build_plan(session, raw, actor, district_code, speeds=speeds)
    if plan.route is None:
        return None, plan
    patrol = _patrol_row(plan, title, actor, district_code)
    session.add(patrol)
    session.flush()
    for i, stop in enumerate(plan.stops, start=1):
        session.add(
            PatrolStop(
                patrol_id=patrol.id,
                district_code=district_code,
                site_id=stop.site_id,
                ord=i,
                priority=stop.priority,
                reason=stop.reason,
            )
        )
    session.flush()
    return patrol, plan


def _patrol_row(plan: Plan, title: str, actor: Actor, district_code: str) -> Patrol:
    """The patrol of a routed plan, as saved: its area, the request's parameters, the route."""
    route = plan.route
    assert route is not None and plan.start is not None
    now = clock.now()
    street_name = plan.office.street_name if plan.office else "全区"
    return Patrol(
        district_code=district_code,
        street_id=plan.street_id,
        title=title or f"{street_name} {clock.fmt_local(now)[:10]} 巡查",
        area_kind=plan.area.kind,
        area=func.ST_CollectionExtract(  # valid even if rounding to 7 decimals broke a ring
            func.ST_MakeValid(
                func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(plan.area.geojson)), 4326)
            ),
            3,
        ),
        params={
            "area": {**plan.area.params, "repaired": plan.area.repaired},
            **plan.priorities.as_dict(),
            "matched": plan.matched,
            "start_source": plan.start_source,
            "office": office_dict(plan.office),
        },
        start_point=func.ST_SetSRID(func.ST_MakePoint(*plan.start), 4326),
        end_point=func.ST_SetSRID(func.ST_MakePoint(*plan.end), 4326) if plan.end else None,
        route=route_record(route),
        total_m=route.total_m,
        walk_minutes=route.walk_minutes,
        bike_minutes=route.bike_minutes,
        status="planned",
        created_by=actor.name,
        created_at=now,
    )


def route_record(route: Any) -> dict[str, Any]:
    """A route as a patrol keeps it: the order, the legs, the line and the summary."""
    return {
        "order": list(route.order),
        "legs": [
            {"from": leg.from_index, "to": leg.to_index, "metres": round(leg.metres, 1)}
            for leg in route.legs
        ],
        "geometry": [[round(x, 7), round(y, 7)] for x, y in route.geometry()],
        **route_summary(route),
    }


# ---------------------------------------------------------------- reading and the log


def get_patrol(session: Session, patrol_id: int, actor: Actor, for_update: bool = False) -> Patrol:
    """A patrol the actor may see (district: all; a street role: its street's), else 404."""
    query = select(Patrol).where(Patrol.id == patrol_id)
    if for_update:
        query = query.with_for_update()
    patrol = session.scalar(query) if 0 < patrol_id < 2**63 else None
    if patrol is not None and not actor.is_district:
        mine = own_street(actor)
        street = session.get(Street, patrol.street_id) if patrol.street_id else None
        if not mine or street is None or street.code != mine:
            patrol = None
    if patrol is None:
        raise NotFound(f"没有编号为 {patrol_id} 的巡查", "patrol_id")
    return patrol


def point_of(session: Session, geom: Any) -> list[float] | None:
    if geom is None:
        return None
    x, y = session.execute(select(func.ST_X(geom), func.ST_Y(geom))).one()
    return [round(x, 7), round(y, 7)]


def patrol_stops(session: Session, patrol: Patrol, actor: Actor) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            PatrolStop,
            Site.code,
            Site.address,
            Site.status,
            func.ST_X(Site.geom),
            func.ST_Y(Site.geom),
        )
        .join(Site, Site.id == PatrolStop.site_id)
        .where(PatrolStop.patrol_id == patrol.id, *site_scope(actor))
        .order_by(PatrolStop.ord)
    ).all()
    return [
        {
            "id": stop.id,
            "ord": stop.ord,
            "site_id": stop.site_id,
            "code": code,
            "address": address,
            "status": status,
            "status_label": status_label(status),
            "priority": stop.priority,
            "priority_label": STOP_LABELS.get(stop.priority, stop.priority),
            "reason": stop.reason,
            "lon": round(x, 7),
            "lat": round(y, 7),
            "visited": stop.visited,
            "checked_at": stop.checked_at.isoformat() if stop.checked_at else None,
            "checked_by": stop.checked_by,
            "recorded_at": stop.recorded_at.isoformat() if stop.recorded_at else None,
            "note": stop.note,
        }
        for stop, code, address, status, x, y in rows
    ]


def patrol_dict(session: Session, patrol: Patrol, actor: Actor) -> dict[str, Any]:
    street = session.get(Street, patrol.street_id) if patrol.street_id else None
    area = session.scalar(select(func.ST_AsGeoJSON(Patrol.area, 7)).where(Patrol.id == patrol.id))
    findings = session.execute(
        select(
            PatrolFinding.id,
            PatrolFinding.site_id,
            PatrolFinding.action,
            PatrolFinding.note,
            PatrolFinding.created_at,
            PatrolFinding.created_by,
            Site.code,
        )
        .join(Site, Site.id == PatrolFinding.site_id)
        .where(PatrolFinding.patrol_id == patrol.id, *site_scope(actor))
        .order_by(PatrolFinding.id)
    ).all()
    return {
        "id": patrol.id,
        "title": patrol.title,
        "street": street.code if street else None,
        "street_name": street.name if street else "全区",
        "area_kind": patrol.area_kind,
        "area_label": KINDS[patrol.area_kind],
        "area": json.loads(area) if area else None,
        "params": patrol.params,
        "status": patrol.status,
        "status_label": STATUSES[patrol.status],
        "assignee": patrol.assignee,
        "planned_for": patrol.planned_for.isoformat() if patrol.planned_for else None,
        "start": point_of(session, patrol.start_point),
        "end": point_of(session, patrol.end_point),
        "total_m": round(patrol.total_m, 1),
        "walk_minutes": round(patrol.walk_minutes, 1),
        "bike_minutes": round(patrol.bike_minutes, 1),
        "network": patrol.route.get("network"),
        "solver": patrol.route.get("solver"),
        "route": patrol.route.get("geometry", []),
        "created_by": patrol.created_by,
        "created_at": patrol.created_at.isoformat(),
        "started_by": patrol.started_by,
        "started_at": patrol.started_at.isoformat() if patrol.started_at else None,
        "finished_by": patrol.finished_by,
        "finished_at": patrol.finished_at.isoformat() if patrol.finished_at else None,
        "stops": patrol_stops(session, patrol, actor),
        "findings": [
            {
                "id": f.id,
                "site_id": f.site_id,
                "code": f.code,
                "action": f.action,
                "note": f.note,
                "created_at": f.created_at.isoformat(),
                "created_by": f.created_by,
            }
            for f in findings
        ],
    }


def _require_worker(session: Session, patrol: Patrol, actor: Actor, what: str) -> None:
    street = session.get(Street, patrol.street_id) if patrol.street_id else None
    if street is None:
        require_district(actor, what)  # a district-wide patrol
        return
    require_street_actor(actor, street.code, what, roles=STREET_ROLES)


def start_patrol(session: Session, patrol_id: int, actor: Actor) -> Patrol:
    patrol = get_patrol(session, patrol_id, actor, for_update=True)
    _require_worker(session, patrol, actor, "开始巡查")
    if patrol.status != "planned":
        raise Conflict(f"巡查已是「{STATUSES[patrol.status]}」，不能再开始", "status")
    patrol.status = "active"
    patrol.started_at = clock.now()
    patrol.started_by = actor.name
    session.flush()
    return patrol


def finish_patrol(session: Session, patrol_id: int, actor: Actor) -> Patrol:
    patrol = get_patrol(session, patrol_id, actor, for_update=True)
    _require_worker(session, patrol, actor, "结束巡查")
    if patrol.status == "finished":
        raise Conflict("巡查已经结束", "status")
    now = clock.now()
    if patrol.started_at is None:
        patrol.started_at, patrol.started_by = now, actor.name
    patrol.status = "finished"
    patrol.finished_at = now
    patrol.finished_by = actor.name
    session.flush()
    return patrol


def check_visit(visited: Any, note: Any) -> tuple[bool | None, str]:
    """A stop's tick as given: visited (None: not said, i.e. visited) and the note."""
    return parse_flag(visited, "visited"), clean_text(note, "note", MAX_NOTE)


def tick_stop(
    session: Session,
    patrol_id: int,
    stop_id: int,
    actor: Actor,
    visited: Any = True,
    note: Any = "",
    recorded_at: Any = None,
) -> PatrolStop:
    """Mark a stop visited (or not), with an optional note; starts a planned patrol.
    `recorded_at`: when it was ticked in the field (sent later from an offline queue)."""
    visited_value, note_text = check_visit(visited, note)
    field_time = parse_recorded_at(recorded_at)
    patrol = get_patrol(session, patrol_id, actor, for_update=True)
    stop = (
        session.scalar(
            select(PatrolStop)
            .join(Site, Site.id == PatrolStop.site_id)
            .where(PatrolStop.id == stop_id, PatrolStop.patrol_id == patrol.id, *site_scope(actor))
        )
        if 0 < stop_id < 2**63
        else None
    )
    if stop is None:
        raise NotFound(f"巡查 {patrol_id} 没有编号为 {stop_id} 的点位", "stop_id")
    _require_worker(session, patrol, actor, "勾选巡查点位")
    if patrol.status == "finished":
        raise Conflict("巡查已经结束，不能再勾选", "status")
    now = clock.now()
    if patrol.status == "planned":
        patrol.status, patrol.started_at, patrol.started_by = "active", now, actor.name
    stop.visited = True if visited_value is None else visited_value
    stop.checked_at = now if stop.visited else None
    stop.checked_by = actor.name if stop.visited else None
    stop.recorded_at = field_time if stop.visited else None
    if note_text:
        stop.note = note_text
    session.flush()
    return stop


def list_patrols(
    session: Session, actor: Actor, street: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The patrol log: who patrolled which area when, newest first."""
    visited = (
        select(func.count())
        .where(PatrolStop.patrol_id == Patrol.id, PatrolStop.visited.is_(True))
        .scalar_subquery()
    )
    total = select(func.count()).where(PatrolStop.patrol_id == Patrol.id).scalar_subquery()
    query = (
        select(Patrol, Street.code, Street.name, visited, total)
        .outerjoin(Street, Street.id == Patrol.street_id)
        .order_by(Patrol.created_at.desc(), Patrol.id.desc())
        .limit(limit)
    )
    if not actor.is_district:
        mine = own_street(actor)
        query = query.where(Street.code == (mine or ""))
    if street:
        query = query.where(Street.code == street)
    out = []
    for patrol, code, name, n_visited, n_total in session.execute(query).all():
        out.append(
            {
                "id": patrol.id,
                "title": patrol.title,
                "street": code,
                "street_name": name or "全区",
                "area_kind": patrol.area_kind,
                "area_label": KINDS[patrol.area_kind],
                "status": patrol.status,
                "status_label": STATUSES[patrol.status],
                "created_by": patrol.created_by,
                "created_at": patrol.created_at.isoformat(),
                "started_by": patrol.started_by,
                "started_at": patrol.started_at.isoformat() if patrol.started_at else None,
                "finished_at": patrol.finished_at.isoformat() if patrol.finished_at else None,
                "stops": n_total,
                "visited": n_visited,
                "total_m": round(patrol.total_m, 1),
            }
        )
    return out


def set_street_office(
    session: Session, street_code: str, lon: Any, lat: Any, address: str, district_code: str
) -> Office:
    """Record where a street office is (its patrols start there); it must lie in the district.
    One transaction."""
    point = _district_point(session, district_code, [lon, lat], "lon", "街道办位置")
    street = session.scalar(select(Street).where(Street.code == street_code))
    if street is None:
        raise NotFound(f"没有代码为 {street_code} 的街道", "code")
    address = clean_text(address, "address", MAX_TITLE)
    session.execute(
        text(
            "UPDATE streets SET office = ST_SetSRID(ST_MakePoint(:x, :y), 4326),"
            " office_address = :a WHERE id = :i"
        ),
        {"x": point[0], "y": point[1], "a": address, "i": street.id},
    )
    session.flush()
    return street_office(session, street.id)
