"""The area of a patrol: a street, a drawn polygon, a circle, the current map view, or sites
chosen one by one (in the ledger list: the stops are exactly those sites).

Input is checked in Python for shape and ranges (`read_area`, field named in every error)
and then in PostGIS (`build_area`): a polygon is read with ST_GeomFromGeoJSON, checked with
ST_IsValid and, when it crosses itself, repaired with ST_MakeValid (polygonal parts kept) or
refused with PostGIS's reason. The selection of sites itself is one SQL condition
(`area_condition`): ST_Intersects for polygons and views, ST_DWithin on geography for
circles, the street id for a street. Street roles may only choose their own street's areas'
sites (site_scope).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.core.errors import Forbidden, ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import own_street
from gis_app.features.ledger.queries import near_conditions, parse_bbox
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import normalise_street_code

KINDS = {
    "street": "街道",
    "polygon": "绘制多边形",
    "circle": "圆形范围",
    "bbox": "当前地图视野",
    "sites": "所选点位",
}
MAX_RADIUS_M = 5_000.0
MAX_VERTICES = 5_000
MAX_AREA_KM2 = 200.0
#: at most this many chosen sites in one patrol (a day's walk is far fewer)
MAX_SITES = 200
#: the area of chosen sites: the hull around them, widened by this many metres
SITES_MARGIN_M = 30.0


@dataclass(frozen=True)
class Area:
    kind: str
    geojson: dict[str, Any]  # the area as an RFC 7946 geometry (a circle: its 64-gon)
    params: dict[str, Any] = field(default_factory=dict)
    street_id: int | None = None
    street_code: str | None = None
    repaired: str | None = None  # PostGIS's reason, when a drawn polygon was repaired

    @property
    def label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class AreaInput:
    """An area as given, checked for shape and ranges (`read_area`); the database has not
    been asked yet (`build_area`)."""

    kind: str
    street: Any = None  # street: the code given (None: the actor's own street)
    geometry: dict[str, Any] | None = None  # polygon: positions checked
    repair: bool = True  # polygon: repair a polygon crossing itself, else refuse it
    center: tuple[float, float] | None = None  # circle
    radius_m: float = 0.0  # circle
    bbox: tuple[float, float, float, float] | None = None  # bbox
    sites: tuple[int, ...] = ()  # sites: the ids chosen, in the order given


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(f"{name} 必须是数字", name)
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(f"{name} 必须是数字：{value!r}", name) from None
    if not math.isfinite(number):
        raise ValidationError(f"{name} 必须是有限的数字", name)
    return number


def parse_point(value: Any, name: str) -> tuple[float, float]:
    """[lon, lat] (or "lon,lat") in degrees, in range."""
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",")]
    if isinstance(value, dict) and value.get("type") == "Point":
        value = value.get("coordinates")
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValidationError(f"{name} 应为 [经度, 纬度]", name)
    lon, lat = _number(value[0], name), _number(value[1], name)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(f"{name} 的经纬度超出范围（经度 {lon}，纬度 {lat}）", name)
    return lon, lat


def _check_positions(geometry: dict[str, Any], name: str) -> None:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValidationError(f"{name} 必须是 GeoJSON Polygon 或 MultiPolygon", name)
    polygons = [coords] if kind == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise ValidationError(f"{name} 的 coordinates 为空或格式不对", name)
    count = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValidationError(f"{name} 的多边形至少要有一个外环", name)
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValidationError(f"{name} 的每个环至少要有 4 个坐标（首尾相同）", name)
            for position in ring:
                if (
                    not isinstance(position, list)
                    or len(position) != 2
                    or not all(
                        isinstance(v, int | float) and not isinstance(v, bool) for v in position
                    )
                ):
                    raise ValidationError(f"{name} 的坐标必须是 [经度, 纬度] 两个数", name)
                parse_point(position, name)
            if list(ring[0]) != list(ring[-1]):
                raise ValidationError(f"{name} 的环没有闭合（首尾坐标须相同）", name)
            count += len(ring)
    if count > MAX_VERTICES:
        raise ValidationError(f"{name} 顶点过多（最多 {MAX_VERTICES} 个）", name)


def _polygon_input(raw: dict[str, Any]) -> dict[str, Any]:
    """`area.geometry` (GeoJSON, its text, or a Feature) with its positions checked."""
    geometry = raw.get("geometry")
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError:
            raise ValidationError("area.geometry 不是有效的 GeoJSON", "area.geometry") from None
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict):
        raise ValidationError("绘制范围需要 area.geometry（GeoJSON 多边形）", "area.geometry")
    _check_positions(geometry, "area.geometry")
    return geometry


def _polygon(
    session: Session, geometry: dict[str, Any], repair: bool
) -> tuple[dict[str, Any], str | None]:
    """The drawn polygon as PostGIS reads it: repaired (or refused) when invalid, not empty,
    not too large."""
    try:
        with session.begin_nested():
            row = _polygon_facts(session, geometry)
    except DBAPIError:
        raise ValidationError(
            "area.geometry 不是 PostGIS 能读取的多边形", "area.geometry"
        ) from None
    reason = None
    if not row.valid:
        if not repair:
            raise ValidationError(
                f"绘制的多边形无效（{row.reason}）：请重新绘制，或允许系统自动修复",
                "area.geometry",
            )
        reason = row.reason
    if not row.km2 or row.km2 <= 0:
        raise ValidationError("绘制的多边形面积为零：请重新绘制", "area.geometry")
    if row.km2 > MAX_AREA_KM2:
        raise ValidationError(
            f"绘制的范围过大（{row.km2:.0f} 平方千米，最多 {MAX_AREA_KM2:.0f}）", "area.geometry"
        )
    return row.fixed, reason


def _polygon_facts(session: Session, geometry: dict[str, Any]) -> Any:
    """Validity, PostGIS's reason, the repaired polygon (CCW exterior rings) and its area."""
    return session.execute(
        text(
            """
            WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326) AS g)
            SELECT ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason,
                   ST_AsGeoJSON(ST_ForcePolygonCCW(
                     ST_CollectionExtract(ST_MakeValid(g), 3)), 7)::json AS fixed,
                   ST_Area(ST_CollectionExtract(ST_MakeValid(g), 3)::geography) / 1e6 AS km2
            FROM g
            """
        ),
        {"g": json.dumps(geometry)},
    ).one()


def read_area(raw: Any) -> AreaInput:
    """Check an area given as {"kind": …} for what needs no database: its kind, the shape and
    ranges of its geometry, centre, radius or view. Errors name the field."""
    if not isinstance(raw, dict):
        raise ValidationError("area 必须是对象：{kind: street|polygon|circle|bbox, …}", "area")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        allowed = "、".join(f"{k}（{v}）" for k, v in KINDS.items())
        raise ValidationError(f"范围类型 area.kind 无效：{kind!r}（可选：{allowed}）", "area.kind")
    if kind == "street":
        return AreaInput("street", street=raw.get("street"))
    if kind == "polygon":
        repair = _repair_flag(raw.get("repair"))
        return AreaInput("polygon", geometry=_polygon_input(raw), repair=repair)
    if kind == "sites":
        return AreaInput("sites", sites=read_site_ids(raw.get("sites")))
    if kind == "circle":
        center = parse_point(raw.get("center"), "area.center")
        radius = _number(raw.get("radius_m"), "area.radius_m")
        if not 0 < radius <= MAX_RADIUS_M:
            raise ValidationError(
                f"半径 area.radius_m 须大于 0、不超过 {MAX_RADIUS_M:,.0f} 米（收到 {radius:g}）",
                "area.radius_m",
            )
        return AreaInput("circle", center=center, radius_m=radius)
    return AreaInput("bbox", bbox=_bbox(raw.get("bbox")))


def read_site_ids(raw: Any, name: str = "area.sites") -> tuple[int, ...]:
    """The chosen sites' ids (a list of positive integers, or their comma-separated text),
    each once, at least one and at most MAX_SITES."""
    if isinstance(raw, str):
        raw = [p.strip() for p in raw.split(",") if p.strip()]
    if raw is None or raw == []:
        raise ValidationError("请至少勾选一个点位", name)
    if not isinstance(raw, list | tuple):
        raise ValidationError("所选点位应为点位编号的列表", name)
    ids: list[int] = []
    for value in raw:
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or not 0 < number < 2**63:
            raise ValidationError(f"所选点位中有无效的编号：{value!r}", name)
        if number not in ids:
            ids.append(number)
    if len(ids) > MAX_SITES:
        raise ValidationError(f"一次最多安排 {MAX_SITES} 个点位（所选 {len(ids)} 个）", name)
    return tuple(ids)


def _bbox(raw: Any) -> tuple[float, float, float, float]:
    if isinstance(raw, list | tuple):
        raw = ",".join(str(v) for v in raw)
    if not isinstance(raw, str):
        raise ValidationError(
            "当前视野需要 area.bbox：[最小经度, 最小纬度, 最大经度, 最大纬度]", "area.bbox"
        )
    try:
        minx, miny, maxx, maxy = parse_bbox(raw)
    except ValidationError as exc:
        raise ValidationError(exc.message, "area.bbox") from None
    if minx == maxx or miny == maxy:
        raise ValidationError("area.bbox 的范围为零", "area.bbox")
    return minx, miny, maxx, maxy


def parse_area(session: Session, raw: Any, actor: Actor) -> Area:
    """Check an area given as {"kind": …} and build it; errors name the field."""
    return build_area(session, read_area(raw), actor)


def build_area(session: Session, given: AreaInput, actor: Actor) -> Area:
    """The checked area with what the database says: the street (the actor's own when none
    is given), a drawn polygon as PostGIS reads it, a circle as a 64-gon."""
    if given.kind == "street":
        return _street_area(session, given.street, actor)
    if given.kind == "polygon":
        assert given.geometry is not None
        geojson, reason = _polygon(session, given.geometry, given.repair)
        return Area("polygon", geojson, {}, repaired=reason)
    if given.kind == "sites":
        return sites_area(session, given.sites, actor)
    if given.kind == "circle":
        assert given.center is not None
        lon, lat = given.center
        geojson = session.execute(
            text(
                "SELECT ST_AsGeoJSON(ST_Buffer(ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography,"
                " :r, 16)::geometry, 7)::json"
            ),
            {"x": lon, "y": lat, "r": given.radius_m},
        ).scalar_one()
        return Area("circle", geojson, {"center": [lon, lat], "radius_m": given.radius_m})
    assert given.bbox is not None
    minx, miny, maxx, maxy = given.bbox
    ring = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
    return Area(
        "bbox", {"type": "Polygon", "coordinates": [ring]}, {"bbox": [minx, miny, maxx, maxy]}
    )


def _street_area(session: Session, given: Any, actor: Actor) -> Area:
    """A street by its code (else the actor's own); a street role only its own."""
    code = normalise_street_code(given or own_street(actor))
    street = session.query(Street).filter(Street.code == code).one_or_none() if code else None
    if street is None:
        message = f"没有代码为 {given} 的街道" if given else "请选择街道（area.street）"
        raise ValidationError(message, "area.street")
    mine = own_street(actor)
    if not actor.is_district and mine != street.code:
        raise Forbidden(f"只能巡查本街道：{street.name}不属于当前用户的街道", "area.street")
    geojson = session.execute(
        text("SELECT ST_AsGeoJSON(geom, 7)::json FROM streets WHERE id = :i"), {"i": street.id}
    ).scalar_one()
    return Area("street", geojson, {"street": street.code}, street.id, street.code)


def sites_area(
    session: Session, ids: tuple[int, ...], actor: Actor, name: str = "area.sites"
) -> Area:
    """The chosen sites as an area: each must exist (not deleted) and, for a street role, lie
    in its own street (refused naming the others); the area is the hull around them, its
    street the sites' street when they share one."""
    rows = session.execute(
        select(Site.id, Site.code, Street.code.label("street"), Street.name, Street.id)
        .join(Street, Street.id == Site.street_id)
        .where(Site.id.in_(ids), Site.deleted_at.is_(None))
    ).all()
    found = {row[0]: row for row in rows}
    missing = [str(i) for i in ids if i not in found]
    mine = own_street(actor)
    if missing and not actor.is_district:  # the database shows a street only its own sites
        raise Forbidden(
            f"只能安排本街道的点位：所选的内部编号 {'、'.join(missing[:10])} 的点位"
            "不属于本街道或不存在",
            name,
        )
    if missing:
        raise ValidationError(f"所选点位不存在或已删除（内部编号 {'、'.join(missing[:10])}）", name)
    if not actor.is_district:
        others = [row.code for row in rows if row.street != mine]
        if others:
            raise Forbidden(
                f"只能安排本街道的点位：{'、'.join(others[:10])}"
                f"{' 等' if len(others) > 10 else ''}不属于本街道",
                name,
            )
    streets = {row.street: row for row in rows}
    geojson = session.execute(
        text(
            "SELECT ST_AsGeoJSON(ST_Buffer(ST_ConvexHull(ST_Collect(geom))::geography, :m, 4)"
            "::geometry, 7)::json FROM sites WHERE id = ANY(:ids)"
        ),
        {"m": SITES_MARGIN_M, "ids": list(ids)},
    ).scalar_one()
    street_id, street_code = None, None
    if len(streets) == 1:
        only = next(iter(streets.values()))
        street_id, street_code = only[4], only.street
    return Area("sites", geojson, {"sites": list(ids)}, street_id, street_code)


def area_condition(area: Area) -> list[ColumnElement[bool]]:
    """SQL conditions on Site selecting the sites inside the area (edges included)."""
    if area.kind == "street":
        return [Site.street_id == area.street_id]
    if area.kind == "sites":
        return [Site.id.in_(area.params["sites"])]
    if area.kind == "circle":
        lon, lat = area.params["center"]
        return near_conditions(lon, lat, float(area.params["radius_m"]))
    shape = func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(area.geojson)), 4326)
    return [Site.geom.op("&&")(shape), func.ST_Intersects(shape, Site.geom)]


def _repair_flag(raw: Any) -> bool:
    """`area.repair`: true (the default) or false; anything else is refused."""
    if raw is None or raw == "":
        return True
    if isinstance(raw, bool):
        return raw
    flag = {"1": True, "true": True, "0": False, "false": False}.get(str(raw).strip().lower())
    if flag is None:
        raise ValidationError(f"area.repair 必须是 true 或 false（收到 {raw!r}）", "area.repair")
    return flag
