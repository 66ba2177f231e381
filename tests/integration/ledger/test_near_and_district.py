"""The `near` (within a radius of a point) and `district` filters of the site list."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from gis_app.features.ledger.queries import parse_near
from tests.support.sites import site_payload


@pytest.fixture()
def client(client, auth):
    """Requests come from the district office's machine (a bearer token)."""
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + auth.token("near", "district_officer")
    return client


CENTRE = (117.2381, 39.1100)  # inside 大直沽街道


def _offset(metres_east: float, metres_north: float) -> tuple[float, float]:
    lon, lat = CENTRE
    dlat = metres_north / 111_000.0
    dlon = metres_east / (111_000.0 * math.cos(math.radians(lat)))
    return round(lon + dlon, 7), round(lat + dlat, 7)


def _create(client, code: str, lon: float, lat: float) -> None:
    response = client.post("/api/v1/sites", json=site_payload(code=code, lon=lon, lat=lat))
    assert response.status_code == 201, response.get_json()


def _codes(client, query: str) -> list[str]:
    response = client.get(f"/api/v1/sites?{query}")
    assert response.status_code == 200, response.get_json()
    return sorted(f["properties"]["code"] for f in response.get_json()["features"])


def test_near_keeps_the_sites_within_the_radius_on_the_spheroid(client, connection) -> None:
    for code, (east, north) in {
        "N-centre": (0, 0),
        "N-east-300": (300, 0),
        "N-north-480": (0, 480),
        "N-diag-450": (318, 318),  # about 450 m away, inside the circle, near the box corner
        "N-diag-600": (424, 424),  # about 600 m: inside the degree box, outside the circle
        "N-east-700": (700, 0),
    }.items():
        _create(client, code, *_offset(east, north))
    distances = dict(
        connection.execute(
            text(
                "SELECT code, ST_Distance(geom::geography, "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) FROM sites"
            ),
            {"lon": CENTRE[0], "lat": CENTRE[1]},
        ).all()
    )
    expected = sorted(code for code, d in distances.items() if d <= 500)
    assert expected == ["N-centre", "N-diag-450", "N-east-300", "N-north-480"]
    near = f"{CENTRE[0]},{CENTRE[1]},500"
    assert _codes(client, f"near={near}") == expected
    assert _codes(client, f"near={CENTRE[0]},{CENTRE[1]},1000") == sorted(distances)
    # the counts and the paging links carry the same filter
    body = client.get(f"/api/v1/sites?near={near}&limit=2").get_json()
    assert body["numberMatched"] == 4
    assert "near=117.2381,39.11,500&" in next(
        link["href"] for link in body["links"] if link["rel"] == "next"
    )
    assert client.get(f"/api/v1/sites/counts?near={near}").get_json()["total"] == 4


def test_district_keeps_the_sites_of_that_district(client, connection) -> None:
    _create(client, "D-1", *CENTRE)
    assert _codes(client, "district=120102") == ["D-1"]
    assert _codes(client, "district=120101") == []
    assert _codes(client, "district=120101,120102") == ["D-1"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("near=117.2,39.1", "near"),
        ("near=117.2,39.1,abc", "near"),
        ("near=117.2,39.1,0", "near"),
        ("near=117.2,39.1,-5", "near"),
        ("near=117.2,39.1,20000", "near"),
        ("near=117.2,89.5,100", "near"),
        ("near=200,39.1,100", "near"),
        ("near=117.2,39.1,nan", "near"),
        ("district=12010", "district"),
        ("district=abcdef", "district"),
    ],
)
def test_bad_near_or_district_names_the_field(client, query: str, field: str) -> None:
    response = client.get(f"/api/v1/sites?{query}")
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == field and body["message"]


def test_parse_near_reads_lon_lat_radius() -> None:
    assert parse_near(" 117.25, 39.1 ,500") == (117.25, 39.1, 500.0)


def test_the_map_page_says_which_area_it_draws(client) -> None:
    _create(client, "M-1", *CENTRE)
    _create(client, "M-2", *_offset(900, 0))
    response = client.get(f"/map?near={CENTRE[0]},{CENTRE[1]},500&district=120102")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "周边：117.238100,39.110000 半径 500 米" in page and "区：120102" in page
    assert '"n":1,' in page  # one site drawn: the one within 500 m
