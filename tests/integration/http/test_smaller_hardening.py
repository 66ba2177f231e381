"""The smaller holes of issue 16 (point 10): absolute links from a configured base URL, not the
Host header; X-Forwarded-* only from trusted proxies; photos kept in no browser cache;
import-streets with a long name; no error naming another street."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask, request, url_for

from gis_app.features.photos.pages import PHOTO_CACHE
from gis_app.http import security
from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes

ZSM_POINT = {"lon": 117.2620, "lat": 39.1010}


def _tiny_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update({"TRUSTED_PROXIES": 0, "SECRET_KEY": "x", "HSTS": False, "BASEMAP": "none"})
    app.config.update(config)
    security.init_app(app)

    @app.get("/where")
    def where():
        return {"url": url_for("where", _external=True), "ip": request.remote_addr}

    return app


def test_links_come_from_the_base_url_not_the_host_header() -> None:
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
              "X-Forwarded-Proto": "http", "X-Forwarded-For": "6.6.6.6"}  # fmt: skip
    app = _tiny_app(BASE_URL="https://gis.example.org")
    body = app.test_client().get("/where", headers=forged).get_json()
    assert body["url"] == "https://gis.example.org/where"
    assert body["ip"] == "127.0.0.1"  # no trusted proxy: X-Forwarded-For is ignored
    behind = _tiny_app(BASE_URL="https://gis.example.org", TRUSTED_PROXIES=1)
    body = behind.test_client().get("/where", headers=forged).get_json()
    assert body["url"] == "https://gis.example.org/where" and body["ip"] == "6.6.6.6"
    unset = _tiny_app(BASE_URL="")
    assert unset.test_client().get("/where", headers=forged).get_json()["ip"] == "127.0.0.1"


def test_the_setting_reaches_the_app(app) -> None:
    from gis_app.settings import load_settings

    settings = load_settings({"GIS_APP_BASE_URL": "https://gis.example.org/"})
    assert settings.flask_config()["BASE_URL"] == "https://gis.example.org"


@pytest.mark.slow
def test_photos_are_kept_in_no_browser_cache(client, auth, app, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    headers = auth.headers("sh.street", "street_officer", DZG)
    site = client.post("/api/v1/sites", json=site_payload(code="SH-1"), headers=headers)
    site_id = site.get_json()["id"]
    photo = client.post(
        f"/api/v1/sites/{site_id}/photos",
        data={"file": (io.BytesIO(image_bytes()), "a.jpg"), "kind": "before"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert photo.status_code == 201, photo.text
    photo_id = photo.get_json()["id"]
    for url in (f"/photos/{photo_id}/file", f"/photos/{photo_id}/thumb"):
        response = client.get(url, headers=headers)
        if response.status_code == 404 and url.endswith("thumb"):
            continue
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers["Cache-Control"] == PHOTO_CACHE == "private, no-store"
        assert "Expires" not in response.headers


def test_an_error_names_no_other_street(client, auth) -> None:
    street = auth.headers("sh.street2", "street_officer", DZG)
    response = client.post(
        "/api/v1/sites", json=site_payload(code="SH-2", **ZSM_POINT), headers=street
    )
    assert response.status_code == 403
    assert "中山门" not in response.text and "120102003" not in response.text
    rows = "编号,地址,经度,纬度,治理方式,承诺期限\nSH-3,某路,117.2620,39.1010,拆除,2026-09-30\n"
    imported = client.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(rows.encode()), "x.csv"), "dry_run": "true"},
        headers=street,
        content_type="multipart/form-data",
    )
    assert imported.status_code == 403
    assert "中山门" not in imported.text and "120102003" not in imported.text


def test_import_streets_with_a_long_name_is_a_clear_error(app_ctx, tmp_path) -> None:
    from click.testing import CliRunner

    from gis_app.cli import cli

    square = [[[117.0, 39.0], [117.001, 39.0], [117.001, 39.001], [117.0, 39.001], [117.0, 39.0]]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "120102099", "name": "长" * 80},
                "geometry": {"type": "Polygon", "coordinates": square},
            }
        ],
    }
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import-streets", str(path)], obj={"app": app_ctx})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "过长" in result.stderr
