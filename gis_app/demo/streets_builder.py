"""Approximate street (街道) polygons for the Hedong demo district.

No public street boundaries exist for Hedong District, Tianjin, so this module builds clearly
labelled *approximate* ones: the real district outline is split into 12 cells by a Voronoi
diagram of hand-placed seed points, each cell clipped to the outline, so that the cells partition
the outline exactly.

The seed positions are approximate. They follow the neighbour notes in
``layers/data/hedong-subdistricts.csv`` (大直沽 on the south-west river edge, 中山门 south,
富民路 south of 中山门 by the river, 二号桥 east of 中山门, 上杭路 north of 中山门 across the
railway, 唐家口 north-east of 大直沽, 大王庄 on the river in the north-west) and a general
knowledge of Tianjin for the rest (春华, 向阳楼, 常州道, 东新, 鲁山道 in the north and
north-east). The seeds are then nudged by a few damped Lloyd steps and by an area correction
towards the areas the CSV gives (大直沽 3.27 km², 中山门 2.38 km²). The result is for demos
only: it is not an official boundary and must not be used to decide which street owns a site
in a real district (import the district's own boundary file for that).

Run ``python -m gis_app.demo.streets_builder`` to regenerate
``layers/data/hedong-streets-approx.geojson``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.polygon import orient

#: Metric CRS for areas and the Voronoi split (CGCS2000 / 3-degree Gauss-Kruger CM 117E).
METRIC_CRS = "EPSG:4547"
#: Decimal places of the written coordinates (about 1 cm).
COORD_DECIMALS = 7

_LAYERS_DATA = Path(__file__).resolve().parents[2] / "layers" / "data"
DEFAULT_OUTLINE = _LAYERS_DATA / "hedong-district.geojson"
DEFAULT_CSV = _LAYERS_DATA / "hedong-subdistricts.csv"
DEFAULT_OUTPUT = _LAYERS_DATA / "hedong-streets-approx.geojson"

SOURCE_NOTE = (
    "近似边界：由河东区真实区界按种子点做 Voronoi 划分而成，种子点依据各街道相邻关系放置，"
    "并非官方街道边界。 Approximate polygons built by a Voronoi split of the real district "
    "outline from seed points placed by the streets' neighbour notes; not official boundaries."
)

# Seed points (lon, lat, WGS84), by 9-digit code. Approximate, see the module docstring.
_SEEDS: dict[str, tuple[float, float]] = {
    "120102001": (117.2185, 39.1255),  # 大王庄: river, opposite Xiaobailou (Heping)
    "120102002": (117.2381, 39.1100),  # 大直沽: SW river edge (CSV coordinate)
    "120102003": (117.2560, 39.1010),  # 中山门: south
    "120102004": (117.2470, 39.0900),  # 富民路: south of 中山门, by the river
    "120102005": (117.2840, 39.0950),  # 二号桥: east of 中山门 (east of the Yueya River)
    "120102006": (117.2150, 39.1420),  # 春华: north-west, by the railway station
    "120102007": (117.2330, 39.1230),  # 唐家口: NE of 大直沽
    "120102008": (117.2330, 39.1380),  # 向阳楼: north-west centre
    "120102009": (117.2520, 39.1470),  # 常州道: north
    "120102010": (117.2540, 39.1160),  # 上杭路: N of 中山门 across the railway, NE of 大直沽
    "120102011": (117.2690, 39.1280),  # 东新: east
    "120102012": (117.2780, 39.1520),  # 鲁山道: north-east
}

_LLOYD_STEPS = 6
_LLOYD_WEIGHT = 0.3


def read_street_rows(csv_path: Path) -> list[dict[str, str]]:
    """Return the CSV rows of the streets in the main (urban) area, in code order."""
    with Path(csv_path).open(encoding="utf-8", newline="") as fh:
        rows = [row for row in csv.DictReader(fh) if row["in_main_area"].strip() == "yes"]
    return sorted(rows, key=lambda row: row["code_9"])


def _read_outline(outline_path: Path) -> MultiPolygon:
    """Read the district outline (EPSG:4326) as one MultiPolygon."""
    frame = gpd.read_file(outline_path)
    if frame.crs is not None:
        frame = frame.to_crs(4326)
    geom = shapely.union_all(frame.geometry.values)
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty or not geom.is_valid:
        raise ValueError(f"{outline_path}: expected a valid (Multi)Polygon outline")
    return geom


def transformer_between(src: str | int, dst: str | int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def reproject(geom: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    """Reproject every vertex of a geometry (straight edges stay straight in the target)."""

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _xy)


def voronoi_cells(seeds: np.ndarray, extent: shapely.Geometry) -> list[Polygon]:
    """Unclipped Voronoi cells of ``seeds`` (n x 2), in seed order, covering ``extent``."""
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=extent, ordered=True)
    return list(cells.geoms)


def _adjust_seeds(
    seeds: np.ndarray, outline: shapely.Geometry, targets: dict[int, float]
) -> np.ndarray:
    """Damped Lloyd steps plus an area correction towards ``targets`` (index -> m²)."""
    seeds = seeds.copy()
    for _ in range(_LLOYD_STEPS):
        clipped = [cell.intersection(outline) for cell in voronoi_cells(seeds, outline)]
        for i, cell in enumerate(clipped):
            centre = cell.centroid
            if not outline.contains(centre):
                centre = cell.point_on_surface()
            seeds[i] += _LLOYD_WEIGHT * (np.array([centre.x, centre.y]) - seeds[i])
        clipped = [cell.intersection(outline) for cell in voronoi_cells(seeds, outline)]
        for i, target in targets.items():
            # Scaling the distance to every neighbour seed by f moves the shared bisectors by
            # the same factor, which scales the cell's area by about f².
            factor = (target / clipped[i].area) ** 0.5
            for j, other in enumerate(clipped):
                if j != i and j not in targets and clipped[i].touches(other):
                    seeds[j] = seeds[i] + (seeds[j] - seeds[i]) * factor
    return seeds


def partition(cells: list[Polygon], outline: MultiPolygon) -> list[shapely.Geometry]:
    """Clip ``cells`` to ``outline`` on one noded arrangement so shared edges are identical."""
    lines = shapely.union_all([outline.boundary, *[cell.boundary for cell in cells]])
    faces = list(shapely.polygonize(list(getattr(lines, "geoms", [lines]))).geoms)
    owned: list[list[Polygon]] = [[] for _ in cells]
    shapely.prepare(cells)
    shapely.prepare(outline)
    for face in faces:
        inner = face.point_on_surface()
        if not outline.contains(inner):
            continue
        owner = next(i for i, cell in enumerate(cells) if cell.contains(inner))
        owned[owner].append(face)
    return [shapely.union_all(parts) for parts in owned]


def merge_fragments(pieces: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Give each minor part of a multi-part piece to the neighbour it shares most border with."""
    pieces = list(pieces)
    for i in range(len(pieces)):
        parts = sorted(getattr(pieces[i], "geoms", [pieces[i]]), key=lambda p: -p.area)
        if len(parts) < 2:
            continue
        pieces[i] = parts[0]
        for part in parts[1:]:
            shared = [
                part.boundary.intersection(other.boundary).length if j != i else -1.0
                for j, other in enumerate(pieces)
            ]
            best = int(np.argmax(shared))
            if shared[best] <= 0:
                pieces[i] = shapely.union_all([pieces[i], part])
            else:
                pieces[best] = shapely.union_all([pieces[best], part])
    return pieces


def as_multipolygon(geom: shapely.Geometry) -> MultiPolygon:
    """Return a MultiPolygon with counter-clockwise exterior rings (RFC 7946)."""
    polys = [geom] if isinstance(geom, Polygon) else list(getattr(geom, "geoms", []))
    polys = [orient(p, 1.0) for p in polys if isinstance(p, Polygon) and not p.is_empty]
    return MultiPolygon(polys)


def round_coords(geom: shapely.Geometry, decimals: int) -> shapely.Geometry:
    """Round coordinates and drop repeated points; fall back to set_precision if invalid."""
    rounded = shapely.remove_repeated_points(
        shapely.transform(geom, lambda c: np.round(c, decimals))
    )
    if not rounded.is_valid:
        rounded = shapely.set_precision(geom, 10.0**-decimals)
    return rounded


def build_streets(outline_path: Path, csv_path: Path) -> gpd.GeoDataFrame:
    """Build the 12 approximate street polygons that partition the district outline."""
    rows = read_street_rows(csv_path)
    missing = [row["code_9"] for row in rows if row["code_9"] not in _SEEDS]
    if missing or len(rows) != len(_SEEDS):
        raise ValueError(f"CSV streets do not match the seed table (missing seeds: {missing})")
    outline = _read_outline(outline_path)
    to_metric = transformer_between(4326, METRIC_CRS)
    to_wgs84 = transformer_between(METRIC_CRS, 4326)
    outline_m = reproject(outline, to_metric)

    lon = np.array([_SEEDS[row["code_9"]][0] for row in rows])
    lat = np.array([_SEEDS[row["code_9"]][1] for row in rows])
    seeds = np.column_stack(to_metric.transform(lon, lat))
    targets = {
        i: float(row["area_km2"]) * 1e6 for i, row in enumerate(rows) if row["area_km2"].strip()
    }
    seeds = _adjust_seeds(seeds, outline_m, targets)

    # Final cells: computed in metres, reprojected vertex by vertex, clipped in degrees so the
    # union is the original outline.
    extent = outline_m.envelope.buffer(5000.0)
    cells = [reproject(cell, to_wgs84) for cell in voronoi_cells(seeds, extent)]
    pieces = merge_fragments(partition(cells, outline))
    geoms = [as_multipolygon(round_coords(piece, COORD_DECIMALS)) for piece in pieces]
    return gpd.GeoDataFrame(
        {
            "code": [row["code_9"] for row in rows],
            "name": [row["name"] for row in rows],
            "name_en": [row["name_en"] for row in rows],
            "approximate": [True] * len(rows),
            "source": [SOURCE_NOTE] * len(rows),
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def streets_area_km2(gdf: gpd.GeoDataFrame) -> list[float]:
    """Areas of the street polygons in km², measured in the metric CRS."""
    return [float(a) / 1e6 for a in gdf.geometry.to_crs(METRIC_CRS).area]


def write_streets_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write ``gdf`` as an RFC 7946 FeatureCollection (no crs member, UTF-8)."""
    frame = gdf.to_crs(4326) if gdf.crs is not None else gdf
    features = []
    for row in frame.itertuples(index=False):
        geom = as_multipolygon(row.geometry)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": row.code,
                    "code_12": f"{row.code}000",
                    "name": row.name,
                    "name_en": row.name_en,
                    "approximate": bool(row.approximate),
                    "source": row.source,
                },
                "geometry": mapping(geom),
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    Path(path).write_text(text + "\n", encoding="utf-8")


def main() -> None:
    """Regenerate the approximate streets file and print each street's area."""
    gdf = build_streets(DEFAULT_OUTLINE, DEFAULT_CSV)
    write_streets_geojson(gdf, DEFAULT_OUTPUT)
    for (code, name), area in zip(
        zip(gdf["code"], gdf["name"], strict=True), streets_area_km2(gdf), strict=True
    ):
        print(f"{code}  {name:<6}  {area:6.2f} km²")
    print(f"total {sum(streets_area_km2(gdf)):.2f} km² -> {DEFAULT_OUTPUT}")


if __name__ == "__main__":
    main()
