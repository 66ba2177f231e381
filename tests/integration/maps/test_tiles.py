"""Vector tiles of the sites: one point per site from POINT_ZOOM, counts on a grid below it."""

from __future__ import annotations

import math
from datetime import date

import mapbox_vector_tile
import pytest
from sqlalchemy import func, select

from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import overdue_expr
from gis_app.features.maps import tiles
from tests.support.sites import site_payload

TODAY_ARGS = {"n_sites": 400, "seed": 5}


@pytest.fixture()
def client(client, auth):
    """Requests come from the district office's machine (a bearer token)."""
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + auth.token("tiles", "district_officer")
    return client


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    """Tile x, y holding the point and the point's position in it (tile units, y down)."""
    n = 2**z
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    x, y = int(fx), int(fy)
    return x, y, (fx - x) * tiles.EXTENT, (fy - y) * tiles.EXTENT


def decode(body: bytes) -> list[dict]:
    layers = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    assert set(layers) == {"sites"}
    return layers["sites"]["features"]


def create(client, **overrides) -> dict:
    response = client.post("/api/v1/sites", json=site_payload(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_site_is_one_point_at_its_place_from_point_zoom(client) -> None:
    site = create(client, code="TILE-1", lon=117.2381, lat=39.11, disposition="rectify")
    create(client, code="TILE-2", lon=117.2700, lat=39.0950)  # another tile at z17
    x, y, px, py = tile_of(117.2381, 39.11, 17)
    response = client.get(f"/tiles/sites/17/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    assert response.headers["Cache-Control"] == "private, no-cache"
    features = decode(response.data)
    assert len(features) == 1
    feature = features[0]
    assert feature["id"] == site["id"]
    # only what the map draws: no personal data, no address
    assert feature["properties"] == {"k": "registered", "d": "rectify"}
    gx, gy = feature["geometry"]["coordinates"]
    assert abs(gx - px) <= 1 and abs(gy - py) <= 1
    # from the point zoom (14: the map's zoom 15 draws its tiles at 512 px) a point per site,
    # below it counts
    for z, points in ((tiles.POINT_ZOOM, True), (tiles.POINT_ZOOM - 1, False)):
        x, y, _, _ = tile_of(117.2381, 39.11, z)
        found = decode(client.get(f"/tiles/sites/{z}/{x}/{y}.mvt").data)
        assert (site["id"] in [f.get("id") for f in found]) is points, z
        assert all(("n" in f["properties"]) is not points for f in found), z


def test_an_overdue_site_is_drawn_as_overdue(client, connection) -> None:
    site = create(client, code="TILE-OD", committed_deadline="2026-01-31")
    x, y, _, _ = tile_of(117.2381, 39.11, 16)
    features = decode(client.get(f"/tiles/sites/16/{x}/{y}.mvt").data)
    assert [(f["id"], f["properties"]["k"]) for f in features] == [(site["id"], "overdue")]


def test_below_point_zoom_sites_are_counted_on_a_grid(client, db_session) -> None:
    load_demo(db_session, today=None, **TODAY_ARGS)
    z = 12
    x, y, _, _ = tile_of(117.24, 39.12, z)
    west, south, east, north = tiles.tile_bounds(z, x, y)
    on_this_tile = [
        func.ST_X(Site.geom) >= west,
        func.ST_X(Site.geom) < east,
        func.ST_Y(Site.geom) > south,
        func.ST_Y(Site.geom) <= north,
    ]
    inside = db_session.scalar(select(func.count()).where(*on_this_tile))
    overdue = db_session.scalar(
        select(func.count()).where(*on_this_tile, overdue_expr(date(2026, 6, 15)))
    )
    assert 0 < inside < 400  # the tile holds part of the district
    features = decode(client.get(f"/tiles/sites/{z}/{x}/{y}.mvt").data)
    assert len(features) < inside  # grouped
    on_tile = [
        f
        for f in features
        if 0 <= f["geometry"]["coordinates"][0] < tiles.EXTENT
        and 0 <= f["geometry"]["coordinates"][1] < tiles.EXTENT
    ]
    assert sum(f["properties"]["n"] for f in on_tile) == inside
    assert sum(f["properties"]["overdue"] for f in on_tile) == overdue > 0
    for f in on_tile:
        cx, cy = f["geometry"]["coordinates"]
        cell = tiles.cell_size(z)
        assert cx % cell == cell // 2 and cy % cell == cell // 2
        assert f["properties"]["k"] in {"new", "registered", "in_progress", "overdue",
                                        "awaiting_acceptance", "closed"}  # fmt: skip
        # every key and disposition with its count: they add up to the cell's sites
        parts = [part.split(":") for part in f["properties"]["c"].split(",")]
        assert sum(int(n) for _, _, n in parts) == f["properties"]["n"]
        assert sum(int(n) for k, _, n in parts if k == "overdue") == f["properties"]["overdue"]
        assert {d for _, d, _ in parts} <= {"demolish", "rectify"}


def test_the_filter_parameters_apply(client) -> None:
    create(client, code="TILE-D", disposition="demolish")
    x, y, _, _ = tile_of(117.2381, 39.11, 15)
    assert len(decode(client.get(f"/tiles/sites/15/{x}/{y}.mvt?disposition=demolish").data)) == 1
    response = client.get(f"/tiles/sites/15/{x}/{y}.mvt?disposition=rectify")
    assert response.status_code == 204 and response.data == b""


def test_a_tile_without_sites_is_empty(client) -> None:
    response = client.get("/tiles/sites/10/0/0.mvt")
    assert response.status_code == 204 and response.data == b""


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/tiles/sites/23/0/0.mvt", "z"),
        ("/tiles/sites/3/8/0.mvt", "x"),
        ("/tiles/sites/3/0/8.mvt", "y"),
        ("/tiles/sites/14/13527/6255.mvt?status=gone", "status"),
    ],
)
def test_a_bad_tile_address_or_filter_names_the_field(client, path: str, field: str) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_tile_bounds_match_web_mercator() -> None:
    assert tiles.tile_bounds(0, 0, 0) == pytest.approx((-180.0, -85.0511288, 180.0, 85.0511288))
    assert tiles.tile_bounds(1, 1, 0) == pytest.approx((0.0, 0.0, 180.0, 85.0511288))
    # the buffer widens the tile by a share of its width, clamped at the world's edge
    assert tiles.tile_bounds(1, 1, 0, 0.5)[0] == pytest.approx(-90.0)
    assert tiles.tile_bounds(1, 1, 0, 0.5)[2] == 180.0


def test_a_street_officer_gets_only_the_sites_of_the_street(client, auth) -> None:
    own = create(client, code="TILE-OWN", lon=117.2381, lat=39.11)  # 大直沽 (120102002)
    create(client, code="TILE-OTHER", lon=117.2560, lat=39.1050)  # 中山门 (120102003)
    x, y, _, _ = tile_of(117.2381, 39.11, 10)  # one tile holds both at z10
    assert tile_of(117.2560, 39.1050, 10)[:2] == (x, y)
    office = decode(client.get(f"/tiles/sites/10/{x}/{y}.mvt?q=TILE-").data)
    assert sum(f["properties"]["n"] for f in office) == 2
    street = auth.headers("tiles.street", "street_officer", "120102002")
    features = decode(client.get(f"/tiles/sites/10/{x}/{y}.mvt?q=TILE-", headers=street).data)
    assert sum(f["properties"]["n"] for f in features) == 1
    x17, y17, _, _ = tile_of(117.2560, 39.1050, 17)
    other = client.get(f"/tiles/sites/17/{x17}/{y17}.mvt", headers=street)
    assert other.status_code == 204  # the other street's site is not in its tile
    x17, y17, _, _ = tile_of(117.2381, 39.11, 17)
    mine = decode(client.get(f"/tiles/sites/17/{x17}/{y17}.mvt", headers=street).data)
    assert [f["id"] for f in mine] == [own["id"]]
    civil = auth.headers("tiles.civil", "bureau_civil")
    assert client.get(f"/tiles/sites/10/{x}/{y}.mvt", headers=civil).status_code == 403
