"""Import a road network (lines) from GeoJSON or GeoPackage into `roads`: all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core.errors import ImportRejected, ValidationError

if TYPE_CHECKING:
    import geopandas as gpd

SUFFIXES = (".geojson", ".json", ".gpkg")
NAME_COLUMNS = ("name", "名称", "道路名称", "路名", "road_name", "name_zh")
KIND_COLUMNS = ("highway", "kind", "fclass", "type", "class", "道路等级", "等级")
BATCH = 2000


@dataclass
class RoadImportReport:
    district_code: str
    features: int
    lines: int
    replaced: int
    length_km: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "district_code": self.district_code,
            "features": self.features,
            "lines": self.lines,
            "replaced": self.replaced,
            "length_km": round(self.length_km, 3),
            "source": self.source,
        }


def read_road_file(path: Path) -> gpd.GeoDataFrame:
    """The file's features in EPSG:4326; clear errors for a missing, empty or unplaceable file."""
    import geopandas as gpd

    if not path.is_file():
        raise ValidationError(f"文件不存在：{path}", "file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(
            f"不支持的文件格式 {suffix or '（无扩展名）'}：请用 GeoJSON 或 GeoPackage", "file"
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        raise ValidationError(f"无法读取路网文件：{exc}", "file") from exc
    if gdf.empty or gdf.geometry.isna().all():
        raise ValidationError("路网文件中没有要素", "file")
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ValidationError(
                "路网文件没有坐标系信息，且坐标不像经纬度：请在文件中注明坐标系", "crs"
            )
        gdf = gdf.set_crs(4326)
    elif gdf.crs.to_epsg() != 4326:
        try:
            gdf = gdf.to_crs(4326)
        except Exception as exc:  # pyproj: no transformation to WGS84
            raise ValidationError(
                f"路网文件的坐标系无法转换为 WGS84（EPSG:4326）：{gdf.crs}：{exc}", "crs"
            ) from exc
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError("路网文件的坐标超出经纬度范围：坐标系标注是否有误？", "crs")
    return gdf


def _pick(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[c.lower()] for c in candidates if c.lower() in lowered), None)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def import_roads(
    session: Session,
    path: Path,
    district_code: str,
    *,
    replace: bool = False,
    source: str = "",
    progress: Callable[[str], None] | None = None,
) -> RoadImportReport:
    """Import the lines of `path` as the road network of `district_code`.

    Every feature must be a LineString or MultiLineString (a MultiLineString becomes one row
    per part); any other feature rejects the whole file with its row number. A district that
    already has roads is refused unless `replace`, which deletes them in the same transaction.
    """
    say = progress or (lambda _msg: None)
    say(f"读取 {path.name}…")
    gdf = read_road_file(path)
    exists = session.execute(
        text("SELECT 1 FROM districts WHERE code = :c"), {"c": district_code}
    ).first()
    if exists is None:
        raise ValidationError(
            f"区县 {district_code} 尚未建立：请先导入街道边界（gis-app import-streets）",
            "district",
        )
    rows = _road_rows(gdf, path.name)
    existing = _clear_roads(session, district_code, replace, say)
    src = source or path.name
    _insert_roads(session, rows, district_code, src, say)
    length_m = session.execute(
        text(
            "SELECT coalesce(sum(ST_Length(geom::geography)), 0) FROM roads "
            "WHERE district_code = :d"
        ),
        {"d": district_code},
    ).scalar_one()
    report = RoadImportReport(
        district_code=district_code,
        features=len(gdf),
        lines=len(rows),
        replaced=existing,
        length_km=float(length_m) / 1000,
        source=src,
    )
    session.flush()
    say(f"导入 {report.lines} 条道路，共 {report.length_km:.1f} km")
    return report


def _road_rows(gdf: gpd.GeoDataFrame, filename: str) -> list[dict[str, Any]]:
    """One row (WKB, name, kind) per line of the file, a MultiLineString's parts each; any
    feature that is not a line rejects the file, every such feature named by its number."""
    import shapely

    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    name_col = _pick(columns, NAME_COLUMNS)
    kind_col = _pick(columns, KIND_COLUMNS)
    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for i, (geom, name, kind) in enumerate(
        zip(
            gdf.geometry,
            gdf[name_col] if name_col else [None] * len(gdf),
            gdf[kind_col] if kind_col else [None] * len(gdf),
            strict=True,
        ),
        start=1,
    ):
        if geom is None or geom.is_empty:
            errors.append({"row": i, "field": "geometry", "message": f"第 {i} 个要素没有几何"})
            continue
        if geom.geom_type not in ("LineString", "MultiLineString"):
            errors.append(
                {
                    "row": i,
                    "field": "geometry",
                    "message": f"第 {i} 个要素是 {geom.geom_type}，路网只能是线（LineString）",
                }
            )
            continue
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        for part in parts:
            part = shapely.force_2d(part)
            if len(shapely.get_coordinates(part)) < 2 or part.length == 0:
                continue  # a degenerate part of a line: nothing to walk on
            rows.append({"wkb": part.wkb, "name": _text(name), "kind": _text(kind)})
    if errors:
        raise ImportRejected(
            f"路网文件有 {len(errors)} 处错误，未导入任何道路", errors, file=filename
        )
    if not rows:
        raise ValidationError("路网文件中没有可用的线", "file")
    return rows


def _clear_roads(
    session: Session, district_code: str, replace: bool, say: Callable[[str], None]
) -> int:
    """Delete the district's roads when replacing them (how many); refuse otherwise."""
    existing = session.execute(
        text("SELECT count(*) FROM roads WHERE district_code = :d"), {"d": district_code}
    ).scalar_one()
    if existing and not replace:
        raise ValidationError(
            f"区县 {district_code} 已有 {existing} 条道路；如需替换请加 --replace", "replace"
        )
    if existing:
        say(f"删除原有 {existing} 条道路…")
        session.execute(text("DELETE FROM roads WHERE district_code = :d"), {"d": district_code})
    return int(existing)


def _insert_roads(
    session: Session,
    rows: list[dict[str, Any]],
    district_code: str,
    source: str,
    say: Callable[[str], None],
) -> None:
    """The rows into `roads`, BATCH at a time (one statement each)."""
    insert = text(
        "INSERT INTO roads (district_code, name, kind, geom, source) "
        "SELECT :d, r.name, r.kind, ST_GeomFromWKB(r.wkb, 4326), :source "
        "FROM unnest(CAST(:names AS text[]), CAST(:kinds AS text[]), CAST(:wkbs AS bytea[])) "
        "AS r(name, kind, wkb)"
    )
    for lo in range(0, len(rows), BATCH):
        batch = rows[lo : lo + BATCH]
        session.execute(
            insert,
            {
                "d": district_code,
                "source": source,
                "names": [r["name"] for r in batch],
                "kinds": [r["kind"] for r in batch],
                "wkbs": [r["wkb"] for r in batch],
            },
        )
        say(f"已写入 {min(lo + BATCH, len(rows))}/{len(rows)} 条道路")
