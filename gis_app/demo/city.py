"""A synthetic city for tests and benchmarks at city scale: Tianjin's 16 districts, each split
into approximate streets, each with the demo generator's sites.

The district outlines are real (``layers/data/tianjin-districts.geojson``); the streets are not:
Hedong keeps its 12 approximate streets (``hedong-streets-approx.geojson``), every other district
is cut into 10-15 Voronoi cells around seed points spread by a few Lloyd steps, with synthetic
9-digit codes that start with the district's adcode (``120101001`` …) and names such as
"和平区第3街道". Nothing here is an official boundary; it exists to give a city of a million
sites the shape of a real one (dense small districts in the centre, large suburban ones around).

Pure data, deterministic from the seed; no database.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from gis_app.demo import streets_builder as sb

_LAYERS_DATA = Path(__file__).resolve().parents[2] / "layers" / "data"
DISTRICTS_FILE = _LAYERS_DATA / "tianjin-districts.geojson"
HEDONG_STREETS_FILE = _LAYERS_DATA / "hedong-streets-approx.geojson"
HEDONG = "120102"
MIN_STREETS, MAX_STREETS = 10, 15
_LLOYD_STEPS = 4
CITY_SOURCE = (
    "合成街道：由天津市区界按随机种子点做 Voronoi 划分而成，仅供压力测试。 Synthetic streets: "
    "a Voronoi split of the real district outline, for benchmarks only; not official boundaries."
)


@dataclass(frozen=True)
class CityDistrict:
    """One district of the synthetic city: its outline, its streets and its share of sites."""

    code: str
    name: str
    outline: MultiPolygon
    streets: gpd.GeoDataFrame  # code, name, name_en, approximate, source, geometry (EPSG:4326)
    weight: float  # share of the city's sites (sums to 1 over the city)


def _as_multi(geom: shapely.Geometry) -> MultiPolygon:
    geom = shapely.make_valid(geom)
    polys = [geom] if isinstance(geom, Polygon) else list(getattr(geom, "geoms", []))
    return MultiPolygon([p for p in polys if isinstance(p, Polygon) and not p.is_empty])


def street_count(area_km2: float) -> int:
    """10 streets for the smallest district, up to 15 for the largest (grows with log area)."""
    return int(np.clip(round(MIN_STREETS + 1.5 * math.log10(max(area_km2, 1.0))), 10, 15))


def split_district(
    code: str, name: str, outline: MultiPolygon, n: int, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """``n`` approximate streets partitioning ``outline``: Voronoi cells of seeds spread inside
    it by a few Lloyd steps (computed in metres), clipped to the outline in degrees."""
    to_metric = sb.transformer_between(4326, sb.METRIC_CRS)
    to_wgs84 = sb.transformer_between(sb.METRIC_CRS, 4326)
    outline_m = sb.reproject(outline, to_metric)
    minx, miny, maxx, maxy = outline_m.bounds
    shapely.prepare(outline_m)
    seeds = np.empty((0, 2))
    while len(seeds) < n:
        xy = np.column_stack([rng.uniform(minx, maxx, 8 * n), rng.uniform(miny, maxy, 8 * n)])
        seeds = np.vstack([seeds, xy[shapely.contains_xy(outline_m, xy[:, 0], xy[:, 1])]])
    seeds = seeds[:n]
    for _ in range(_LLOYD_STEPS):
        for i, cell in enumerate(sb.voronoi_cells(seeds, outline_m)):
            part = cell.intersection(outline_m)
            if not part.is_empty:
                seeds[i] = (lambda c: (c.x, c.y))(part.centroid)
    extent = outline_m.envelope.buffer(5000.0)
    cells = [sb.reproject(cell, to_wgs84) for cell in sb.voronoi_cells(seeds, extent)]
    pieces = sb.merge_fragments(sb.partition(cells, outline))
    geoms = [sb.as_multipolygon(sb.round_coords(piece, sb.COORD_DECIMALS)) for piece in pieces]
    # number the streets from north-west to south-east, as a person would read the map
    order = sorted(
        range(len(geoms)),
        key=lambda i: (-round(geoms[i].centroid.y, 2), geoms[i].centroid.x),
    )
    kept = [i for i in order if not geoms[i].is_empty]
    return gpd.GeoDataFrame(
        {
            "code": [f"{code}{k:03d}" for k in range(1, len(kept) + 1)],
            "name": [f"{name}第{k}街道" for k in range(1, len(kept) + 1)],
            "name_en": [f"Street {k} (synthetic)" for k in range(1, len(kept) + 1)],
            "approximate": [True] * len(kept),
            "source": [CITY_SOURCE] * len(kept),
        },
        geometry=[geoms[i] for i in kept],
        crs="EPSG:4326",
    )


def build_city(seed: int = 1, codes: Sequence[str] | None = None) -> list[CityDistrict]:
    """Tianjin's 16 districts (or those of ``codes``) with their streets; site weights grow
    with the square root of the area (the centre is denser, the suburbs hold more in all)."""
    frame = gpd.read_file(DISTRICTS_FILE).to_crs(4326)
    if codes is not None:
        frame = frame[frame["adcode"].astype(str).isin(list(codes))]
    rng = np.random.default_rng(seed)
    hedong_streets = gpd.read_file(HEDONG_STREETS_FILE)
    out = []
    sqrt_area = np.sqrt(frame["area_km2"].astype(float).to_numpy())
    weights = sqrt_area / sqrt_area.sum()
    for row, weight in zip(frame.itertuples(index=False), weights, strict=True):
        code = str(row.adcode)
        outline = _as_multi(row.geometry)
        if code == HEDONG:
            streets = hedong_streets
            # the Hedong streets partition the demo outline: use their union as the outline so
            # that streets and district agree exactly
            outline = _as_multi(shapely.union_all(streets.geometry.values))
        else:
            n = street_count(float(row.area_km2))
            streets = split_district(code, str(row.name), outline, n, rng)
        out.append(CityDistrict(code, str(row.name), outline, streets, float(weight)))
    return out


def site_counts(city: list[CityDistrict], total: int) -> list[int]:
    """How many of ``total`` sites each district gets (largest remainders, sums to total)."""
    raw = np.array([d.weight for d in city]) * total
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts))[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def city_sites(
    city: list[CityDistrict], total: int, seed: int, today: date
) -> Iterator[tuple[CityDistrict, list[dict[str, Any]]]]:
    """The demo generator's sites, district by district (one district in memory at a time)."""
    from gis_app.demo.sites_generator import generate_sites

    for k, (district, n) in enumerate(zip(city, site_counts(city, total), strict=True)):
        yield district, generate_sites(district.streets, n=n, seed=seed + k, today=today)
