"""What the map pages draw, queried in PostGIS: compact site arrays, outlines, popups.

The district map with 5,000 sites must build in well under a second and weigh under 1 MB, and
a city of 100,000 sites must still draw in a few seconds. So sites do not travel as one GeoJSON
Feature (or folium Marker) each: PostgreSQL builds one flat JSON array of small integers, four
per site, and the browser's canvas layer (static/js/site-layer.js) decodes and draws it. The
counts by status come from the same statement, so they always match what is drawn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, func, literal, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gis_app.core import codes
from gis_app.core.actor import Actor
from gis_app.core.errors import NotFound
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import own_street
from gis_app.features.ledger.queries import SiteFilter, base_select, overdue_expr, scoped
from gis_app.features.ledger.service import get_site
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import get_street
from layers import palette

# coordinates travel as integers: micro-degrees (about 0.1 m) east and north of an origin
COORD_SCALE = 1_000_000
# each site is [id - previous id, x, y, key index + KEY_SPAN * disposition index]
STRIDE = 4
KEY_SPAN = 8
# outlines are simplified for drawing (degrees; about 1 m), never for storage
OUTLINE_TOLERANCE = 0.00001

Shift = Callable[[float, float], tuple[float, float]]


@dataclass
class SitePoints:
    """The compact payload for the browser and the counts of what it holds."""

    payload: str  # JSON text: {"n", "origin", "scale", "stride", "span", "rows"}
    counts: dict[str, int]  # by display key (legend order) plus "total"

    @property
    def total(self) -> int:
        return self.counts["total"]


def display_key_expr(today: date, per_site: bool = False) -> ColumnElement[int]:
    """The legend index a site is drawn with (overdue wins over the stored status);
    `per_site`: see ledger.queries.overdue_expr."""
    keys = palette.legend_keys()
    return case(
        (overdue_expr(today, per_site=per_site), keys.index("overdue")),
        *((Site.status == status, keys.index(status)) for status in codes.STATUSES),
        else_=keys.index("registered"),
    )


def disposition_index_expr() -> ColumnElement[int]:
    order = palette.disposition_keys()
    return case(*((Site.disposition == d, i) for i, d in enumerate(order)), else_=0)


def _origin(session: Session) -> tuple[float, float]:
    """South-west corner of the streets, floored to 0.01°: every site lies east and north."""
    row = session.execute(
        select(
            func.floor(func.min(func.ST_XMin(Street.geom)) * 100) / 100,
            func.floor(func.min(func.ST_YMin(Street.geom)) * 100) / 100,
        )
    ).one()
    return (float(row[0]), float(row[1])) if row[0] is not None else (0.0, 0.0)


def site_points(
    session: Session,
    flt: SiteFilter,
    today: date,
    shift: Shift | None = None,
    extra: Sequence[ColumnElement[bool]] = (),
    actor: Actor | None = None,
    per_site: bool = False,
) -> SitePoints:
    """The filtered sites as one flat integer array, built by PostgreSQL in one statement.

    `shift` moves every point before it is encoded (the GCJ-02 shift for a GCJ-02 basemap);
    `extra` adds conditions on Site (one site for the site page); `actor` keeps the sites to
    those the actor may see (a street role: its own street; None: a command, every site);
    `per_site` probes each site's own late steps (a view's few sites) instead of hashing every
    late step of the district (ledger.queries.overdue_expr).
    """
    x0, y0 = _origin(session)
    s = (
        base_select(
            [
                Site.id.label("id"),
                (Site.id - func.lag(Site.id, 1, 0).over(order_by=Site.id)).label("d_id"),
                func.round((func.ST_X(Site.geom) - x0) * COORD_SCALE).cast(BigInteger).label("x"),
                func.round((func.ST_Y(Site.geom) - y0) * COORD_SCALE).cast(BigInteger).label("y"),
                (display_key_expr(today, per_site) + KEY_SPAN * disposition_index_expr()).label(
                    "k"
                ),
            ]
        )
        .where(*scoped(flt, today, actor), *extra)
        .subquery("s")
    )
    keys = palette.legend_keys()
    # one pass: the four values of every site as text in one ordered aggregate (they stay
    # together and in id order, which the id deltas need), and the counts by display key
    stmt = select(
        func.string_agg(
            func.concat_ws(",", s.c.d_id, s.c.x, s.c.y, s.c.k),
            aggregate_order_by(literal(","), s.c.id),
        ),
        *(func.count().filter(s.c.k % KEY_SPAN == index) for index in range(len(keys))),
    )
    rows_json, *key_counts = session.execute(stmt).one()
    result = dict(zip(keys, key_counts, strict=True))
    result["total"] = sum(key_counts)
    rows_text = f"[{rows_json or ''}]"
    origin = [x0, y0]
    if shift is not None and result["total"]:
        rows_text, origin = _shifted(json.loads(rows_text), x0, y0, shift)
    payload = (
        f'{{"n":{result["total"]},"origin":[{origin[0]!r},{origin[1]!r}],'
        f'"scale":{COORD_SCALE},"stride":{STRIDE},"span":{KEY_SPAN},"rows":{rows_text}}}'
    )
    return SitePoints(payload, result)


def site_counts(
    session: Session, flt: SiteFilter, today: date, actor: Actor | None = None
) -> dict[str, int]:
    """The counts by display key (legend order) plus "total" of the filtered sites, without
    their points: the side panel and legend of a map drawn from tiles."""
    keys = palette.legend_keys()
    k = (
        base_select([display_key_expr(today).label("k")])
        .where(*scoped(flt, today, actor))
        .subquery("k")
    )
    rows = dict(session.execute(select(k.c.k, func.count()).group_by(k.c.k)).all())
    result = {key: int(rows.get(index, 0)) for index, key in enumerate(keys)}
    result["total"] = sum(result.values())
    return result


def empty_payload() -> str:
    """The payload of no site (a map drawn from tiles starts with it)."""
    return (
        f'{{"n":0,"origin":[0,0],"scale":{COORD_SCALE},"stride":{STRIDE},'
        f'"span":{KEY_SPAN},"rows":[]}}'
    )


def _shifted(rows: list[int], x0: float, y0: float, shift: Shift) -> tuple[str, list[float]]:
    """Decode, shift every point, and encode again from a new origin."""
    points = [
        shift(x0 + rows[i + 1] / COORD_SCALE, y0 + rows[i + 2] / COORD_SCALE)
        for i in range(0, len(rows), STRIDE)
    ]
    nx0 = math.floor(min(p[0] for p in points) * 100) / 100
    ny0 = math.floor(min(p[1] for p in points) * 100) / 100
    for n, (lon, lat) in enumerate(points):
        rows[n * STRIDE + 1] = round((lon - nx0) * COORD_SCALE)
        rows[n * STRIDE + 2] = round((lat - ny0) * COORD_SCALE)
    return json.dumps(rows, separators=(",", ":")), [nx0, ny0]


@dataclass
class Outlines:
    """Street polygons (with a label point each), the district outline, and a frame."""

    streets: dict[str, Any]  # FeatureCollection; properties: code, name, approximate, label
    district: dict[str, Any] | None  # Feature, or None when the district row is missing
    bounds: tuple[float, float, float, float] | None  # (west, south, east, north) to frame

    @property
    def any_approximate(self) -> bool:
        return any(f["properties"]["approximate"] for f in self.streets["features"])


def outlines(
    session: Session,
    district_code: str,
    frame_street: str | None = None,
    shift: Shift | None = None,
) -> Outlines:
    """Outlines to draw, simplified for the screen; framed to one street or to all of them."""
    streets = session.execute(
        text(
            """
            SELECT coalesce(json_agg(json_build_object(
                'type', 'Feature',
                'id', t.code,
                'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(
                    ST_SimplifyPreserveTopology(t.geom, :tol)), 7)::json,
                'properties', json_build_object(
                    'code', t.code, 'name', t.name, 'approximate', t.approximate,
                    'label', json_build_array(
                        round(ST_X(ST_PointOnSurface(t.geom))::numeric, 6),
                        round(ST_Y(ST_PointOnSurface(t.geom))::numeric, 6)))
              ) ORDER BY t.code), '[]'::json),
              (SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]
                 FROM (SELECT ST_Extent(geom) AS e FROM streets
                       WHERE code = :frame OR CAST(:frame AS text) IS NULL) b)
            FROM streets t
            """
        ),
        {"tol": OUTLINE_TOLERANCE, "frame": frame_street},
    ).one()
    features, box = streets
    district = session.execute(
        text(
            """
            SELECT json_build_object('type', 'Feature', 'id', d.code,
                'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(
                    ST_SimplifyPreserveTopology(d.geom, :tol)), 7)::json,
                'properties', json_build_object('code', d.code, 'name', d.name))
            FROM districts d WHERE d.code = :code
            """
        ),
        {"tol": OUTLINE_TOLERANCE, "code": district_code},
    ).scalar()
    bounds = tuple(float(v) for v in box) if box and box[0] is not None else None
    collection = {"type": "FeatureCollection", "features": features}
    if shift is not None:
        for feature in features:
            _shift_geometry(feature["geometry"], shift)
            lon, lat = shift(*(float(v) for v in feature["properties"]["label"]))
            feature["properties"]["label"] = [lon, lat]
        if district is not None:
            _shift_geometry(district["geometry"], shift)
        if bounds is not None:
            west, south = shift(bounds[0], bounds[1])
            east, north = shift(bounds[2], bounds[3])
            bounds = (west, south, east, north)
    return Outlines(collection, district, bounds)  # type: ignore[arg-type]


def _shift_geometry(geometry: dict[str, Any], shift: Shift) -> None:
    def walk(coords: Any) -> Any:
        if coords and isinstance(coords[0], int | float):
            return list(shift(coords[0], coords[1]))
        return [walk(c) for c in coords]

    geometry["coordinates"] = walk(geometry["coordinates"])


def map_street(session: Session, code: str, actor: Actor | None = None) -> Street:
    """The street of a street map: a street role may open its own street only (another
    street answers as an unknown one)."""
    street = get_street(session, code)
    mine = own_street(actor) if actor is not None else None
    if mine is not None and street.code != mine:
        raise NotFound(f"没有代码为 {code} 的街道", "code")
    return street


def street_choices(session: Session, actor: Actor | None = None) -> list[dict[str, str]]:
    """The streets a map's filter offers: a street role's own street only."""
    mine = own_street(actor) if actor is not None else None
    query = select(Street.code, Street.name).order_by(Street.code)
    if mine is not None:
        query = query.where(Street.code == mine)
    return [{"code": code, "name": name} for code, name in session.execute(query)]


def site_popup(
    session: Session, site_id: int, today: date, actor: Actor | None = None
) -> dict[str, Any]:
    """What a site's popup shows: no personal data (the map is seen by many); another
    street's site is a 404 for a street role."""
    site = get_site(session, site_id, actor=actor)
    street_name, overdue = session.execute(
        select(Street.name, overdue_expr(today))
        .select_from(Site)
        .join(Street, Street.id == Site.street_id)
        .where(Site.id == site.id)
    ).one()
    key = palette.display_status(site.status, overdue)
    return {
        "id": site.id,
        "code": site.code,
        "address": site.address,
        "street": street_name,
        "status": site.status,
        "status_label": codes.label(codes.STATUSES, site.status),
        "overdue": bool(overdue),
        "display": key,
        "display_label": palette.status_style(key)["label"],
        "disposition": site.disposition,
        "disposition_label": codes.label(codes.DISPOSITIONS, site.disposition),
        "current_deadline": site.current_deadline.isoformat() if site.current_deadline else None,
        "committed_deadline": (
            site.committed_deadline.isoformat() if site.committed_deadline else None
        ),
    }


def decode_points(payload: str) -> list[dict[str, Any]]:
    """The payload read back as one dict per site (what static/js/site-layer.js decodes):
    id, lon, lat, the legend key it is drawn with and its disposition."""
    data = json.loads(payload)
    keys, dispositions = palette.legend_keys(), palette.disposition_keys()
    rows, stride, span, scale = data["rows"], data["stride"], data["span"], data["scale"]
    x0, y0 = data["origin"]
    out, site_id = [], 0
    for i in range(0, len(rows), stride):
        site_id += rows[i]
        out.append(
            {
                "id": site_id,
                "lon": x0 + rows[i + 1] / scale,
                "lat": y0 + rows[i + 2] / scale,
                "key": keys[rows[i + 3] % span],
                "disposition": dispositions[rows[i + 3] // span],
            }
        )
    return out
