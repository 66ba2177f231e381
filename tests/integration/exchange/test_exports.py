"""Exports: GeoJSON (RFC 7946), GeoPackage, zipped Shapefile, KML, CSV, .xlsx, read back by GDAL.

Every format is checked with Debian's ogr2ogr, a reader nobody here wrote: the same features
and attributes as the GeoJSON export. The personal export is for district roles only, and an
exported file imports back into the ledger unchanged.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from shapely.geometry import shape
from sqlalchemy import func, select, text

from gis_app.core import codes
from gis_app.features.exchange.export.fields import LAT, LON, SITE_FIELDS, STREET_FIELDS, fields_for
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import Street
from tests.support.exports import load_sites, normalise, ogr_read


@pytest.fixture(autouse=True)
def english_exports(app, monkeypatch):
    """These tests read the exports' English field names and codes (the district's default is
    Chinese: test_export_language.py)."""
    monkeypatch.setitem(app.config, "EXPORT_LANG", "en")


pytestmark = pytest.mark.slow

#: bearer-token headers of another agency's machine and of the district office, made afresh
#: for each test (in its rolled-back transaction) by `_credentials`
AGENCY: dict[str, str] = {}
OFFICE: dict[str, str] = {}
DZG = "120102002"


@pytest.fixture(autouse=True)
def _credentials(auth) -> None:
    AGENCY.clear()
    AGENCY.update(auth.headers("规划局", "agency"))
    OFFICE.clear()
    OFFICE.update(auth.headers("王主任", "district_officer"))


@pytest.fixture()
def client(office):
    """Requests without credentials of their own come from the district office, logged in
    (the identity the tests had before accounts); AGENCY and OFFICE send bearer tokens."""
    return office


@pytest.fixture()
def sites(db_session) -> int:
    load_sites(db_session)
    return db_session.scalar(
        select(func.count()).select_from(Site).where(Site.deleted_at.is_(None))
    )


def _get(client, url: str, headers: dict | None = None, status: int = 200):
    response = client.get(url, headers=headers or AGENCY)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response


def _geojson(client, url: str = "/exports/sites.geojson", headers: dict | None = None) -> dict:
    response = _get(client, url, headers)
    assert response.mimetype == "application/geo+json"
    return json.loads(response.get_data())


def _snapshot(connection) -> dict[str, dict[str, Any]]:
    """The live sites by code: every ledger field, the point to 7 decimals, the street."""
    rows = connection.execute(
        select(
            Site.code,
            Site.address,
            Site.community,
            Site.kind,
            Site.area_m2,
            Site.disposition,
            Site.status,
            Site.source,
            Site.flag_central_inspection,
            Site.flag_hardship,
            Site.flag_renovation,
            Site.flag_obstruction,
            Site.committed_deadline,
            Site.current_deadline,
            Site.person_name,
            Site.person_contact,
            Site.note,
            func.round(func.ST_X(Site.geom).cast(_numeric()), 7).label("lon"),
            func.round(func.ST_Y(Site.geom).cast(_numeric()), 7).label("lat"),
            Street.code.label("street"),
        )
        .join(Street, Street.id == Site.street_id)
        .where(Site.deleted_at.is_(None))
    ).mappings()
    return {r["code"]: dict(r) for r in rows}


def _numeric():
    from sqlalchemy import Numeric

    return Numeric()


# ---------------------------------------------------------------- GeoJSON


def test_geojson_is_rfc7946_with_stable_ids_and_no_personal_data(client, sites, connection):
    doc = _geojson(client)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert len(doc["features"]) == sites
    ids = [f["id"] for f in doc["features"]]
    assert ids == sorted(ids) and len(set(ids)) == sites
    for feature in doc["features"]:
        props = feature["properties"]
        assert list(props) == [f.name for f in fields_for("sites")]
        assert props["id"] == feature["id"]
        lon, lat = feature["geometry"]["coordinates"]
        assert 117.1 < lon < 117.4 and 39.0 < lat < 39.2  # longitude first
        assert not set(props) & {*codes.PERSONAL_FIELDS, "note"}
        assert props["status"] in codes.STATUSES and props["kind"] in codes.KINDS
    body = json.dumps(doc, ensure_ascii=False)
    persons = connection.execute(
        select(Site.person_name, Site.person_contact).where(Site.person_name != "")
    ).all()
    assert persons and not any(name in body or phone in body for name, phone in persons)


def test_geojson_takes_the_api_filters(client, sites) -> None:
    query = "status=in_progress,awaiting_acceptance&overdue=false&bbox=117.19,39.07,117.27,39.14"
    exported = _geojson(client, f"/exports/sites.geojson?{query}")
    listed = _get(client, f"/api/v1/sites?{query}&limit=1000").get_json()
    assert exported["features"], "the filter should keep some sites"
    assert [f["id"] for f in exported["features"]] == [f["id"] for f in listed["features"]]
    fields = fields_for("sites")
    # the same values; times are the same instants (the API writes UTC, exports Beijing time)
    assert [
        {f.name: normalise(f, x["properties"][f.name]) for f in fields}
        for x in exported["features"]
    ] == [
        {f.name: normalise(f, x["properties"][f.name]) for f in fields} for x in listed["features"]
    ]
    assert all(
        f["properties"]["status"] in ("in_progress", "awaiting_acceptance")
        for f in exported["features"]
    )


def test_geojson_in_chinese_names_and_labels(client, sites) -> None:
    doc = _geojson(client, "/exports/sites.geojson?lang=zh&status=closed")
    props = doc["features"][0]["properties"]
    assert list(props) == [f.zh for f in fields_for("sites")]
    assert props["状态"] == "已销账"
    assert props["治理方式"] in codes.DISPOSITIONS.values()
    assert props["违建类型"] in codes.KINDS.values()


def test_street_boundaries_have_right_hand_rings_and_filtered_counts(client, sites) -> None:
    doc = _geojson(client, "/exports/streets.geojson?status=closed")
    assert [f["id"] for f in doc["features"]] == sorted(f["id"] for f in doc["features"])
    assert len(doc["features"]) == 12
    closed = client.get("/api/v1/sites/counts?status=closed").get_json()["closed"]
    assert sum(f["properties"]["sites_total"] for f in doc["features"]) == closed
    assert sum(f["properties"]["sites_closed"] for f in doc["features"]) == closed
    for feature in doc["features"]:
        geom = shape(feature["geometry"])
        assert geom.geom_type == "MultiPolygon" and geom.is_valid
        for polygon in geom.geoms:
            assert polygon.exterior.is_ccw  # RFC 7946 right-hand rule
            assert all(not ring.is_ccw for ring in polygon.interiors)
    one = _geojson(client, "/exports/streets.geojson?street=120102002")
    assert [f["id"] for f in one["features"]] == ["120102002"]


# ---------------------------------------------------------------- personal data


@pytest.mark.parametrize("role", ["agency", "street_officer", "bureau_media", "inspector"])
def test_personal_export_refused_to_other_roles(client, auth, sites, role) -> None:
    street = DZG if role in ("street_officer", "inspector") else None
    headers = auth.headers(f"x.{role}", role, street)
    response = client.get("/api/v1/exports/sites-personal.geojson", headers=headers)
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "forbidden" and body["field"] == "personal"
    page = client.get("/exports/sites-personal.csv", headers={**headers, "Accept": "text/html"})
    assert page.status_code == 403 and "区领导小组办公室" in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["bureau_police", "bureau_civil", "bureau_housing"])
def test_bureau_viewers_get_no_export(client, auth, sites, role) -> None:
    """The bureaus' own pages are their only view: no export, no OGC API, no export page."""
    headers = {**auth.headers(f"x.{role}", role), "Accept": "application/json"}
    for url in ("/api/v1/exports/sites.geojson", "/exports/streets.csv", "/exports"):
        response = client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.get_json()["field"] == "role"


@pytest.mark.parametrize("role", ["street_officer", "inspector"])
def test_a_street_exports_its_own_street_only(client, auth, sites, connection, role) -> None:
    own = connection.execute(
        text(
            "SELECT count(*) FROM sites s JOIN streets t ON t.id = s.street_id "
            "WHERE t.code = :c AND s.deleted_at IS NULL"
        ),
        {"c": DZG},
    ).scalar()
    assert 0 < own < sites
    headers = auth.headers(f"x.{role}", role, DZG)
    doc = _geojson(client, "/api/v1/exports/sites.geojson", headers)
    assert len(doc["features"]) == own
    assert {f["properties"]["street_code"] for f in doc["features"]} == {DZG}
    other = _geojson(client, "/exports/sites.geojson?street=120102003", headers)
    assert other["features"] == []
    streets = _geojson(client, "/exports/streets.geojson", headers)["features"]
    assert [f["id"] for f in streets] == [DZG] and streets[0]["properties"]["sites_total"] == own
    rows = _get(client, "/exports/sites.csv", headers).get_data(as_text=True).splitlines()
    assert len(rows) == own + 1
    page = _get(client, "/exports", {**headers, "Accept": "text/html"}).get_data(as_text=True)
    assert "中山门" not in page and "sites-personal" not in page


@pytest.mark.parametrize("role", ["district_officer", "district_admin"])
def test_personal_export_for_the_district_office(client, auth, sites, role, connection) -> None:
    headers = auth.headers(f"office.{role}", role)
    response = _get(client, "/exports/sites-personal.geojson", headers)
    assert response.headers["Cache-Control"] == "no-store"
    doc = json.loads(response.get_data())
    props = {f["properties"]["code"]: f["properties"] for f in doc["features"]}
    assert list(next(iter(props.values()))) == [f.name for f in fields_for("sites", True)]
    snapshot = _snapshot(connection)
    assert {c: (p["person_name"], p["person_contact"], p["note"]) for c, p in props.items()} == {
        c: (s["person_name"], s["person_contact"], s["note"]) for c, s in snapshot.items()
    }


# ---------------------------------------------------------------- every format through GDAL


def _download(client, tmp_path: Path, url: str, name: str, headers: dict | None = None) -> Path:
    response = _get(client, url, headers)
    path = tmp_path / name
    path.write_bytes(response.get_data())
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return path


def _by_code(features: list[dict], key: str) -> dict[str, dict]:
    return {str(f["properties"][key]): f for f in features}


@pytest.mark.parametrize(
    ("fmt", "name", "prefix", "options"),
    [
        ("gpkg", "sites.gpkg", "", ()),
        ("shp", "sites-shp.zip", "/vsizip/", ()),
        ("kml", "sites.kml", "", ()),
        ("csv", "sites.csv", "", ("-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat")),
        ("xlsx", "sites.xlsx", "", ("sites",)),
    ],
)
def test_gdal_reads_every_format_back(client, sites, tmp_path, fmt, name, prefix, options) -> None:
    reference = _by_code(_geojson(client)["features"], "code")
    path = _download(client, tmp_path, f"/exports/sites.{fmt}", name)
    features = ogr_read(f"{prefix}{path}", *options)
    fields = list(fields_for("sites"))
    if fmt == "kml":  # the code is the Placemark name
        key_of = {f.name: f.name for f in fields} | {"code": "Name"}
    elif fmt == "shp":
        key_of = {f.name: f.shp for f in fields}
    else:
        key_of = {f.name: f.name for f in fields}
    if fmt in ("csv", "xlsx"):
        key_of |= {"lon": "lon", "lat": "lat"}
        fields += [LON, LAT]
    got = _by_code(features, key_of["code"])
    assert set(got) == set(reference)
    for code, ref in reference.items():
        feature = got[code]
        lon, lat = ref["geometry"]["coordinates"]
        expected = {f.name: normalise(f, ref["properties"].get(f.name)) for f in fields}
        expected |= {"lon": lon, "lat": lat}
        actual = {f.name: normalise(f, feature["properties"].get(key_of[f.name])) for f in fields}
        if fmt in ("csv", "xlsx"):
            actual["lon"], actual["lat"] = (float(feature["properties"][k]) for k in ("lon", "lat"))
        else:
            actual["lon"], actual["lat"] = feature["geometry"]["coordinates"][:2]
        for key in ("lon", "lat"):
            assert actual.pop(key) == pytest.approx(expected.pop(key), abs=1e-7), (code, key)
        assert actual == expected, code


def test_shapefile_declares_utf8_and_reads_chinese(client, sites, tmp_path) -> None:
    path = _download(client, tmp_path, "/exports/sites.shp?lang=zh", "sites.zip")
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        assert names == sorted(f"sites{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
        assert zf.read("sites.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
    features = ogr_read(f"/vsizip/{path}")
    statuses = {f["properties"]["status"] for f in features}
    assert statuses <= set(codes.STATUSES.values()) and statuses
    assert all("街道" in f["properties"]["street"] for f in features)


def test_geopackage_columns_carry_the_other_language_as_alias(client, sites, tmp_path) -> None:
    path = _download(client, tmp_path, "/exports/sites.gpkg", "sites.gpkg")
    with sqlite3.connect(path) as db:
        aliases = dict(db.execute("SELECT column_name, name FROM gpkg_data_columns"))
    assert aliases["status"] == "状态" and aliases["area_m2"] == "面积（㎡）"
    zh = _download(client, tmp_path, "/exports/sites.gpkg?lang=zh", "zh.gpkg")
    with sqlite3.connect(zh) as db:
        aliases = dict(db.execute("SELECT column_name, name FROM gpkg_data_columns"))
        labels = {s for (s,) in db.execute('SELECT "状态" FROM sites')}
    assert aliases["状态"] == "status" and labels <= set(codes.STATUSES.values())


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "kml", "csv", "xlsx"])
def test_street_boundaries_in_every_format(client, sites, tmp_path, fmt) -> None:
    reference = _by_code(_geojson(client, "/exports/streets.geojson")["features"], "code")
    name = {"shp": "streets.zip"}.get(fmt, f"streets.{fmt}")
    path = _download(client, tmp_path, f"/exports/streets.{fmt}", name)
    prefix = "/vsizip/" if fmt == "shp" else ""
    features = ogr_read(f"{prefix}{path}", *(("streets",) if fmt == "xlsx" else ()))
    key = {"kml": "Name"}.get(fmt, "code")
    if fmt == "kml":  # the street name is the Placemark name
        got = {f["properties"]["code"]: f for f in features}
    else:
        got = _by_code(features, key)
    assert set(got) == set(reference)
    for code, ref in reference.items():
        props = got[code]["properties"]
        total = "n_total" if fmt == "shp" else "sites_total"
        assert int(props[total]) == ref["properties"]["sites_total"]
        if fmt == "xlsx":
            continue  # attributes and a label point only
        if fmt == "csv":
            geom = shape(got[code]["geometry"]) if got[code]["geometry"] else None
        else:
            geom = shape(got[code]["geometry"])
        assert geom is not None
        assert geom.symmetric_difference(shape(ref["geometry"])).area < 1e-10


# ---------------------------------------------------------------- round trip through the import


def _soft_delete_all(connection) -> None:
    connection.execute(
        text(
            "UPDATE sites SET deleted_at = now(), deleted_by = 'test', deleted_reason = '重新导入' "
            "WHERE deleted_at IS NULL"
        )
    )


@pytest.mark.parametrize(
    ("url", "name", "headers", "personal"),
    [
        ("/exports/sites.geojson", "sites.geojson", AGENCY, False),
        ("/exports/sites.geojson?lang=zh", "sites.geojson", AGENCY, False),
        ("/exports/sites.csv", "sites.csv", AGENCY, False),
        ("/exports/sites.csv?lang=zh", "sites.csv", AGENCY, False),
        ("/exports/sites.xlsx", "sites.xlsx", AGENCY, False),
        ("/exports/sites.xlsx?lang=zh", "sites.xlsx", AGENCY, False),
        ("/exports/sites-personal.geojson", "sites.geojson", OFFICE, True),
        ("/exports/sites-personal.xlsx", "sites.xlsx", OFFICE, True),
    ],
)
def test_export_imports_back_unchanged(
    client, auth, sites, connection, url, name, headers, personal
):
    importer = auth.headers("导入测试", "district_officer")
    # no import registers a site past 已建档 (issue 14): the round trip is of the sites the
    # import may bring in; a state the workflow reached is refused by name (below)
    moved = text("UPDATE sites SET status = 'registered' WHERE status NOT IN ('new', 'registered')")
    first = _get(client, url, headers).get_data()
    connection.execute(moved)
    before = _snapshot(connection)
    data = _get(client, url, headers).get_data()
    _soft_delete_all(connection)
    refused = client.post(
        "/api/v1/sites/import", data={"file": (io.BytesIO(first), name)}, headers=importer
    )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} == {"status"}
    response = client.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(data), name)},
        headers=importer,
    )
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["imported"] == len(before) and report["warnings"] == []
    after = _snapshot(connection)
    if not personal:  # agency exports carry no personal data: those fields come back empty
        for row in before.values():
            row.update(person_name="", person_contact="", note="", flag_hardship=False)
    assert after == before


# ---------------------------------------------------------------- bad input, page, CLI


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/v1/exports/sites.pdf", 422, "format"),
        ("/api/v1/exports/sites.geojson?lang=fr", 422, "lang"),
        ("/api/v1/exports/sites.csv?status=finished", 422, "status"),
        ("/api/v1/exports/sites.csv?bbox=1,2,3", 422, "bbox"),
        ("/api/v1/exports/parcels.geojson", 404, "layer"),
    ],
)
def test_bad_export_requests_name_the_field(client, url, status, field) -> None:
    response = client.get(url, headers=AGENCY)
    assert response.status_code == status
    assert response.get_json()["field"] == field


def test_export_page_links_carry_the_filters(client, sites) -> None:
    response = client.get("/exports?status=closed&street=120102002&lang=zh")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for fmt in ("geojson", "gpkg", "shp", "kml", "csv", "xlsx"):
        assert f'/exports/sites.{fmt}?street=120102002&amp;status=closed&amp;lang=zh"' in html
        assert f"/exports/streets.{fmt}?" in html
    assert 'href="/exports"' in client.get("/").get_data(as_text=True)  # nav link
    agency_page = client.get("/exports", headers=AGENCY).get_data(as_text=True)
    assert "sites-personal" not in agency_page
    assert "sites-personal" in client.get("/exports", headers=OFFICE).get_data(as_text=True)
    dictionary = client.get("/exports/data-dictionary.md")
    assert dictionary.status_code == 200 and dictionary.mimetype == "text/markdown"
    assert "| `status` | 状态 |" in dictionary.get_data(as_text=True)
    assert 'href="/exports/data-dictionary.md"' in html


def test_cli_exports_with_filters_and_progress(app_ctx, db_session, tmp_path) -> None:
    from gis_app.cli import cli

    load_sites(db_session)
    runner = CliRunner()
    out = tmp_path / "closed.geojson"
    result = runner.invoke(
        cli, ["export-geojson", "--status", "closed", "--out", str(out)], obj={"app": app_ctx}
    )
    assert result.exit_code == 0, result.output
    assert "已导出" in result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    closed = db_session.scalar(
        select(func.count())
        .select_from(Site)
        .where(Site.status == "closed", Site.deleted_at.is_(None))
    )
    assert len(doc["features"]) == closed > 0
    assert {f["properties"]["status"] for f in doc["features"]} == {"closed"}

    gpkg = tmp_path / "streets.gpkg"
    result = runner.invoke(
        cli,
        ["export", "--format", "gpkg", "--layer", "streets", "--out", str(gpkg)],
        obj={"app": app_ctx},
    )
    assert result.exit_code == 0, result.output
    assert len(ogr_read(gpkg)) == 12

    full = tmp_path / "full.csv"
    result = runner.invoke(
        cli,
        ["export", "--format", "csv", "--personal", "--lang", "zh", "--out", str(full)],
        obj={"app": app_ctx},
    )
    assert result.exit_code == 0, result.output
    assert "相对人" in full.read_text(encoding="utf-8-sig").splitlines()[0]

    bad = runner.invoke(
        cli, ["export", "--format", "kml", "--status", "done"], obj={"app": app_ctx}
    )
    assert bad.exit_code == 1 and "status" in bad.stderr

    dictionary = runner.invoke(cli, ["data-dictionary"])
    assert dictionary.exit_code == 0 and "| `status` |" in dictionary.output


def test_cli_short_option_o_on_every_export_command(app_ctx, db_session, tmp_path) -> None:
    """`-o FILE` and `-o -` (standard output) on export-geojson, export and data-dictionary."""
    from gis_app.cli import cli

    load_sites(db_session)
    runner = CliRunner()
    live = db_session.scalar(
        select(func.count()).select_from(Site).where(Site.deleted_at.is_(None))
    )
    out = tmp_path / "sites.geojson"
    result = runner.invoke(cli, ["export-geojson", "-o", str(out)], obj={"app": app_ctx})
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == live > 0
    piped = runner.invoke(cli, ["export-geojson", "-o", "-"], obj={"app": app_ctx})
    assert piped.exit_code == 0, piped.stderr
    assert len(json.loads(piped.stdout_bytes)["features"]) == live
    for fmt, reader in (("csv", None), ("gpkg", "gpkg"), ("kml", "kml")):
        target = tmp_path / f"sites.{fmt}"
        result = runner.invoke(
            cli, ["export", "--format", fmt, "-o", str(target)], obj={"app": app_ctx}
        )
        assert result.exit_code == 0, result.output
        streamed = runner.invoke(cli, ["export", "--format", fmt, "-o", "-"], obj={"app": app_ctx})
        assert streamed.exit_code == 0, streamed.stderr
        if reader is None:
            assert streamed.stdout_bytes == target.read_bytes()
        else:  # a binary file piped to standard output is the whole file
            copy = tmp_path / f"piped.{fmt}"
            copy.write_bytes(streamed.stdout_bytes)
            assert len(ogr_read(copy)) == len(ogr_read(target)) == live
    dictionary = tmp_path / "dictionary.md"
    result = runner.invoke(cli, ["data-dictionary", "-o", str(dictionary)])
    assert result.exit_code == 0 and "| `status` |" in dictionary.read_text(encoding="utf-8")
    assert "| `status` |" in runner.invoke(cli, ["data-dictionary", "-o", "-"]).stdout


def test_all_site_fields_documented_are_exported(client, sites) -> None:
    """The GeoJSON export has exactly the documented agency fields."""
    props = _geojson(client)["features"][0]["properties"]
    assert set(props) == {f.name for f in SITE_FIELDS if not f.personal}
    streets = _geojson(client, "/exports/streets.geojson")["features"][0]["properties"]
    assert list(streets) == [f.name for f in STREET_FIELDS]


def test_import_keeps_a_ledger_own_source_column_as_a_ledger_import(db_session) -> None:
    from gis_app.core.actor import Actor
    from gis_app.features.ledger.importer import import_sites

    csv_text = (
        "编号,地址,经度,纬度,治理方式,来源,当前期限,承诺期限\n"
        "A-1,大直沽中路1号,117.2381,39.11,拆除,群众举报,,2026-07-31\n"
        "A-2,大直沽中路2号,117.2382,39.11,拆除,巡查发现,2026-09-30,2026-07-31\n"
    )
    report = import_sites(db_session, csv_text.encode(), "l.csv", Actor("t", "district_officer"))
    assert report.imported == 2
    assert report.warnings == ["1 行的来源无法识别，按“台账导入”记录"]
    rows = dict(
        db_session.execute(
            select(Site.code, func.concat(Site.source, " ", Site.current_deadline)).where(
                Site.code.in_(["A-1", "A-2"])
            )
        ).all()
    )
    assert rows == {"A-1": "ledger 2026-07-31", "A-2": "patrol 2026-09-30"}


def test_import_names_a_bad_current_deadline(db_session) -> None:
    from gis_app.core.actor import Actor
    from gis_app.core.errors import ImportRejected
    from gis_app.features.ledger.importer import import_sites

    csv_text = "编号,地址,经度,纬度,治理方式,当前期限\nB-1,某路1号,117.2381,39.11,拆除,下个月\n"
    with pytest.raises(ImportRejected) as caught:
        import_sites(db_session, csv_text.encode(), "l.csv", Actor("t", "district_officer"))
    assert [(e["row"], e["field"]) for e in caught.value.errors] == [(2, "current_deadline")]
    assert "当前期限" in caught.value.errors[0]["message"]


def test_api_description_lists_the_exports(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/exports/{name}.{fmt}"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["fmt"]["schema"]["enum"] == ["geojson", "gpkg", "shp", "kml", "csv", "xlsx"]
    assert params["name"]["schema"]["enum"] == ["sites", "streets", "sites-personal"]
    assert params["lang"]["schema"]["enum"] == ["en", "zh"]
    assert {"status", "bbox", "street", "q"} <= set(params)
    answers = op["responses"]["200"]["content"]
    assert answers["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/FeatureCollection"
    }
    assert {"text/csv", "application/zip", "application/geopackage+sqlite3"} <= set(answers)
