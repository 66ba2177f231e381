"""OGC API – Features at /ogc: documents, media types, queries; then GDAL's OAPIF driver live.

The first tests use the Flask test client inside the rolled-back transaction. The GDAL tests
need a real server: sites are committed for this module only and deleted afterwards (the other
tests expect no committed sites), and the app is served by werkzeug on a free port.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app.core import codes
from gis_app.features.exchange.export.fields import fields_for
from gis_app.features.exchange.ogc import COLLECTIONS, CONFORMANCE
from gis_app.features.exchange.ogc_schemas import MAX_LIMIT
from gis_app.features.ledger.models import Site
from tests.support.exports import load_sites, normalise, ogr_read
from tests.support.live import serve_app


@pytest.fixture(autouse=True)
def english_exports(app, monkeypatch):
    """These tests read the exports' English field names and codes (the district's default is
    Chinese: test_export_language.py)."""
    monkeypatch.setitem(app.config, "EXPORT_LANG", "en")


pytestmark = pytest.mark.slow

GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
BBOX = (117.20, 39.08, 117.25, 39.125)


@pytest.fixture()
def client(office):
    """Requests come from the district office, logged in (the identity these tests had before
    accounts); the access tests below log in other roles."""
    return office


@pytest.fixture()
def sites(db_session) -> int:
    load_sites(db_session)
    return db_session.scalar(
        select(func.count()).select_from(Site).where(Site.deleted_at.is_(None))
    )


def _json(client, url: str, media_type: str = "application/json", status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert response.content_type.split(";")[0] == media_type.split(";")[0], response.content_type
    return response.get_json(force=True)


def _rels(doc: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for link in doc["links"]:
        out.setdefault(link["rel"], []).append(link["type"])
    return out


# ---------------------------------------------------------------- documents


def test_landing_page_links_and_media_types(client) -> None:
    doc = _json(client, "/ogc")
    rels = _rels(doc)
    assert rels["self"] == ["application/json"] and rels["alternate"] == ["text/html"]
    assert rels["service-desc"] == [OPENAPI] and rels["service-doc"] == ["text/html"]
    assert rels["conformance"] == ["application/json"] and rels["data"] == ["application/json"]
    api = client.get(next(x["href"] for x in doc["links"] if x["rel"] == "service-desc"))
    assert api.headers["Content-Type"] == OPENAPI
    assert api.get_json(force=True)["openapi"].startswith("3.0")


def test_conformance_declares_core_geojson_oas30_html(client) -> None:
    doc = _json(client, "/ogc/conformance")
    assert doc["conformsTo"] == list(CONFORMANCE)
    assert any(c.endswith("/conf/core") for c in doc["conformsTo"])
    assert any(c.endswith("/conf/geojson") for c in doc["conformsTo"])
    assert any(c.endswith("/conf/oas30") for c in doc["conformsTo"])


def test_collections_with_extent_and_item_links(client, sites) -> None:
    doc = _json(client, "/ogc/collections")
    assert [c["id"] for c in doc["collections"]] == ["sites", "streets"]
    for coll in doc["collections"]:
        assert coll["itemType"] == "feature"
        minx, miny, maxx, maxy = coll["extent"]["spatial"]["bbox"][0]
        assert 117.1 < minx < maxx < 117.4 and 39.0 < miny < maxy < 39.2
        items = [x for x in coll["links"] if x["rel"] == "items"]
        assert {x["type"] for x in items} == {GEOJSON, "text/html"}
    start, end = doc["collections"][0]["extent"]["temporal"]["interval"][0]
    assert start < end and end.endswith("Z")
    one = _json(client, "/ogc/collections/streets")
    assert one["id"] == "streets" and _rels(one)["self"] == ["application/json"]
    missing = client.get("/ogc/collections/parcels")
    assert missing.status_code == 404 and missing.get_json()["field"] == "collectionId"


def _data_extent(db_session, table, *where) -> list[float]:
    box = db_session.execute(
        select(
            func.ST_XMin(func.ST_Extent(table.geom)),
            func.ST_YMin(func.ST_Extent(table.geom)),
            func.ST_XMax(func.ST_Extent(table.geom)),
            func.ST_YMax(func.ST_Extent(table.geom)),
        ).where(*where)
    ).one()
    return [round(v, 7) for v in box]


def test_each_collection_extent_is_its_datas(client, sites, db_session, auth) -> None:
    """Not the district outline: the sites' points, the streets' boundaries, the last changes."""
    from gis_app.features.streets.models import Street

    live = [Site.deleted_at.is_(None)]
    doc = _json(client, "/ogc/collections")
    by_id = {c["id"]: c["extent"] for c in doc["collections"]}
    assert by_id["sites"]["spatial"]["bbox"] == [_data_extent(db_session, Site, *live)]
    assert by_id["streets"]["spatial"]["bbox"] == [_data_extent(db_session, Street)]
    assert by_id["sites"]["spatial"]["bbox"] != by_id["streets"]["spatial"]["bbox"]
    first, last = db_session.execute(
        select(func.min(Site.updated_at), func.max(Site.updated_at)).where(*live)
    ).one()
    start, end = by_id["sites"]["temporal"]["interval"][0]
    assert _instant(start) == first.replace(microsecond=0)
    assert _instant(end) == last.replace(microsecond=0)
    one = _json(client, "/ogc/collections/sites")["extent"]
    assert one == by_id["sites"]
    # a street role sees its own street's sites and boundary only
    street_id, street = db_session.execute(
        select(Street.id, Street.code).join(Site, Site.street_id == Street.id).limit(1)
    ).one()
    auth.login(client, "街道甲", "street_officer", street)
    mine = _json(client, "/ogc/collections/sites")["extent"]["spatial"]["bbox"]
    assert mine == [_data_extent(db_session, Site, *live, Site.street_id == street_id)]
    boundary = _json(client, "/ogc/collections/streets")["extent"]["spatial"]["bbox"]
    assert boundary == [_data_extent(db_session, Street, Street.code == street)]
    # no sites at all: no spatial extent, an open interval
    db_session.execute(
        text("UPDATE sites SET deleted_at = now(), deleted_by = 'test', deleted_reason = '测试'")
    )
    empty = _json(client, "/ogc/collections/sites")["extent"]
    assert "spatial" not in empty and empty["temporal"]["interval"] == [[None, None]]


def _instant(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_openapi_lists_each_collection_and_its_queryables(client) -> None:
    doc = _json(client, "/ogc/api", OPENAPI)
    params = doc["paths"]["/collections/sites/items"]["get"]["parameters"]
    names = {p.get("name") for p in params} | {
        p["$ref"].rsplit("/", 1)[1] for p in params if "$ref" in p
    }
    assert {"limit", "bbox", "datetime", "status", "street_code", "flag_hardship"} <= names
    status = next(p for p in params if p.get("name") == "status")
    assert status["schema"]["enum"] == list(codes.STATUSES)
    assert "/collections/streets/items/{feature_id}" in doc["paths"]
    props = doc["components"]["schemas"]["sites_properties"]["properties"]
    assert list(props) == [f.name for f in fields_for("sites")]
    assert not set(props) & {*codes.PERSONAL_FIELDS, "note"}


def test_openapi_is_generated_from_the_models_the_views_validate_with(client) -> None:
    """Each collection's items path lists exactly the parameters its model accepts; the
    document is valid OpenAPI 3.0 (no 3.1 construct of pydantic's JSON Schema is left)."""
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_30

    doc = _json(client, "/ogc/api", OPENAPI)
    assert doc["openapi"] == "3.0.3"
    errors = [str(e) for e in jsonschema_rs.Draft4Validator(OPENAPI_30).iter_errors(doc)]
    assert not errors, errors[:5]
    for collection in COLLECTIONS.values():
        params = doc["paths"][f"/collections/{collection.id}/items"]["get"]["parameters"]
        accepted = {i.alias or n for n, i in collection.query.model_fields.items()}
        names = [p["name"] for p in params]
        assert len(names) == len(set(names)) and set(names) == accepted
        assert all(p["in"] == "query" for p in params)
        bbox = next(p for p in params if p["name"] == "bbox")
        assert bbox["style"] == "form" and bbox["explode"] is False
        assert bbox["schema"]["type"] == "array"
        item = doc["paths"][f"/collections/{collection.id}/items/{{feature_id}}"]["get"]
        assert "404" in item["responses"]
    bad = doc["paths"]["/collections/sites/items"]["get"]["responses"]["400"]
    assert bad["content"]["application/json"]["schema"]["$ref"].endswith("/OgcException")


# ---------------------------------------------------------------- items


def test_items_page_numbers_links_and_paging(client, sites) -> None:
    first = _json(client, "/ogc/collections/sites/items?limit=25", GEOJSON)
    assert first["type"] == "FeatureCollection"
    assert first["numberMatched"] == sites and first["numberReturned"] == 25
    assert first["timeStamp"].endswith("Z")
    rels = _rels(first)
    assert rels["self"] == [GEOJSON] and rels["alternate"] == ["text/html"]
    assert rels["collection"] == ["application/json"] and "prev" not in rels
    seen = [f["id"] for f in first["features"]]
    page = first
    while True:
        nxt = [x["href"] for x in page["links"] if x["rel"] == "next" and x["type"] == GEOJSON]
        if not nxt:
            break
        page = _json(client, nxt[0].replace("http://localhost", ""), GEOJSON)
        assert GEOJSON in _rels(page)["prev"]
        seen += [f["id"] for f in page["features"]]
    assert len(seen) == len(set(seen)) == sites
    assert seen == sorted(seen)


def test_items_carry_no_personal_data_and_id_is_the_site_id(client, sites) -> None:
    doc = _json(client, f"/ogc/collections/sites/items?limit={MAX_LIMIT}", GEOJSON)
    for feature in doc["features"]:
        assert list(feature["properties"]) == [f.name for f in fields_for("sites")]
        assert feature["id"] == feature["properties"]["id"]
    one = doc["features"][0]
    item = _json(client, f"/ogc/collections/sites/items/{one['id']}", GEOJSON)
    assert item["properties"] == one["properties"] and item["geometry"] == one["geometry"]
    assert {"self", "alternate", "collection"} <= set(_rels(item))


def test_limit_is_capped_and_bad_parameters_get_400(client, sites) -> None:
    doc = _json(client, f"/ogc/collections/sites/items?limit={MAX_LIMIT * 10}", GEOJSON)
    assert doc["numberReturned"] == sites  # capped at the maximum, not refused
    for query, field in [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=117.3,39,117.2,39.1", "bbox"),
        ("bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857&bbox=1,2,3,4", "bbox-crs"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2026-06-15/2026-06-01", "datetime"),
        ("status=finished", "status"),
        ("flag_hardship=maybe", "flag_hardship"),
        ("colour=red", "colour"),
        ("f=xml", "f"),
    ]:
        response = client.get(f"/ogc/collections/sites/items?{query}")
        assert response.status_code == 400, query
        body = response.get_json()
        assert body["code"] == "InvalidParameterValue" and body["field"] == field, query
    assert client.get("/ogc/collections/sites/items/999999999").status_code == 404
    assert client.get("/ogc/collections/sites/items/abc").status_code == 404


def test_bbox_datetime_and_property_filters(client, sites, connection) -> None:
    bbox = ",".join(map(str, BBOX))
    doc = _json(client, f"/ogc/collections/sites/items?bbox={bbox}&limit=1000", GEOJSON)
    expected = connection.execute(
        select(func.count())
        .select_from(Site)
        .where(Site.deleted_at.is_(None), Site.geom.op("&&")(func.ST_MakeEnvelope(*BBOX, 4326)))
    ).scalar_one()
    assert doc["numberMatched"] == expected > 0
    for feature in doc["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert BBOX[0] <= lon <= BBOX[2] and BBOX[1] <= lat <= BBOX[3]

    closed = _json(client, "/ogc/collections/sites/items?status=closed&limit=1000", GEOJSON)
    assert closed["numberMatched"] > 0
    assert {f["properties"]["status"] for f in closed["features"]} == {"closed"}
    zh = _json(client, "/ogc/collections/sites/items?status=已销账&limit=1000", GEOJSON)
    assert zh["numberMatched"] == closed["numberMatched"]

    street = _json(client, "/ogc/collections/sites/items?street_code=120102002", GEOJSON)
    assert {f["properties"]["street_code"] for f in street["features"]} == {"120102002"}
    not_hardship = _json(client, "/ogc/collections/sites/items?flag_hardship=false", GEOJSON)
    hardship = _json(client, "/ogc/collections/sites/items?flag_hardship=true", GEOJSON)
    assert hardship["numberMatched"] + not_hardship["numberMatched"] == sites
    assert hardship["numberMatched"] > 0

    # datetime against the last change: move two sites' updated_at and find them
    connection.execute(
        text(
            "UPDATE sites SET updated_at = '2026-06-14 03:00:00+00' "
            "WHERE id IN (SELECT id FROM sites ORDER BY id LIMIT 2)"
        )
    )
    for query in (
        "datetime=2026-06-14T00:00:00Z/2026-06-14T23:59:59Z",
        "datetime=2026-06-14",  # a Beijing calendar day
        "datetime=2026-06-14T03:00:00Z",
        "datetime=2026-06-14T11:00:00%2B08:00",
    ):
        hits = _json(client, f"/ogc/collections/sites/items?{query}", GEOJSON)
        assert hits["numberMatched"] == 2, query
    later = _json(client, "/ogc/collections/sites/items?datetime=2026-06-14T03:00:01Z/..", GEOJSON)
    assert later["numberMatched"] == sites - 2 - _after(connection, "2026-06-14 03:00:01+00")

    code = closed["features"][0]["properties"]["code"]
    by_code = _json(client, f"/ogc/collections/sites/items?code={code}", GEOJSON)
    assert [f["properties"]["code"] for f in by_code["features"]] == [code]


def _after(connection, moment: str) -> int:
    """Sites (other than the two moved ones) whose last change is before `moment`."""
    return connection.execute(
        text(
            "SELECT count(*) FROM sites WHERE deleted_at IS NULL AND updated_at < :m "
            "AND id NOT IN (SELECT id FROM sites ORDER BY id LIMIT 2)"
        ),
        {"m": moment},
    ).scalar_one()


def test_street_items_by_code(client, sites) -> None:
    doc = _json(client, "/ogc/collections/streets/items", GEOJSON)
    assert doc["numberMatched"] == 12 and all(isinstance(f["id"], str) for f in doc["features"])
    assert sum(f["properties"]["sites_total"] for f in doc["features"]) == sites
    item = _json(client, "/ogc/collections/streets/items/120102002", GEOJSON)
    assert item["properties"]["name"] == "大直沽街道"
    assert client.get("/ogc/collections/streets/items/999").status_code == 404


def test_html_by_f_or_accept(client, sites) -> None:
    for url, marker in [
        ("/ogc?f=html", "OGC API"),
        ("/ogc/conformance?f=html", "conf/core"),
        ("/ogc/collections?f=html", 'data-collection="sites"'),
        ("/ogc/collections/sites/items?f=html&limit=5", 'id="ogc-items"'),
        ("/ogc/api?f=html", "/collections/sites/items"),
    ]:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html", url
        assert marker in response.get_data(as_text=True), url
    browser = client.get("/ogc/collections/sites/items", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.mimetype == "text/html"
    gdal = client.get(
        "/ogc/collections/sites/items", headers={"Accept": "application/geo+json, application/json"}
    )
    assert gdal.mimetype == GEOJSON


# ---------------------------------------------------------------- who reads the OGC API

DZG = "120102002"


def test_a_street_reads_its_own_street_only(client, auth, sites, connection) -> None:
    own = connection.execute(
        text(
            "SELECT array_agg(s.id ORDER BY s.id) FROM sites s JOIN streets t "
            "ON t.id = s.street_id WHERE t.code = :c AND s.deleted_at IS NULL"
        ),
        {"c": DZG},
    ).scalar()
    other = connection.execute(
        text(
            "SELECT min(s.id) FROM sites s JOIN streets t ON t.id = s.street_id "
            "WHERE t.code <> :c AND s.deleted_at IS NULL"
        ),
        {"c": DZG},
    ).scalar()
    assert own and other
    headers = auth.headers("ogc.street", "street_officer", DZG)
    items = client.get("/ogc/collections/sites/items?limit=1000", headers=headers).get_json()
    assert items["numberMatched"] == len(own) < sites
    assert [f["id"] for f in items["features"]] == own
    response = client.get(f"/ogc/collections/sites/items/{other}", headers=headers)
    assert response.status_code == 404 and response.get_json()["code"] == "NotFound"
    streets = client.get("/ogc/collections/streets/items", headers=headers).get_json()
    assert [f["id"] for f in streets["features"]] == [DZG]
    assert (
        client.get("/ogc/collections/streets/items/120102003", headers=headers).status_code == 404
    )


def test_agencies_read_with_a_token_bureaus_and_nobody_do_not(client, auth, sites) -> None:
    headers = auth.headers("ogc.agency", "agency")
    items = client.get("/ogc/collections/sites/items?limit=1000", headers=headers).get_json()
    assert items["numberMatched"] == sites
    for role in ("bureau_civil", "bureau_housing", "bureau_police"):
        response = client.get("/ogc/collections", headers=auth.headers(f"ogc.{role}", role))
        assert response.status_code == 403, role
    client.delete_cookie("gis_session")  # nobody logged in
    response = client.get("/ogc/collections/sites/items")
    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate")[0].startswith("Basic realm=")
    assert response.get_json()["error"] == "unauthorized"
    assert "features" not in response.get_json()
    page = client.get("/ogc/collections/sites/items?f=html")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


# ---------------------------------------------------------------- GDAL against a live server


QUERIES: list[str] = []  # the query strings the live server received


@pytest.fixture(scope="module")
def live_url(engine, database_url, demo_streets) -> Iterator[str]:
    """The app on a free port, with demo sites committed for this module and deleted after."""
    with Session(engine) as session, session.begin():
        load_sites(session, n=150, seed=9)

    def recording(inner):
        def wsgi(environ, start_response):
            QUERIES.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
            return inner(environ, start_response)

        return wsgi

    with serve_app(database_url, engine, recording) as url:
        yield f"{url}/ogc"


@pytest.fixture(scope="module")
def token(live_url, engine) -> str:
    """A bearer token of another agency's machine, committed for the live server."""
    from tests.support.accounts import Accounts

    with engine.begin() as conn:
        return Accounts(conn).token("gdal.agency", "agency")


def _gdal_env(token: str | None) -> dict[str, str]:
    """GDAL (3.6 and later) sends the headers of GDAL_HTTP_HEADERS with every request."""
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    if token is not None:
        env["GDAL_HTTP_HEADERS"] = f"Authorization: Bearer {token}"
    return env


def _gdal(*args: str, token: str | None) -> str:
    result = subprocess.run(
        args, capture_output=True, timeout=180, check=False, env=_gdal_env(token)
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode()


def _committed_count(engine, *conds) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(Site).where(Site.deleted_at.is_(None), *conds)
        ).scalar_one()


def test_gdal_without_a_token_is_refused(live_url) -> None:
    QUERIES.clear()
    result = subprocess.run(
        ["ogrinfo", "-ro", f"OAPIF:{live_url}"],
        capture_output=True,
        timeout=180,
        check=False,
        env=_gdal_env(None),
    )
    assert result.returncode != 0
    assert "401" in result.stderr.decode(errors="replace")
    assert QUERIES and all(not q.startswith("/ogc/collections/") for q in QUERIES)
    with pytest.raises(HTTPError) as refused:
        urlopen(f"{live_url}/collections/sites/items?f=json", timeout=60)
    refused.value.close()
    assert refused.value.code == 401
    assert refused.value.headers.get_all("WWW-Authenticate")[0].startswith("Basic realm=")


def test_gdal_lists_both_collections(live_url, token) -> None:
    out = _gdal("ogrinfo", "-ro", f"OAPIF:{live_url}", token=token)
    assert "1: sites" in out and "(Point)" in out
    assert "2: streets" in out and "Multi Polygon" in out


def test_gdal_counts_features_with_a_bbox(live_url, token, engine) -> None:
    out = _gdal(
        "ogrinfo", "-ro", "-so", f"OAPIF:{live_url}", "sites", "-spat", *map(str, BBOX), token=token
    )
    count = int(out.split("Feature Count:")[1].split()[0])
    expected = _committed_count(engine, Site.geom.op("&&")(func.ST_MakeEnvelope(*BBOX, 4326)))
    assert count == expected > 0
    total = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_url}", "sites", token=token)
    assert int(total.split("Feature Count:")[1].split()[0]) == _committed_count(engine)


def test_gdal_reads_the_same_features_as_the_export(live_url, token) -> None:
    features = ogr_read(
        f"OAPIF:{live_url}", "sites", "-spat", *map(str, BBOX), env=_gdal_env(token)
    )
    base = live_url.removesuffix("/ogc")
    bbox = ",".join(map(str, BBOX))
    request = Request(
        f"{base}/exports/sites.geojson?bbox={bbox}&lang=en",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urlopen(request, timeout=60) as response:
        reference = {f["id"]: f for f in json.load(response)["features"]}
    got = {f["properties"]["id"]: f for f in features}
    assert set(got) == set(reference) and got
    fields = fields_for("sites")
    for site_id, ref in reference.items():
        props = got[site_id]["properties"]
        assert {f.name: normalise(f, props[f.name]) for f in fields} == {
            f.name: normalise(f, ref["properties"][f.name]) for f in fields
        }
        assert got[site_id]["geometry"]["coordinates"] == pytest.approx(
            ref["geometry"]["coordinates"], abs=1e-7
        )


def test_a_streamed_export_ends_its_transaction(live_url, token, engine) -> None:
    """GeoJSON and CSV stream after the request is torn down: the stream must end its own
    transaction, or the app's connection stays idle in transaction, holding its locks."""
    from gis_app.core.db_security import app_role

    base = live_url.removesuffix("/ogc")
    for path in ("/exports/sites.geojson", "/exports/sites.csv?lang=zh"):
        request = Request(base + path, headers={"Authorization": f"Bearer {token}"})
        with urlopen(request, timeout=60) as response:
            assert len(response.read()) > 1000
    deadline = time.monotonic() + 10
    while True:  # the server thread ends the stream just after the client has read it
        with engine.connect() as conn:
            left_open = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND usename = :role AND state LIKE 'idle in transaction%'"
                ),
                {"role": app_role()},
            ).scalar()
        if left_open == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert left_open == 0


def test_gdal_where_is_sent_to_the_server(live_url, token, engine) -> None:
    """GDAL finds `status` among the items parameters of the OpenAPI document."""
    QUERIES.clear()
    out = _gdal(
        "ogrinfo",
        "-ro",
        "-q",
        f"OAPIF:{live_url}",
        "sites",
        "-where",
        "status = 'closed'",
        token=token,
    )
    assert out.count("OGRFeature(sites)") == _committed_count(engine, Site.status == "closed") > 0
    items = [q for q in QUERIES if q.startswith("/ogc/collections/sites/items?")]
    assert any("status=closed" in q for q in items)  # filtered by the server, not by GDAL


def test_gdal_reads_the_street_boundaries(live_url, token) -> None:
    features = ogr_read(f"OAPIF:{live_url}", "streets", env=_gdal_env(token))
    assert len({f["properties"]["code"] for f in features}) == len(features) == 12
    assert all(f["geometry"]["type"] in ("MultiPolygon", "Polygon") for f in features)
