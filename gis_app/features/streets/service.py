"""Streets (街道): import from boundary files, lookups, and the point-in-street rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry import MultiPolygon
    from shapely.geometry.base import BaseGeometry

from gis_app.core import clock, deadlines
from gis_app.core.errors import ImportRejected, NotFound, ValidationError
from gis_app.features.streets.models import District, Street, StreetLeader

# a street may overlap a neighbour by at most this share of the smaller one's area (a sliver)
SLIVER_SHARE = 0.005
CODE_COLUMNS = ("code", "code_9", "street_code", "街道代码", "代码", "统计用区划代码", "code_12")
NAME_COLUMNS = ("name", "街道", "街道名称", "名称", "name_zh")
NAME_EN_COLUMNS = ("name_en", "英文名", "name_english")


@dataclass
class StreetImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    sites_moved: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "repaired": self.repaired,
            "sites_moved": self.sites_moved,
        }


def normalise_street_code(raw: object) -> str | None:
    """9-digit code; a 12-digit code ending in 000 becomes its 9-digit form; else None."""
    if raw is None:
        return None
    text_value = str(raw).strip()
    if text_value.endswith(".0"):  # numeric column read as float
        text_value = text_value[:-2]
    if not text_value.isdigit():
        return None
    if len(text_value) == 12 and text_value.endswith("000"):
        return text_value[:9]
    if len(text_value) in (9, 12):
        return text_value
    return None


def _pick_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    return None


def read_boundary_file(path: Path) -> gpd.GeoDataFrame:
    """Read GeoJSON, GeoPackage or a zipped Shapefile into a GeoDataFrame in EPSG:4326."""
    import geopandas as gpd

    if not path.exists():
        raise ValidationError(f"文件不存在：{path}", "file")
    suffix = path.suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".zip", ".shp"):
        raise ValidationError(
            f"不支持的文件格式 {suffix}：请用 GeoJSON、GeoPackage 或压缩的 Shapefile（.zip）",
            "file",
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        raise ValidationError(f"无法读取边界文件：{exc}", "file") from exc
    if gdf.empty:
        raise ValidationError("边界文件中没有要素", "file")
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ValidationError(
                "边界文件没有坐标系信息，且坐标不像经纬度：请附上 .prj 或坐标系", "file"
            )
        gdf = gdf.set_crs(4326)
    elif gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf


def _as_multipolygon(geom: BaseGeometry | None) -> tuple[MultiPolygon | None, bool]:
    """Repair a geometry and keep its polygonal part as a MultiPolygon (None if none left)."""
    from shapely import make_valid
    from shapely.geometry import GeometryCollection, MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    if geom is None or geom.is_empty:
        return None, False
    repaired = False
    if not geom.is_valid:
        geom = make_valid(geom)
        repaired = True
    polys: list[Polygon] = []
    parts = geom.geoms if isinstance(geom, GeometryCollection | MultiPolygon) else [geom]
    for part in parts:
        if isinstance(part, Polygon) and not part.is_empty:
            polys.append(orient(part, 1.0))
        elif isinstance(part, MultiPolygon):
            polys.extend(orient(p, 1.0) for p in part.geoms)
    if not polys:
        return None, repaired
    return MultiPolygon(polys), repaired


def import_streets(
    session: Session,
    path: Path,
    approximate: bool = False,
    source: str = "",
    progress: Callable[[str], None] | None = None,
) -> StreetImportReport:
    """Import or replace street polygons; all-or-nothing. Re-derives every site's street."""
    say = progress or (lambda _msg: None)
    report = StreetImportReport()
    rows = _street_rows(read_boundary_file(path), approximate, source, report)
    say(f"{len(rows)} 个街道读入，检查重叠…")
    _check_overlaps(session, rows)
    district_codes = {r["code"][:6] for r in rows}
    for dcode in district_codes:
        _ensure_district(session, dcode, [r["wkt"] for r in rows if r["code"][:6] == dcode])
    _save_streets(session, rows, report)
    report.sites_moved = _rederive_site_streets(session, district_codes)
    say(f"新建 {len(report.created)}，更新 {len(report.updated)}，点位改划 {report.sites_moved}")
    return report


#: the columns' widths (streets.name, streets.name_en)
NAME_MAX = 64
NAME_EN_MAX = 128


def _street_rows(
    gdf: gpd.GeoDataFrame, approximate: bool, source: str, report: StreetImportReport
) -> list[dict[str, Any]]:
    """The file's streets checked one by one (code, name, no duplicate, a polygonal geometry,
    repaired where needed: listed in `report.repaired`); ImportRejected on any error."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    code_col = _pick_column(columns, CODE_COLUMNS)
    name_col = _pick_column(columns, NAME_COLUMNS)
    if code_col is None or name_col is None:
        missing = "code（街道代码）" if code_col is None else "name（街道名称）"
        raise ValidationError(f"边界文件缺少属性 {missing}；现有属性：{', '.join(columns)}", "file")
    name_en_col = _pick_column(columns, NAME_EN_COLUMNS)
    approx_col = _pick_column(columns, ("approximate",))
    source_col = _pick_column(columns, ("source",))

    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, (_, rec) in enumerate(gdf.iterrows(), start=1):
        code = normalise_street_code(rec[code_col])
        name = str(rec[name_col] or "").strip()
        if code is None:
            errors.append(
                {
                    "row": i,
                    "field": "code",
                    "message": f"街道代码必须是 9 位或 12 位数字：{rec[code_col]!r}",
                }
            )
            continue
        if not name:
            errors.append({"row": i, "field": "name", "message": "缺少街道名称"})
            continue
        if len(name) > NAME_MAX:
            errors.append(
                {"row": i, "field": "name", "message": f"街道名称过长（最多 {NAME_MAX} 个字）"}
            )
            continue
        name_en = str(rec[name_en_col] or "") if name_en_col else ""
        if len(name_en) > NAME_EN_MAX:
            errors.append(
                {
                    "row": i,
                    "field": "name_en",
                    "message": f"街道英文名称过长（最多 {NAME_EN_MAX} 个字）",
                }
            )
            continue
        if code in seen:
            errors.append(
                {
                    "row": i,
                    "field": "code",
                    "message": f"街道代码 {code} 与第 {seen[code]} 个要素重复",
                }
            )
            continue
        seen[code] = i
        geom, repaired = _as_multipolygon(rec.geometry)
        if geom is None:
            errors.append({"row": i, "field": "geometry", "message": f"{name} 没有面状几何"})
            continue
        if repaired:
            report.repaired.append(code)
        rows.append(
            {
                "row": i,
                "code": code,
                "name": name,
                "name_en": name_en,
                "approximate": bool(rec[approx_col]) if approx_col else approximate,
                "source": str(rec[source_col] or "") if source_col else source,
                "wkt": geom.wkt,
            }
        )
    if errors:
        raise ImportRejected(f"边界文件有 {len(errors)} 处错误，未导入任何街道", errors)
    return rows


def _save_streets(session: Session, rows: list[dict[str, Any]], report: StreetImportReport) -> None:
    """Create the new streets and replace the known ones (listed in `report`)."""
    existing = {
        s.code: s
        for s in session.scalars(select(Street).where(Street.code.in_([r["code"] for r in rows])))
    }
    for r in rows:
        geom_expr = func.ST_Multi(func.ST_GeomFromText(r["wkt"], 4326))
        street = existing.get(r["code"])
        if street is None:
            street = Street(district_code=r["code"][:6], code=r["code"])
            session.add(street)
            report.created.append(r["code"])
        else:
            report.updated.append(r["code"])
        street.name = r["name"]
        street.name_en = r["name_en"]
        street.approximate = r["approximate"]
        street.source = r["source"]
        street.geom = geom_expr  # type: ignore[assignment]
    session.flush()


def _check_overlaps(session: Session, rows: list[dict[str, Any]]) -> None:
    """Refuse a street that overlaps another (in the file or the database) beyond a sliver."""
    payload = json.dumps([{"code": r["code"], "name": r["name"], "wkt": r["wkt"]} for r in rows])
    found = session.execute(
        text(
            """
            WITH incoming AS (
                SELECT x->>'code' AS code, x->>'name' AS name,
                       ST_GeomFromText(x->>'wkt', 4326) AS geom
                FROM json_array_elements(CAST(:payload AS json)) AS x
            ), candidates AS (
                SELECT code, name, geom, true AS is_new FROM incoming
                UNION ALL
                SELECT s.code, s.name, s.geom, false FROM streets s
                WHERE s.code NOT IN (SELECT code FROM incoming)
            )
            SELECT a.code, a.name, b.code, b.name,
                   ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS overlap,
                   LEAST(ST_Area(a.geom::geography), ST_Area(b.geom::geography)) AS smaller
            FROM candidates a JOIN candidates b
              ON a.code < b.code AND (a.is_new OR b.is_new) AND ST_Intersects(a.geom, b.geom)
            """
        ),
        {"payload": payload},
    ).all()
    errors = []
    for a_code, a_name, b_code, b_name, overlap, smaller in found:
        if smaller and overlap > SLIVER_SHARE * smaller:
            errors.append(
                {
                    "row": next((r["row"] for r in rows if r["code"] in (a_code, b_code)), None),
                    "field": "geometry",
                    "message": (
                        f"{a_name}（{a_code}）与{b_name}（{b_code}）重叠 {overlap:,.0f} m²，"
                        f"占较小者面积的 {overlap / smaller:.1%}，超过允许的 {SLIVER_SHARE:.1%}"
                    ),
                }
            )
    if errors:
        raise ImportRejected("街道之间有重叠，未导入任何街道", errors)


def _ensure_district(session: Session, code: str, wkts: list[str]) -> None:
    """Create the district row (outline = union of its streets) if it does not exist yet."""
    if session.get(District, code) is not None:
        return
    from shapely import union_all, wkt

    merged, _ = _as_multipolygon(union_all([wkt.loads(w) for w in wkts]))
    outline = func.ST_Multi(func.ST_GeomFromText(merged.wkt, 4326))
    session.add(District(code=code, name=code, geom=outline, source="streets' union"))
    session.flush()


def _rederive_site_streets(session: Session, district_codes: set[str]) -> int:
    """After boundaries changed: move each site to the street its point lies in now."""
    orphans = (
        session.execute(
            text(
                """
            SELECT s.code FROM sites s
            WHERE s.district_code = ANY(:d) AND s.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM streets t WHERE ST_Intersects(t.geom, s.geom))
            ORDER BY s.code LIMIT 50
            """
            ),
            {"d": list(district_codes)},
        )
        .scalars()
        .all()
    )
    if orphans:
        raise ImportRejected(
            "新边界之外还有点位，未导入任何街道",
            [
                {"row": None, "field": "geometry", "message": f"点位 {c} 不在任何街道内"}
                for c in orphans
            ],
        )
    result = session.execute(
        text(
            f"""
            UPDATE sites s SET street_id = d.street_id, updated_at = now()
            FROM (SELECT s2.id, ({STREET_FOR_POINT_SQL.format(point="s2.geom")}) AS street_id
                  FROM sites s2 WHERE s2.district_code = ANY(:d)) d
            WHERE s.id = d.id AND s.street_id IS DISTINCT FROM d.street_id
            """
        ),
        {"d": list(district_codes)},
    )
    return result.rowcount or 0


# the street a point belongs to: the lowest code among those it intersects, so that a point on
# a shared edge goes to one street, deterministically
STREET_FOR_POINT_SQL = (
    "SELECT t.id FROM streets t WHERE ST_Intersects(t.geom, {point}) ORDER BY t.code LIMIT 1"
)


def street_ids_for_points(session: Session, points: list[tuple[float, float]]) -> list[int | None]:
    """The street of each (lon, lat), None where a point lies outside every street."""
    if not points:
        return []
    rows = session.execute(
        text(
            f"""
            SELECT p.i, ({STREET_FOR_POINT_SQL.format(point="p.pt")}) AS street_id
            FROM (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt
                  FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]))
                       WITH ORDINALITY AS u(x, y, i)) p
            ORDER BY p.i
            """
        ),
        {"xs": [p[0] for p in points], "ys": [p[1] for p in points]},
    ).all()
    return [row.street_id for row in rows]


def street_for_point(session: Session, lon: float, lat: float) -> Street | None:
    ids = street_ids_for_points(session, [(lon, lat)])
    return session.get(Street, ids[0]) if ids and ids[0] is not None else None


def get_street(session: Session, code: str) -> Street:
    normalised = normalise_street_code(code)
    street = session.scalar(select(Street).where(Street.code == normalised)) if normalised else None
    if street is None:
        raise NotFound(f"没有代码为 {code} 的街道", "code")
    return street


def streets_feature_collection(
    session: Session, today_iso: str, street_codes: list[str] | None = None
) -> dict[str, Any]:
    """All streets (or those of `street_codes`) as an RFC 7946 FeatureCollection, with their
    counts by status."""
    row = session.execute(
        text(
            """
            SELECT json_build_object(
              'type', 'FeatureCollection',
              'features', coalesce(json_agg(f ORDER BY f->'properties'->>'code'), '[]'::json)
            )
            FROM (
              SELECT json_build_object(
                'type', 'Feature',
                'id', t.code,
                'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(t.geom), 7)::json,
                'properties', json_build_object(
                  'code', t.code, 'name', t.name, 'name_en', t.name_en,
                  'district_code', t.district_code, 'approximate', t.approximate,
                  'source', t.source,
                  'area_km2', round((ST_Area(t.geom::geography) / 1e6)::numeric, 3),
                  'counts', (SELECT json_build_object(
                      'total', count(*),
                      'new', count(*) FILTER (WHERE s.status = 'new'),
                      'registered', count(*) FILTER (WHERE s.status = 'registered'),
                      'in_progress', count(*) FILTER (WHERE s.status = 'in_progress'),
                      'awaiting_acceptance',
                          count(*) FILTER (WHERE s.status = 'awaiting_acceptance'),
                      'closed', count(*) FILTER (WHERE s.status = 'closed'),
                      'overdue', count(*) FILTER (
                          WHERE (s.status NOT IN ('closed', 'awaiting_acceptance') AND (
                            s.current_deadline < CAST(:today AS date)
                            OR EXISTS (SELECT 1 FROM site_steps st WHERE st.site_id = s.id
                                       AND st.done_at IS NULL
                                       AND st.due_date < CAST(:today AS date))))
                          OR (s.status = 'new'
                              AND (s.created_at AT TIME ZONE 'Asia/Shanghai')::date
                                  < CAST(:today AS date) - :registration_days)))
                    FROM sites s WHERE s.street_id = t.id AND s.deleted_at IS NULL)
                )
              ) AS f
              FROM streets t
              WHERE CAST(:codes AS text[]) IS NULL OR t.code = ANY(CAST(:codes AS text[]))
            ) q
            """
        ),
        {
            "today": today_iso,
            "codes": street_codes,
            "registration_days": deadlines.registration_days(),
        },
    ).scalar_one()
    return row


def street_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every street, by code: the choices of a form."""
    return [
        (code, name)
        for code, name in session.execute(select(Street.code, Street.name).order_by(Street.code))
    ]


def street_name(session: Session, code: str | None) -> str:
    """A street's name (its code when unknown; empty without a code)."""
    if not code:
        return ""
    return session.scalar(select(Street.name).where(Street.code == code)) or code


# ---------------------------------------------------------------- 第一责任人

MAX_LEADER_TEXT = 64


def _leader_text(value: Any, field: str, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"缺少{label}", field)
    value = value.strip()
    if len(value) > MAX_LEADER_TEXT:
        raise ValidationError(f"{label}过长（最多 {MAX_LEADER_TEXT} 个字）", field)
    return value


def record_leader(
    session: Session, street_code: str, name: Any, title: Any, since: Any, actor_name: str
) -> StreetLeader:
    """The office records a street's first responsible person from `since` on; the earlier
    ones stay (the history of who held it when)."""
    street = get_street(session, street_code)
    name = _leader_text(name, "name", "第一责任人姓名")
    title = _leader_text(title, "title", "职务")
    if not isinstance(since, str) or not since.strip():
        raise ValidationError("缺少任职起始日期（since）", "since")
    try:
        day = date.fromisoformat(since.strip())
    except ValueError:
        raise ValidationError(
            f"任职起始日期无法识别：{since!r}（格式 2026-01-01）", "since"
        ) from None
    leader = StreetLeader(
        district_code=street.district_code,
        street_id=street.id,
        name=name,
        title=title,
        since=day,
        recorded_by=actor_name,
        recorded_at=clock.now(),
    )
    session.add(leader)
    session.flush()
    return leader


def leader_dict(leader: StreetLeader | None) -> dict[str, Any] | None:
    if leader is None:
        return None
    return {
        "name": leader.name,
        "title": leader.title,
        "since": leader.since.isoformat(),
        "recorded_by": leader.recorded_by,
        "recorded_at": leader.recorded_at.isoformat(),
    }


def leaders_on(session: Session, day: date) -> dict[int, StreetLeader]:
    """Each street's first responsible person on `day` (the newest record since then)."""
    rows = session.scalars(
        select(StreetLeader)
        .where(StreetLeader.since <= day)
        .order_by(StreetLeader.street_id, StreetLeader.since, StreetLeader.id)
    )
    out: dict[int, StreetLeader] = {}
    for leader in rows:
        out[leader.street_id] = leader
    return out


def leader_history(session: Session, street_code: str) -> list[dict[str, Any]]:
    street = get_street(session, street_code)
    rows = session.scalars(
        select(StreetLeader)
        .where(StreetLeader.street_id == street.id)
        .order_by(StreetLeader.since.desc(), StreetLeader.id.desc())
    )
    return [d for d in (leader_dict(r) for r in rows) if d is not None]
