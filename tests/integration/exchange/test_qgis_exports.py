"""Exports that agree: QGIS 3.22 (PyQGIS, Debian's) opens the GeoJSON, GeoPackage, Shapefile
and KML exports of the same sites, filtered and not, and reads the same id, times and values
from each; the GeoPackage's fid and the KML Placemark's id are the site's id; Debian 12's GDAL
opens the GeoPackage without a warning and reads the same instants as from the GeoJSON."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gis_app.features.exchange.export.fields import fields_for
from gis_app.features.ledger.models import Site
from tests.support.exports import load_sites, normalise, ogr_read
from tests.support.pyqgis import MISSING, run_probe


@pytest.fixture(autouse=True)
def english_exports(app, monkeypatch):
    """These tests read the exports' English field names and codes (the district's default is
    Chinese: test_export_language.py)."""
    monkeypatch.setitem(app.config, "EXPORT_LANG", "en")


pytestmark = [pytest.mark.slow, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

DZG = "120102002"
FIELDS = fields_for("sites")
TIMES = [f.name for f in FIELDS if f.type == "datetime"]
#: an unfiltered export, and a filtered one whose ids do not run 1..n
QUERIES = {"all": "", "street": f"?street={DZG}"}


@pytest.fixture()
def files(office, db_session, tmp_path) -> dict[str, dict[str, Path]]:
    load_sites(db_session, n=80, seed=23)
    out: dict[str, dict[str, Path]] = {}
    for label, query in QUERIES.items():
        out[label] = {}
        for fmt, name in (
            ("geojson", "sites.geojson"),
            ("gpkg", "sites.gpkg"),
            ("shp", "sites-shp.zip"),
            ("kml", "sites.kml"),
        ):
            response = office.get(f"/exports/sites.{fmt}{query}")
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            path = tmp_path / f"{label}-{name}"
            path.write_bytes(response.get_data())
            out[label][fmt] = path
    return out


def _layers(files: dict[str, Path], tmp: Path) -> dict[str, Any]:
    uri = {
        "geojson": str(files["geojson"]),
        "gpkg": f"{files['gpkg']}|layername=sites",
        "shp": f"/vsizip/{files['shp']}/sites.shp",
        "kml": str(files["kml"]),
    }
    spec = {"layers": [{"name": fmt, "provider": "ogr", "uri": u} for fmt, u in uri.items()]}
    layers = run_probe(tmp, spec)["layers"]
    for fmt, layer in layers.items():
        assert layer["valid"], fmt
    return layers


def _by_id(layer: dict[str, Any], id_field: str = "id") -> dict[int, dict[str, Any]]:
    return {int(f["attributes"][id_field]): f for f in layer["features"]}


@pytest.mark.parametrize("label", list(QUERIES))
def test_qgis_reads_the_same_sites_from_every_format(files, label, db_session, tmp_path) -> None:
    layers = _layers(files[label], tmp_path)
    reference = _by_id(layers["geojson"])
    conds = [Site.deleted_at.is_(None)]
    if label == "street":
        from gis_app.features.streets.models import Street

        conds.append(
            Site.street_id == select(Street.id).where(Street.code == DZG).scalar_subquery()
        )
        ids = set(db_session.scalars(select(Site.id).where(*conds)))
        assert ids and ids != set(range(1, len(ids) + 1))  # not 1..n: a fid from row numbers fails
    live = db_session.scalar(select(func.count()).select_from(Site).where(*conds))
    assert len(reference) == live > 0

    # GeoPackage: fid = id; every value, and the times exactly as QGIS shows the GeoJSON's
    gpkg = _by_id(layers["gpkg"])
    assert set(gpkg) == set(reference)
    for site_id, feature in gpkg.items():
        assert feature["fid"] == site_id
        ref = reference[site_id]["attributes"]
        got = feature["attributes"]
        assert {f.name: normalise(f, got[f.name]) for f in FIELDS} == {
            f.name: normalise(f, ref[f.name]) for f in FIELDS
        }, site_id
        assert [got[t] for t in TIMES] == [ref[t] for t in TIMES], site_id  # not 8 hours off
        assert feature["point"] == pytest.approx(reference[site_id]["point"], abs=1e-7)

    # Shapefile: dBASE names; the id field is the key (the format stores no feature id)
    shp = _by_id(layers["shp"])
    assert set(shp) == set(reference)
    for site_id, feature in shp.items():
        ref = reference[site_id]["attributes"]
        got = feature["attributes"]
        assert {f.name: normalise(f, got[f.shp]) for f in FIELDS} == {
            f.name: normalise(f, ref[f.name]) for f in FIELDS
        }, site_id

    # KML: the code is the Placemark name; every value; the Placemark id is the site id
    kml = {int(f["attributes"]["id"]): f["attributes"] for f in layers["kml"]["features"]}
    assert set(kml) == set(reference)
    for site_id, got in kml.items():
        ref = reference[site_id]["attributes"]
        got = {**got, "code": got.get("Name", got.get("name"))}
        assert {f.name: normalise(f, got.get(f.name)) for f in FIELDS} == {
            f.name: normalise(f, ref[f.name]) for f in FIELDS
        }, site_id
    text = files[label]["kml"].read_text(encoding="utf-8")
    placemarks = re.findall(
        r'<Placemark id="sites\.(\d+)">.*?<SimpleData name="id">(\d+)</SimpleData>', text, re.S
    )
    assert len(placemarks) == len(reference)
    assert all(pid == sid for pid, sid in placemarks)
    assert {int(pid) for pid, _ in placemarks} == set(reference)


def test_gdal_opens_the_geopackage_without_a_warning_and_reads_the_same_instants(
    files, tmp_path
) -> None:
    for label in QUERIES:
        path = files[label]["gpkg"]
        opened = subprocess.run(
            ["ogrinfo", "-ro", "-so", str(path), "sites"],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert opened.returncode == 0 and opened.stderr == b"", opened.stderr.decode()
        listed = subprocess.run(
            ["ogrinfo", "-ro", "-q", str(path), "sites"],
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout.decode()
        fids = [int(x) for x in re.findall(r"OGRFeature\(sites\):(\d+)", listed)]
        ids = [int(x) for x in re.findall(r"^\s+id \(Integer64\) = (\d+)$", listed, re.M)]
        assert fids == ids and fids
        reference = {_gdal_id(f): f["properties"] for f in ogr_read(files[label]["geojson"])}
        got = {_gdal_id(f): f["properties"] for f in ogr_read(path)}
        assert set(got) == set(reference)
        for site_id, props in got.items():
            for name in TIMES:
                f = next(x for x in FIELDS if x.name == name)
                assert normalise(f, props[name]) == normalise(f, reference[site_id][name])


def _gdal_id(feature: dict[str, Any]) -> int:
    """The site id of a feature GDAL read: its `id` field, or its fid where GDAL made the
    field the feature id (a GeoJSON whose `id` member and property agree)."""
    return int(feature["properties"].get("id", feature.get("id")))
