"""Bad input through the app: oversized bodies, malformed JSON and GeoJSON, path tricks in
file names, SQL in every text field, script in text the pages show, and a corpus of about
thirty hostile files (tests/support/hostile_files.py) uploaded as photos and as ledgers. Everything
refused gets a clear Chinese message naming the field, and nothing is stored: no row, no file.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from gis_app.core.errors import ValidationError
from tests.support.hostile_files import corpus
from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes

STREET: dict[str, str] = {}
OFFICE: dict[str, str] = {}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _tokens(client, auth):
    STREET.update(auth.headers("街道李", "street_officer", DZG))
    OFFICE.update(auth.headers("区办王", "district_officer"))


@pytest.fixture()
def photo_dir(app, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(root))
    return root


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _site(client, **overrides) -> int:
    r = client.post("/api/v1/sites", json=site_payload(**overrides), headers=OFFICE)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _count(connection, table: str) -> int:
    return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _upload(client, site_id: int, data: bytes, filename: str, headers=None):
    return client.post(
        f"/api/v1/sites/{site_id}/photos",
        data={"kind": "before", "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers or STREET,
    )


def _refused(response, status=(400, 413, 422)) -> dict:
    assert response.status_code in status, (response.status_code, response.data[:300])
    body = response.get_json()
    assert body["field"] and CJK.search(body["message"]), body
    return body


# ---------------------------------------------------------------- the hostile files


@pytest.mark.slow
def test_hostile_files_as_photos_are_refused_and_nothing_is_stored(
    client, connection, photo_dir
) -> None:
    site_id = _site(client)
    files = corpus()
    assert len(files) >= 30
    refused = accepted = 0
    for item in files:
        before_rows, before_files = _count(connection, "photos"), len(_files(photo_dir))
        response = _upload(client, site_id, item.data, item.filename)
        if item.verdict == "refuse":
            body = _refused(response)
            assert body["field"] == "file", (item.name, body)
            assert _count(connection, "photos") == before_rows, item.name
            assert len(_files(photo_dir)) == before_files, item.name
            refused += 1
        else:
            assert response.status_code == 201, (item.name, response.get_json())
            photo = response.get_json()
            ext = {"image/jpeg": "jpg", "image/png": "png"}[photo["media_type"]]
            # the stored name is the content's hash, whatever the user called the file
            stored = photo_dir / "originals" / photo["sha256"][:2] / f"{photo['sha256']}.{ext}"
            assert stored.read_bytes() == item.data, item.name
            accepted += 1
    print(f"\nhostile photos: {len(files)} tried, {refused} refused, {accepted} accepted as sound")
    assert refused == sum(f.verdict == "refuse" for f in files)


def test_absurd_exif_is_kept_as_a_warning(client, photo_dir) -> None:
    item = next(f for f in corpus() if "EXIF" in f.name)
    response = _upload(client, _site(client), item.data, item.filename)
    assert response.status_code == 201
    codes = {w["code"] for w in response.get_json()["warnings"]}
    assert codes == {"exif_unreadable"}


def test_a_motion_photo_trailer_is_not_taken_for_a_polyglot(client, photo_dir) -> None:
    """Bytes after the image's end that are no archive, page or program (a phone's motion
    photo appends its video) do not refuse a real photo."""
    data = image_bytes() + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
    assert _upload(client, _site(client), data, "motion.jpg").status_code == 201


def _with_scan_bytes(jpeg: bytes, inserted: bytes) -> bytes:
    """The JPEG with `inserted` placed inside its compressed scan data (before the EOI)."""
    eoi = jpeg.rindex(b"\xff\xd9")
    return jpeg[:eoi] + inserted + jpeg[eoi:]


def test_markup_by_chance_in_the_pixel_data_is_not_a_polyglot() -> None:
    """The compressed pixels are close to random: "<svg" turns up in some large photos by
    chance. Only metadata and what follows the image's end are searched."""
    from gis_app.features.photos.image_check import check_no_hidden_content

    photo = image_bytes(size=(320, 240))
    check_no_hidden_content(_with_scan_bytes(photo, b"<svg\x01"), "JPEG")  # accepted
    comment = b"\xff\xfe" + (len(b"<svg onload=x>") + 2).to_bytes(2, "big") + b"<svg onload=x>"
    hidden = photo[:2] + comment + photo[2:]  # the same text in a JPEG comment segment
    with pytest.raises(ValidationError):
        check_no_hidden_content(hidden, "JPEG")
    with pytest.raises(ValidationError):
        check_no_hidden_content(photo + b"<html><script>x</script>", "JPEG")


def test_a_jpeg_with_a_second_picture_is_a_jpeg(client, photo_dir) -> None:
    """Cameras and phones store a preview or a depth map as a second picture (MPO): the
    photo is the first one."""
    from PIL import Image

    first = Image.new("RGB", (96, 64), (30, 120, 200))
    second = Image.new("RGB", (48, 32), (200, 30, 30))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    response = _upload(client, _site(client), out.getvalue(), "camera.jpg")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["media_type"] == "image/jpeg"


def _xlsx_bomb() -> bytes:
    """A workbook whose sheet inflates to 400 MB of empty rows (a zip bomb named .xlsx)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(400):
                f.write(chunk)
    return out.getvalue()


def _deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def ledger_corpus() -> list[tuple[str, str, bytes]]:
    """Hostile ledger files: (what, file name, bytes)."""
    from tests.support.hostile_files import zip_bytes

    html = b"<html><body><script>alert(1)</script></body></html>"
    items = [
        ("empty file", "ledger.csv", b""),
        ("HTML named .csv", "ledger.csv", html),
        ("ZIP named .xlsx", "ledger.xlsx", zip_bytes()),
        ("ZIP named .geojson", "ledger.geojson", zip_bytes()),
        ("truncated xlsx", "ledger.xlsx", b"PK\x03\x04" + b"\x00" * 40),
        ("zip bomb named .xlsx", "ledger.xlsx", _xlsx_bomb()),
        ("binary noise named .csv", "ledger.csv", bytes(range(256)) * 8),
        ("JSON nested 100,000 deep", "ledger.geojson", _deep_json()),
        ("a path as the file name", "../../etc/passwd", b"code,address\n1,2\n"),
        ("a NUL in the file name", "ledger\x00.csv", b"code\n"),
        ("an executable", "ledger.exe", b"MZ\x90\x00"),
    ]
    items += [(f"photo corpus: {f.name}", f.filename, f.data) for f in corpus()[:12]]
    return items


MALFORMED_GEOJSON = [
    b"{",
    b'{"type": "FeatureCollection"}',
    b'{"type": "FeatureCollection", "features": {}}',
    b'{"type": "Feature", "geometry": null, "properties": {}}',
    b'{"type": "FeatureCollection", "features": [null, 1, "x"]}',
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    b'{"type": "Point", "coordinates": ["a", null]}, "properties": {"code": "X"}}]}',
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    b'{"type": "Point", "coordinates": [1e400, -1e400]}, "properties": []}]}',
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    b'{"type": "Polygon", "coordinates": [[[0,0],[1,1],[0,0]]]}, "properties": {}}]}',
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    b'{"type": "Point", "coordinates": [117.2381]}, "properties": {"code": 5}}]}',
    b'{"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", '
    b'"coordinates": [NaN, Infinity]}, "properties": {"address": {"a": 1}, "code": [1]}}]}',
    b"\xef\xbb\xbf\xff\xfe not utf-8 \x81",
]


@pytest.mark.slow
def test_hostile_and_malformed_ledgers_are_refused_and_nothing_is_written(
    client, connection
) -> None:
    sites, events = _count(connection, "sites"), _count(connection, "site_events")
    tried = 0
    cases = [(w, f, d) for w, f, d in ledger_corpus()] + [
        (f"malformed GeoJSON {i}", "ledger.geojson", d) for i, d in enumerate(MALFORMED_GEOJSON)
    ]
    for what, filename, data in cases:
        response = client.post(
            "/api/v1/sites/import",
            data={"file": (io.BytesIO(data), filename)},
            content_type="multipart/form-data",
            headers=OFFICE,
        )
        assert response.status_code in (400, 422), (what, response.status_code)
        body = response.get_json()
        # the field named, or every bad row listed with its number and field
        assert body["field"] or all(e["field"] and e["row"] for e in body["errors"]), body
        assert CJK.search(body["message"]), (what, body)
        tried += 1
    assert _count(connection, "sites") == sites
    assert _count(connection, "site_events") == events
    print(f"\nhostile ledgers: {tried} tried, {tried} refused")


def test_malformed_geojson_feature_on_create_names_the_field(client) -> None:
    for body, field in (
        ({"type": "Feature", "geometry": {"type": "LineString"}, "properties": {}}, "geometry"),
        ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]}}, "geometry"),
        ({"type": "Feature", "properties": "x"}, "properties"),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": ["a", "b"]},
                "properties": site_payload(),
            },
            "lon",
        ),
    ):
        r = client.post("/api/v1/sites", json=body, headers=OFFICE)
        assert r.status_code == 422 and r.get_json()["field"] == field, r.get_json()


# ---------------------------------------------------------------- bodies


def test_oversized_body_gets_413_naming_the_limit(app, client, connection, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    site_id = _site(client)
    big = b"\xff\xd8" + b"\x00" * (1024 * 1024 + 10)
    # the multipart body built here (werkzeug's test encoder leaves a temporary file open)
    boundary = "----limit"
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nbefore\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )
    for response in (
        client.post(
            f"/api/v1/sites/{site_id}/photos",
            data=multipart,
            headers=STREET,
            content_type=f"multipart/form-data; boundary={boundary}",
        ),
        client.post(
            "/api/v1/sites",
            data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
            content_type="application/json",
            headers=OFFICE,
        ),
    ):
        assert response.status_code == 413
        body = response.get_json()
        assert "1 MB" in body["message"] and "上限" in body["message"], body
    assert _count(connection, "photos") == 0


def test_the_configured_upload_limit_is_32_mb_by_default(app, monkeypatch) -> None:
    from gis_app.settings import load_config

    monkeypatch.delenv("GIS_APP_MAX_UPLOAD_MB", raising=False)
    assert load_config()["MAX_CONTENT_LENGTH"] == 32 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] > 0


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than Python's recursion limit
        b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
        b"\xff\xfe\x00garbage",
        b'{"address": "\\ud800"}',  # a lone surrogate
        b"NaN",
        b"",
    ],
)
def test_unreadable_json_bodies_get_400(client, raw) -> None:
    r = client.post("/api/v1/sites", data=raw, content_type="application/json", headers=OFFICE)
    assert r.status_code in (400, 422), (r.status_code, r.data[:200])
    assert CJK.search(r.get_json()["message"])


# ---------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "filename",
    [
        "../../../../etc/passwd.jpg",
        "/etc/cron.d/evil.jpg",
        "..\\..\\windows\\system32\\evil.jpg",
        "photo\x00.php.jpg",
        "a" * 5000 + ".jpg",
        "照片\u202egpj.exe",  # right-to-left override
        "con.jpg",
        ".htaccess",
    ],
)
def test_path_tricks_in_file_names_never_reach_the_file_system(client, photo_dir, filename) -> None:
    data = image_bytes(colour=(len(filename) % 250, 20, 30))
    r = _upload(client, _site(client), data, filename)
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()
    stored = _files(photo_dir)
    assert {p.stem for p in stored} == {photo["sha256"]}
    assert all(p.resolve().is_relative_to(photo_dir.resolve()) for p in stored)
    name = photo["original_name"]
    assert "/" not in name and "\\" not in name and "\x00" not in name and len(name) <= 255
    assert "\u202e" not in name


# ---------------------------------------------------------------- SQL and script in text


SQL = [
    "'; DROP TABLE sites; --",
    "1' OR '1'='1",
    "\"; UPDATE sites SET status='closed' WHERE ''='",
    "x'); DELETE FROM site_events; --",
    "$$; SELECT pg_sleep(10); $$",
    "\\'; TRUNCATE audit.events; --",
]


def test_sql_in_every_text_field_is_stored_literally(client, connection) -> None:
    before = _count(connection, "sites")
    for i, sql in enumerate(SQL):
        payload = site_payload(
            code=f"SQL-{i}-{sql[:20]}",
            address=sql,
            community=sql[:64],
            person_name=sql[:64],
            person_contact=sql[:64],
            note=sql,
        )
        r = client.post("/api/v1/sites", json=payload, headers=OFFICE)
        assert r.status_code == 201, r.get_json()
        site = r.get_json()
        got = client.get(f"/api/v1/sites/{site['id']}", headers=OFFICE).get_json()["properties"]
        assert got["address"] == sql and got["note"] == sql
        assert got["code"] == payload["code"].strip()
        r = client.patch(
            f"/api/v1/sites/{site['id']}",
            json={"version": got["version"], "address": sql + "2", "reason": sql},
            headers=OFFICE,
        )
        assert r.status_code == 200
        # and in the filters
        for params in ({"q": sql}, {"community": sql[:64]}):
            r = client.get("/api/v1/sites", query_string=params, headers=OFFICE)
            assert r.status_code == 200
    assert _count(connection, "sites") == before + len(SQL)
    assert connection.execute(text("SELECT count(*) FROM site_events")).scalar_one() > 0
    assert (
        connection.execute(
            text("SELECT count(*) FROM sites WHERE address LIKE '%DROP TABLE%'")
        ).scalar_one()
        == 1
    )


SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>"\'&'


@pytest.mark.slow
def test_script_in_text_is_rendered_escaped_on_every_page(client, auth, connection) -> None:
    auth.login(client, "区办王", "district_officer")
    site_id = _site(
        client,
        code="XSS<b>1</b>",
        address=SCRIPT,
        community=SCRIPT[:64],
        person_name="<svg onload=alert(1)>",
        note=SCRIPT,
    )
    version = client.get(f"/api/v1/sites/{site_id}", headers=OFFICE).get_json()["properties"][
        "version"
    ]
    client.patch(
        f"/api/v1/sites/{site_id}",
        json={"version": version, "note": SCRIPT + "2", "reason": SCRIPT},
        headers=OFFICE,
    )
    pages = [
        f"/sites/{site_id}",
        f"/audit/sites/{site_id}",
        f"/dashboard/street/{DZG}",
        f"/dashboard/street/{DZG}/plan",
        "/dashboard",
        f"/map/street/{DZG}",
        "/map",
    ]
    for url in pages:
        r = client.get(url, headers={"Accept": "text/html"})
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        for raw in ("<script>alert", "<img src=x", "<svg onload", "<b>1</b>"):
            assert raw not in html, (url, raw)
    page = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert" in page  # shown, as text
    # the map's popup is JSON, put into the page with textContent (never as markup)
    popup = client.get(f"/map/sites/{site_id}/popup", headers={"Accept": "application/json"})
    assert popup.get_json()["address"] == SCRIPT
    assert popup.headers["Content-Type"].startswith("application/json")
    js = (Path(__file__).parents[3] / "static" / "js" / "site-layer.js").read_text()
    assert "innerHTML" not in js and "textContent" in js


def test_street_names_in_the_spot_check_map_tooltip_are_text() -> None:
    """folium's GeoJsonTooltip puts the property into the page as markup: a street name
    from an imported boundary file must arrive escaped."""
    from gis_app.features.sampling.maps import batch_map

    square = [[[117.2, 39.1], [117.21, 39.1], [117.21, 39.11], [117.2, 39.11], [117.2, 39.1]]]
    streets = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": square},
                "properties": {"code": "120102002", "name": "<img src=x onerror=alert(1)>"},
            }
        ],
    }
    site = {
        "lat": 39.105,
        "lon": 117.205,
        "ord": 1,
        "code": "<b>X</b>",
        "street_name": "<i>街</i>",
        "result": None,
    }
    rendered = batch_map([site], streets, "/static/leaflet.js", "/static/leaflet.css")
    page = rendered.get_root().render()
    assert "\\u003cimg src=x" not in page and "<img src=x" not in page
    assert "\\u0026lt;img src=x" in page or "&lt;img src=x" in page
    assert "<b>X</b>" not in page


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/extensions?status=%00", "status"),  # a 500 the fuzzer found
        ("/api/v1/statistics/trend?street=%00", "street"),  # likewise
        ("/api/v1/sites?q=a%00b", "q"),
        ("/api/v1/sites/counts?community=%00", "community"),
        ("/api/v1/streets/1201%0002", "code"),
        (f"/api/v1/reports/{DZG}/2026-0%006", "month_text"),
    ],
)
def test_a_nul_in_the_url_is_a_422_naming_the_parameter(client, url, field) -> None:
    r = client.get(url, headers=OFFICE)
    assert r.status_code == 422, (r.status_code, r.data[:200])
    assert r.get_json()["field"] == field and "NUL" in r.get_json()["message"]


def test_a_nul_in_a_json_text_field_is_a_422_naming_the_field(client, connection) -> None:
    before = _count(connection, "sites")
    for body, field in (
        (site_payload(address="大直沽\x00路"), "address"),
        (site_payload(note=["x", "\x00"]), "note"),
        ({"type": "Feature", "properties": {"code": "A\x00"}}, "code"),
    ):
        r = client.post("/api/v1/sites", json=body, headers=OFFICE)
        assert r.status_code == 422 and r.get_json()["field"] == field, r.get_json()
    assert _count(connection, "sites") == before


def test_closing_a_session_on_a_dead_connection_does_not_fail_the_request(app) -> None:
    """After a database restart the teardown's rollback meets a closed connection: the
    response already made must not turn into a 500 (seen in the restart test)."""
    from flask import g
    from sqlalchemy.exc import OperationalError

    from gis_app.http.database import Database

    class Dead:
        invalidated = False

        def close(self) -> None:
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))

        def invalidate(self) -> None:
            self.invalidated = True

    with app.app_context():
        g.db_session = dead = Dead()
        Database._close(None)
    assert dead.invalidated


def test_a_nul_in_a_form_field_is_a_422(client, auth) -> None:
    auth.login(client, "大直沽李", "street_officer", DZG)
    from tests.support.accounts import csrf

    token = csrf(client)
    r = client.post(
        f"/reports/{DZG}/2026-06",
        data={"csrf_token": token, "narrative": "六月\x00情况", "action": "save"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422 and r.get_json()["field"] == "narrative", r.data[:300]


def test_sql_in_the_workflow_text_fields_is_stored_literally(client, connection) -> None:
    sql = SQL[0]
    site_id = _site(client, code="SQL-WF")
    plan = {"steps": [{"title": sql[:100], "due_date": "2026-09-30"}], "reason": sql}
    r = client.put(f"/api/v1/sites/{site_id}/steps", json=plan, headers=STREET)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["steps"][0]["title"] == sql[:100]
    r = client.put(f"/api/v1/reports/{DZG}/2026-06", json={"narrative": sql}, headers=STREET)
    assert r.status_code == 200 and r.get_json()["narrative"] == sql, r.get_json()
    version = client.get(f"/api/v1/sites/{site_id}", headers=OFFICE).get_json()["properties"][
        "version"
    ]
    r = client.delete(
        f"/api/v1/sites/{site_id}", json={"reason": sql, "version": version}, headers=OFFICE
    )
    assert r.status_code == 200 and r.get_json()["reason"] == sql
    assert connection.execute(text("SELECT count(*) FROM sites")).scalar_one() > 0
