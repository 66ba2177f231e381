"""QGIS itself (Debian's qgis and python3-qgis, 3.22) reads the OGC API with what its dialogs
offer: a Basic authentication configuration (account name, API token as the password).

PyQGIS lives in the system Python, not in the virtualenv: tests/support/pyqgis_probe.py runs
under /usr/bin/python3, offscreen, against the app served live; its findings are compared with
what the API answers for the same token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.request import Request, urlopen

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app.features.exchange.export.fields import fields_for
from gis_app.features.ledger.models import Site
from tests.support.accounts import Accounts, basic
from tests.support.exports import load_sites, normalise
from tests.support.live import serve_app
from tests.support.pyqgis import MISSING, run_probe

BBOX = (117.20, 39.08, 117.25, 39.125)
USERNAME = "规划局.qgis"  # a Chinese account name: QGIS sends it as UTF-8
#: text that a wrong encoding anywhere on the way would spoil
CHINESE = "河东区·鲁山道 17 号（“东局子”旧址）𠮷"


pytestmark = [pytest.mark.slow, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

QUERIES: list[str] = []  # the requests the live server received


@pytest.fixture(scope="module")
def live(engine, database_url, demo_streets) -> Iterator[dict[str, str]]:
    with Session(engine) as session, session.begin():
        load_sites(session, n=90, seed=17)  # commits
    with engine.begin() as session:
        session.execute(
            text("UPDATE sites SET address = :a WHERE id = (SELECT min(id) FROM sites)"),
            {"a": CHINESE},
        )

    def recording(inner):
        def wsgi(environ, start_response):
            QUERIES.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
            return inner(environ, start_response)

        return wsgi

    with serve_app(database_url, engine, recording) as url:
        with engine.begin() as conn:
            token = Accounts(conn).token(USERNAME, "agency")
        yield {"url": url, "token": token}


def _oapif(live: dict[str, str], name: str, bbox: tuple | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "provider": "OAPIF",
        "uri": {"url": f"{live['url']}/ogc", "typename": name, "pageSize": "100"},
    }
    if bbox:
        spec["bbox"] = list(bbox)
    if name == "streets":
        spec["id_field"] = "code"
    return spec


def _api(live: dict[str, str], path: str) -> Any:
    request = Request(live["url"] + path, headers={"Authorization": basic(USERNAME, live["token"])})
    with urlopen(request, timeout=120) as response:
        return json.load(response)


def _committed_sites(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(Site).where(Site.deleted_at.is_(None))
        ).scalar_one()


#: how QGIS 3.22's OAPIF provider types each kind of field (from the JSON values it reads)
QGIS_TYPES = {
    "integer": {"integer", "integer64", "int", "int8"},
    "number": {"real", "double"},
    "string": {"string", "text"},
    "boolean": {"boolean", "bool"},
    "date": {"date"},
    "datetime": {"datetime"},
}


@pytest.fixture(scope="module")
def qgis(live, tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("qgis")
    QUERIES.clear()
    spec = {
        "auth": {"username": USERNAME, "password": live["token"]},
        "layers": [_oapif(live, "sites", BBOX), _oapif(live, "streets")],
        "png": str(tmp / "layers.png"),
    }
    found = run_probe(tmp, spec)
    found["png"] = tmp / "layers.png"
    return found


def test_qgis_loads_every_site_with_basic_auth(qgis, live, engine) -> None:
    layer = qgis["layers"]["sites"]
    assert layer["valid"]
    reference = _api(live, "/ogc/collections/sites/items?limit=10000")["features"]
    assert len(layer["features"]) == layer["feature_count"] == len(reference)
    assert len(reference) == _committed_sites(engine) > 0
    fields = fields_for("sites")
    types = {f["name"]: f["type"].lower() for f in layer["fields"]}
    for f in fields:
        assert types[f.name] in QGIS_TYPES[f.type], (f.name, types[f.name])
    got = {feature["attributes"]["id"]: feature for feature in layer["features"]}
    for ref in reference:
        mine = got[ref["id"]]
        assert {f.name: normalise(f, mine["attributes"][f.name]) for f in fields} == {
            f.name: normalise(f, ref["properties"][f.name]) for f in fields
        }, ref["id"]
        assert mine["point"] == pytest.approx(ref["geometry"]["coordinates"], abs=1e-7)
    assert CHINESE in {feature["attributes"]["address"] for feature in layer["features"]}


def test_qgis_asks_the_server_for_a_bbox(qgis, live) -> None:
    layer = qgis["layers"]["sites"]
    bbox = ",".join(map(str, BBOX))
    expected = {
        f["id"]
        for f in _api(live, f"/ogc/collections/sites/items?limit=10000&bbox={bbox}")["features"]
    }
    assert set(layer["bbox_ids"]) == expected and 0 < len(expected) < layer["feature_count"]
    items = [q for q in QUERIES if q.startswith("/ogc/collections/sites/items?")]
    assert any("bbox=" in q for q in items), items


def test_qgis_loads_the_streets_with_their_chinese_names(qgis, live) -> None:
    layer = qgis["layers"]["streets"]
    assert layer["valid"]
    reference = _api(live, "/ogc/collections/streets/items?limit=100")["features"]
    assert len(layer["features"]) == layer["feature_count"] == len(reference) == 12
    names = {f["attributes"]["code"]: f["attributes"]["name"] for f in layer["features"]}
    assert names == {f["id"]: f["properties"]["name"] for f in reference}
    assert all("街道" in name for name in names.values())
    fields = fields_for("streets")
    types = {f["name"]: f["type"].lower() for f in layer["fields"]}
    for f in fields:
        assert types[f.name] in QGIS_TYPES[f.type], (f.name, types[f.name])


def test_qgis_renders_both_layers(qgis) -> None:
    png = qgis["png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_qgis_with_a_revoked_token_is_refused(live, engine, tmp_path) -> None:
    with engine.begin() as conn:
        secret = Accounts(conn).token("qgis.revoked", "agency")
        conn.execute(
            text(
                "UPDATE api_tokens SET revoked_at = now() WHERE user_id = "
                "(SELECT id FROM users WHERE username = 'qgis.revoked')"
            )
        )
    spec = {
        "auth": {"username": "qgis.revoked", "password": secret},
        "layers": [_oapif(live, "sites")],
    }
    layer = run_probe(tmp_path, spec)["layers"]["sites"]
    assert not layer["valid"]
