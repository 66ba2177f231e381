"""Unit tests of the demo data builders: approximate streets and synthetic sites (no database)."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import Counter
from datetime import UTC, date, timedelta
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import shape

from gis_app.core.codes import DISPOSITIONS, KINDS, SOURCES, STATUSES
from gis_app.demo.sites_generator import generate_sites
from gis_app.demo.streets_builder import (
    DEFAULT_CSV,
    DEFAULT_OUTLINE,
    DEFAULT_OUTPUT,
    METRIC_CRS,
    build_streets,
    write_streets_geojson,
)

TODAY = date(2022, 3, 1)
SITE_KEYS = {
    "code",
    "lon",
    "lat",
    "street_code",
    "address",
    "community",
    "kind",
    "area_m2",
    "person_name",
    "person_contact",
    "disposition",
    "flag_central_inspection",
    "flag_hardship",
    "flag_renovation",
    "flag_obstruction",
    "status",
    "committed_deadline",
    "current_deadline",
    "created_at",
    "source",
    "note",
}


@pytest.fixture(scope="module")
def streets() -> gpd.GeoDataFrame:
    return build_streets(DEFAULT_OUTLINE, DEFAULT_CSV)


@pytest.fixture(scope="module")
def outline_m() -> shapely.Geometry:
    return shapely.union_all(gpd.read_file(DEFAULT_OUTLINE).to_crs(METRIC_CRS).geometry.values)


@pytest.fixture(scope="module")
def written(streets: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("streets") / "streets.geojson"
    write_streets_geojson(streets, path)
    return path


@pytest.fixture(scope="module")
def sites(streets: gpd.GeoDataFrame) -> list[dict]:
    return generate_sites(streets, 2000, seed=7, today=TODAY)


# --- streets ---------------------------------------------------------------------------------


def test_streets_match_the_csv(streets: gpd.GeoDataFrame) -> None:
    with DEFAULT_CSV.open(encoding="utf-8") as fh:
        rows = [row for row in csv.DictReader(fh) if row["in_main_area"] == "yes"]
    assert len(streets) == 12
    assert sorted(streets["code"]) == sorted(row["code_9"] for row in rows)
    assert dict(zip(streets["code"], streets["name"], strict=True)) == {
        row["code_9"]: row["name"] for row in rows
    }
    assert all(re.fullmatch(r"\d{9}", code) for code in streets["code"])
    assert streets["approximate"].all()
    assert all("Voronoi" in text and "近似" in text for text in streets["source"])
    assert streets.crs.to_epsg() == 4326


def test_streets_are_valid_multipolygons(streets: gpd.GeoDataFrame) -> None:
    assert (streets.geom_type == "MultiPolygon").all()
    assert streets.is_valid.all()
    assert not streets.is_empty.any()


def test_streets_partition_the_outline(
    streets: gpd.GeoDataFrame, outline_m: shapely.Geometry
) -> None:
    metric = list(streets.to_crs(METRIC_CRS).geometry)
    for a, b in itertools.combinations(metric, 2):
        assert a.intersection(b).area < 1.0
    union = shapely.union_all(metric)
    assert union.symmetric_difference(outline_m).area < 1e-4 * outline_m.area
    for geom in metric:
        assert 1e6 <= geom.area <= 8e6


def test_streets_are_deterministic(streets: gpd.GeoDataFrame) -> None:
    again = build_streets(DEFAULT_OUTLINE, DEFAULT_CSV)
    assert list(again["code"]) == list(streets["code"])
    for a, b in zip(again.geometry, streets.geometry, strict=True):
        assert shapely.equals_exact(a, b, tolerance=0.0)


def test_written_geojson_is_rfc7946(written: Path) -> None:
    data = json.loads(written.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data
    assert "大王庄街道" in written.read_text(encoding="utf-8")  # not \\u-escaped
    assert len(data["features"]) == 12
    for feature in data["features"]:
        props = feature["properties"]
        assert set(props) == {"code", "code_12", "name", "name_en", "approximate", "source"}
        assert props["code_12"] == props["code"] + "000"
        assert props["approximate"] is True
        geom = shape(feature["geometry"])
        assert geom.geom_type == "MultiPolygon" and geom.is_valid
        for poly in geom.geoms:
            assert poly.exterior.is_ccw
            assert all(not ring.is_ccw for ring in poly.interiors)
        for ring in feature["geometry"]["coordinates"]:
            for x, y in ring[0]:
                assert round(x, 7) == x and round(y, 7) == y


def test_committed_streets_file_is_up_to_date(written: Path) -> None:
    assert DEFAULT_OUTPUT.read_bytes() == written.read_bytes()


# --- sites -----------------------------------------------------------------------------------


def test_sites_have_the_agreed_keys_and_values(sites: list[dict]) -> None:
    assert len(sites) == 2000
    for site in sites:
        assert set(site) == SITE_KEYS
        assert site["kind"] in KINDS
        assert site["status"] in STATUSES
        assert site["disposition"] in DISPOSITIONS
        assert site["source"] in SOURCES
        assert site["area_m2"] > 0 and round(site["area_m2"], 1) == site["area_m2"]
        assert re.fullmatch(r"1[358]\d{9}", site["person_contact"])
        assert 2 <= len(site["person_name"]) <= 3
        assert site["address"] and "号" in site["address"]
        assert site["community"].endswith("社区")
        assert round(site["lon"], 7) == site["lon"] and round(site["lat"], 7) == site["lat"]
        if site["flag_central_inspection"]:
            assert site["disposition"] == "demolish"
        assert (site["source"] == "patrol") == (site["status"] == "new")


def test_sites_are_deterministic(streets: gpd.GeoDataFrame) -> None:
    first = generate_sites(streets, 300, seed=11, today=TODAY)
    assert first == generate_sites(streets, 300, seed=11, today=TODAY)
    assert first != generate_sites(streets, 300, seed=12, today=TODAY)


def test_sites_lie_inside_their_street(streets: gpd.GeoDataFrame, sites: list[dict]) -> None:
    by_code = dict(zip(streets["code"], streets.geometry, strict=True))
    for code, group in itertools.groupby(
        sorted(sites, key=lambda s: s["street_code"]), key=lambda s: s["street_code"]
    ):
        members = list(group)
        lon = [s["lon"] for s in members]
        lat = [s["lat"] for s in members]
        assert shapely.contains_xy(by_code[code], lon, lat).all()


def test_site_codes_are_unique(sites: list[dict]) -> None:
    codes = [site["code"] for site in sites]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"HD-[A-Z0-9]{3,4}-\d{4,}", code) for code in codes)


def test_status_mix_and_overdue_share(sites: list[dict]) -> None:
    n = len(sites)
    shares = {status: count / n for status, count in Counter(s["status"] for s in sites).items()}
    assert 0.45 <= shares["closed"] <= 0.55
    assert 0.08 <= shares["awaiting_acceptance"] <= 0.12
    assert 0.17 <= shares["in_progress"] <= 0.23
    assert 0.10 <= shares["registered"] + shares["new"] <= 0.30
    overdue = [
        s
        for s in sites
        if s["status"] != "closed" and s["current_deadline"] and s["current_deadline"] < TODAY
    ]
    assert 0.06 <= len(overdue) / n <= 0.10
    closed = [s for s in sites if s["status"] == "closed"]
    past = sum(s["committed_deadline"] < TODAY for s in closed)
    assert past / len(closed) > 0.7
    demolish = sum(s["disposition"] == "demolish" for s in sites) / n
    assert 0.38 <= demolish <= 0.52


def test_deadlines_and_registration_dates(sites: list[dict]) -> None:
    extended = 0
    for site in sites:
        committed, current = site["committed_deadline"], site["current_deadline"]
        assert (committed is None) == (current is None)
        if committed is None:
            assert site["status"] == "new"
        else:
            assert current >= committed
            assert abs((committed - TODAY).days) <= 450
            extended += current > committed
        created = site["created_at"]
        assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
        age = (TODAY - created.astimezone(UTC).date()).days
        if site["status"] == "new":
            assert 0 <= age <= 31
            assert committed is None or 28 <= (committed - TODAY).days <= 92
        else:
            assert 29 <= age <= 732
            assert committed is None or created.date() < committed
    assert 0 < extended < 0.15 * len(sites)


def test_zero_and_negative_n(streets: gpd.GeoDataFrame) -> None:
    assert generate_sites(streets, 0, today=TODAY) == []
    with pytest.raises(ValueError):
        generate_sites(streets, -1, today=TODAY)


@pytest.mark.slow
def test_100k_sites_have_unique_codes(streets: gpd.GeoDataFrame) -> None:
    # how fast is the city bench's business (bench/city_bench.py), not a test's
    many = generate_sites(streets, 100_000, today=TODAY)
    assert len(many) == 100_000
    assert len({site["code"] for site in many}) == 100_000
