"""The sites API: create, read, list with filters and paging, update with versions, delete."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from gis_app.features.ledger.models import Site, SiteEvent
from tests.support.sites import site_payload

DAZHIGU = "120102002"


@pytest.fixture()
def client(client, auth):
    """Every request of this file comes from the district office's machine (a bearer token
    of the user `api`)."""
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + auth.token("api", "district_officer")
    return client


def _create(client, **overrides: Any) -> dict:
    response = client.post("/api/v1/sites", json=site_payload(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_derives_the_street_and_records_history(client, connection) -> None:
    feature = _create(client)
    props = feature["properties"]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [117.2381, 39.11]}
    assert props["street_code"] == DAZHIGU and props["street_name"] == "大直沽街道"
    assert props["status"] == "registered" and props["version"] == 1
    assert props["committed_deadline"] == props["current_deadline"] == "2026-09-30"
    assert props["person_name"] == "张某"  # internal API: the office sees the person concerned
    events = connection.execute(
        select(SiteEvent.action, SiteEvent.actor).where(SiteEvent.site_id == feature["id"])
    ).all()
    assert events == [("create", "api")]


def test_create_accepts_a_geojson_feature_and_chinese_labels(client) -> None:
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [117.2381, 39.11]},
        "properties": {"address": "某路1号", "disposition": "规范治理", "kind": "彩钢棚厦"},
    }
    response = client.post("/api/v1/sites", json=body)
    assert response.status_code == 201
    props = response.get_json()["properties"]
    assert props["disposition"] == "rectify" and props["kind"] == "steel_shed"
    assert props["code"].startswith(f"{DAZHIGU}-2026-")  # generated when not given
    assert response.headers["Location"].endswith(f"/api/v1/sites/{props['id']}")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lon": "abc"}, "lon"),
        ({"lat": "北纬39"}, "lat"),
        ({"lon": 200}, "lon"),
        ({"lat": -95}, "lat"),
        ({"lon": 116.40, "lat": 39.90}, "lon"),  # Beijing: outside every street
        ({"disposition": "推倒"}, "disposition"),
        ({"address": "  "}, "address"),
        ({"committed_deadline": "下个月"}, "committed_deadline"),
        ({"area_m2": -5}, "area_m2"),
        ({"status": "finished"}, "status"),
        ({"flag_hardship": "也许"}, "flag_hardship"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_refuses_bad_fields_naming_them(client, connection, overrides, field) -> None:
    before = connection.execute(select(Site.id)).all()
    response = client.post("/api/v1/sites", json=site_payload(**overrides))
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["field"] == field
    assert body["error"] == "invalid" and body["message"]
    assert connection.execute(select(Site.id)).all() == before


def test_outside_message_is_in_chinese(client) -> None:
    body = client.post("/api/v1/sites", json=site_payload(lon=116.40, lat=39.90)).get_json()
    assert "不在本区任何街道范围内" in body["message"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{bad json", "application/json"),
        ("[1, 2]", "application/json"),
        ("address=x", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ],
)
def test_unreadable_bodies_get_400(client, data: str, content_type: str) -> None:
    response = client.post("/api/v1/sites", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"


def test_duplicate_code_gets_409(client) -> None:
    _create(client)
    response = client.post("/api/v1/sites", json=site_payload())
    assert response.status_code == 409
    assert response.get_json()["field"] == "code"


def test_get_site_with_history_and_404s(client) -> None:
    site_id = _create(client)["id"]
    body = client.get(f"/api/v1/sites/{site_id}").get_json()
    assert body["properties"]["code"] == "T-0001"
    assert [e["action"] for e in body["history"]] == ["create"]
    for path in (
        "/api/v1/sites/999999999",
        "/api/v1/sites/99999999999999999999999",
        "/api/v1/sites/abc",
        "/api/v1/streets/999999999",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"] in ("not_found",), path


def test_update_with_current_version_then_stale_version_gets_409(client) -> None:
    site_id = _create(client)["id"]
    ok = client.patch(
        f"/api/v1/sites/{site_id}",
        json={"version": 1, "address": "大直沽中路14号", "reason": "门牌更正"},
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["properties"]["version"] == 2
    stale = client.patch(f"/api/v1/sites/{site_id}", json={"version": 1, "note": "x"})
    assert stale.status_code == 409
    assert stale.get_json()["field"] == "version" and stale.get_json()["current_version"] == 2
    history = client.get(f"/api/v1/sites/{site_id}/history").get_json()["events"]
    assert history[-1]["action"] == "update" and history[-1]["reason"] == "门牌更正"
    assert history[-1]["changes"]["address"] == ["大直沽中路12号院内", "大直沽中路14号"]


def test_update_with_if_match_header(client) -> None:
    site_id = _create(client)["id"]
    ok = client.patch(f"/api/v1/sites/{site_id}", json={"note": "a"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'


def test_moving_a_site_rederives_its_street(client) -> None:
    feature = _create(client)
    # a point inside 中山门 (120102003), from the demo street layer
    other = client.get("/api/v1/streets/120102003").get_json()
    from shapely.geometry import shape

    inner = shape(other["geometry"]).representative_point()
    response = client.patch(
        f"/api/v1/sites/{feature['id']}", json={"version": 1, "lon": inner.x, "lat": inner.y}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["properties"]["street_code"] == "120102003"
    event = client.get(f"/api/v1/sites/{feature['id']}/history").get_json()["events"][-1]
    assert event["changes"]["street"] == [DAZHIGU, "120102003"]
    outside = client.patch(
        f"/api/v1/sites/{feature['id']}", json={"version": 2, "lon": 116.4, "lat": 39.9}
    )
    assert outside.status_code == 422 and outside.get_json()["field"] == "lon"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"note": "x"}, 422, "version"),
        ({"version": "one", "note": "x"}, 422, "version"),
        ({"version": 1, "status": "closed"}, 422, "status"),
        ({"version": 1, "current_deadline": "2030-01-01"}, 422, "current_deadline"),
        ({"version": 1}, 422, None),
        ({"version": 1, "disposition": "推倒"}, 422, "disposition"),
        ({"version": 1, "address": ""}, 422, "address"),
        ({"version": 1, "lon": 117.2}, 422, "lat"),
    ],
)
def test_update_refusals(client, body, status, field) -> None:
    site_id = _create(client)["id"]
    response = client.patch(f"/api/v1/sites/{site_id}", json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field
    assert client.get(f"/api/v1/sites/{site_id}").get_json()["properties"]["version"] == 1


def test_committed_deadline_change_moves_current_deadline(client) -> None:
    site_id = _create(client)["id"]
    body = client.patch(
        f"/api/v1/sites/{site_id}", json={"version": 1, "committed_deadline": "2026-12-31"}
    ).get_json()
    assert body["properties"]["current_deadline"] == "2026-12-31"


def test_soft_delete_needs_a_reason(client, connection) -> None:
    site_id = _create(client)["id"]
    missing = client.delete(f"/api/v1/sites/{site_id}", json={})
    assert missing.status_code == 422 and missing.get_json()["field"] == "reason"
    stale = client.delete(f"/api/v1/sites/{site_id}", json={"reason": "重复登记", "version": 9})
    assert stale.status_code == 409
    ok = client.delete(f"/api/v1/sites/{site_id}", json={"reason": "重复登记"})
    assert ok.status_code == 200 and ok.get_json()["deleted"] is True
    gone = client.get(f"/api/v1/sites/{site_id}")
    assert gone.status_code == 404 and "重复登记" in gone.get_json()["message"]
    row = connection.execute(select(Site.deleted_reason).where(Site.id == site_id)).scalar_one()
    assert row == "重复登记"  # still in the database
    history = client.get(f"/api/v1/sites/{site_id}/history").get_json()["events"]
    assert history[-1]["action"] == "delete" and history[-1]["reason"] == "重复登记"
    # the code is free again
    assert client.post("/api/v1/sites", json=site_payload()).status_code == 201
    assert client.delete(f"/api/v1/sites/{site_id}", json={"reason": "again"}).status_code == 404


# ---------------------------------------------------------------- listing


@pytest.fixture()
def listed(client, connection) -> dict[str, int]:
    """Five sites with known attributes (frozen today is 2026-06-15)."""
    made = {
        "a": _create(
            client,
            code="L-A",
            disposition="demolish",
            committed_deadline="2026-05-01",
            flag_central_inspection=True,
        ),  # overdue
        "b": _create(
            client,
            code="L-B",
            disposition="rectify",
            committed_deadline="2026-12-01",
            address="唐口某院",
        ),
        "c": _create(
            client,
            code="L-C",
            disposition="rectify",
            committed_deadline="2026-01-01",
        ),  # closed (below): not overdue
        "d": _create(
            client,
            code="L-D",
            disposition="demolish",
            lon=117.26,
            lat=39.095,
            committed_deadline="2026-06-14",
        ),  # overdue by one day
        "e": _create(
            client,
            code="L-E",
            disposition="demolish",
            committed_deadline="2026-06-15",
        ),  # due today: not overdue yet
    }
    # states the workflow would have reached (no one may register a site in them)
    for key, status in (("c", "closed"), ("e", "in_progress")):
        connection.execute(update(Site).where(Site.id == made[key]["id"]).values(status=status))
    return {k: v["id"] for k, v in made.items()}


def _codes(client, query: str) -> list[str]:
    response = client.get(f"/api/v1/sites?{query}")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    return sorted(f["properties"]["code"] for f in response.get_json()["features"])


def test_filters(client, listed) -> None:
    assert _codes(client, "q=L-") == ["L-A", "L-B", "L-C", "L-D", "L-E"]
    assert _codes(client, "q=L-&overdue=true") == ["L-A", "L-D"]
    assert _codes(client, "q=L-&overdue=false") == ["L-B", "L-C", "L-E"]
    assert _codes(client, "q=L-&disposition=rectify") == ["L-B", "L-C"]
    assert _codes(client, "q=L-&disposition=规范治理") == ["L-B", "L-C"]
    assert _codes(client, "q=L-&status=closed,in_progress") == ["L-C", "L-E"]
    assert _codes(client, "q=L-&flag=central_inspection") == ["L-A"]
    assert _codes(client, f"q=L-&street={DAZHIGU}") == ["L-A", "L-B", "L-C", "L-E"]
    assert _codes(client, "q=唐口") == ["L-B"]
    assert _codes(client, "q=L-&bbox=117.25,39.09,117.27,39.10") == ["L-D"]
    assert _codes(client, "q=L-&deadline_from=2026-06-01&deadline_to=2026-06-30") == ["L-D", "L-E"]
    assert _codes(client, "q=100%25") == []  # a literal % matches nothing, not everything


def test_counts_match_the_list(client, listed) -> None:
    counts = client.get("/api/v1/sites/counts?q=L-").get_json()
    assert counts["total"] == 5 and counts["overdue"] == 2 and counts["closed"] == 1
    assert counts["registered"] == 3 and counts["in_progress"] == 1


def test_paging_reports_number_matched_and_links(client, listed) -> None:
    first = client.get("/api/v1/sites?q=L-&limit=2").get_json()
    assert first["numberMatched"] == 5 and first["numberReturned"] == 2
    rels = {link["rel"]: link["href"] for link in first["links"]}
    assert "next" in rels and "prev" not in rels
    seen = [f["properties"]["code"] for f in first["features"]]
    href = rels["next"]
    while href:
        page = client.get(href.replace("http://localhost", "")).get_json()
        seen += [f["properties"]["code"] for f in page["features"]]
        href = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), None)
    assert sorted(seen) == ["L-A", "L-B", "L-C", "L-D", "L-E"]
    assert "person_name" not in first["features"][0]["properties"]  # lists carry no personal data


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=117.3,39,117.2,39.1", "bbox"),
        ("bbox=0,0,90,80", "bbox"),
        ("status=done", "status"),
        ("street=12", "street"),
        ("overdue=maybe", "overdue"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("offset=9223372036854775808", "offset"),  # past bigint: once a 500 (the fuzzer)
        ("deadline_from=yesterday", "deadline_from"),
        ("deadline_from=2026-02-01&deadline_to=2026-01-01", "deadline_from"),
        ("flag=vip", "flag"),
        ("q=" + "长" * 101, "q"),
    ],
)
def test_bad_filters_get_422_naming_the_parameter(client, query: str, field: str) -> None:
    response = client.get(f"/api/v1/sites?{query}")
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_limit_is_capped(client, listed) -> None:
    body = client.get("/api/v1/sites?limit=100000").get_json()
    self_link = next(lk["href"] for lk in body["links"] if lk["rel"] == "self")
    assert "limit=1000" in self_link


def test_streets_collection_is_rfc7946(client, listed) -> None:
    body = client.get("/api/v1/streets").get_json()
    assert body["type"] == "FeatureCollection" and "crs" not in body
    hedong = [f for f in body["features"] if f["id"].startswith("120102")]
    assert len(hedong) == 12
    dazhigu = next(f for f in hedong if f["id"] == DAZHIGU)
    assert dazhigu["properties"]["counts"]["total"] == 4
    assert dazhigu["properties"]["approximate"] is True
    ring = dazhigu["geometry"]["coordinates"][0][0]
    area2 = sum(
        ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1)
    )
    assert area2 > 0  # exterior ring counter-clockwise
    assert 117 < ring[0][0] < 118 and 39 < ring[0][1] < 40  # lon, lat order


def test_openapi_document(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    for path in ("/sites", "/sites/{site_id}", "/streets", "/sites/import"):
        assert path in doc["paths"]
    assert set(doc["paths"]["/sites/{site_id}"]) == {"get", "patch", "delete"}
    enum = doc["components"]["schemas"]["SiteCreate"]["properties"]["disposition"]["enum"]
    assert enum == ["demolish", "rectify"]


def test_method_not_allowed_is_json(client) -> None:
    response = client.put("/api/v1/sites/1", json={})
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
