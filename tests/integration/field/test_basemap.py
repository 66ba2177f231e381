"""`gis-app basemap import FILE`: MBTiles and PMTiles, raster and vector, built by the test;
the tiles served by the app (XYZ rows, gzip vector tiles as such), TileJSON, refusals, and
the tiles over a patrol's area in what a phone takes along."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gis_app.core.basemap import tileid_to_zxy, zxy_to_tileid
from tests.support.tilesets import png, tile_of, vector_tile, write_mbtiles, write_pmtiles
from tests.support.workflow import OFFICE, ZSM, make_site

CENTRE = (117.2626, 39.1000)  # 中山门


def _tiles(kind: str) -> dict[tuple[int, int, int], bytes]:
    out = {}
    for z in (13, 14, 15):
        x, y = tile_of(*CENTRE, z)
        for dx in (0, 1):
            out[(z, x + dx, y)] = (
                png((20 * z, 100 + 50 * dx, 30)) if kind == "raster" else vector_tile(f"{z}/{dx}")
            )
    return out


def _import(app_ctx, path):
    from gis_app.cli import cli

    return CliRunner().invoke(cli, ["basemap", "import", str(path)], obj={"app": app_ctx})


@pytest.mark.parametrize(
    ("container", "kind"),
    [("mbtiles", "raster"), ("mbtiles", "vector"), ("pmtiles", "raster"), ("pmtiles", "vector")],
)
def test_a_tile_set_is_imported_and_served(
    container, kind, app_ctx, client, auth, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(app_ctx.config, "DATA_DIR", str(tmp_path / "data"))
    tiles = _tiles(kind)
    if container == "mbtiles":
        path = write_mbtiles(tmp_path / "base.mbtiles", tiles, "png" if kind == "raster" else "pbf")
    else:
        path = write_pmtiles(tmp_path / "base.pmtiles", tiles, 2 if kind == "raster" else 1)
    result = _import(app_ctx, path)
    assert result.exit_code == 0, result.output
    said = "栅格" if kind == "raster" else "矢量"
    assert f"{said}瓦片 6 张" in result.output and "13–15" in result.output
    ext = "png" if kind == "raster" else "pbf"
    headers = auth.headers("base.viewer", "inspector", ZSM)
    for (z, x, y), data in tiles.items():
        got = client.get(f"/basemap/tiles/{z}/{x}/{y}.{ext}", headers=headers)
        assert got.status_code == 200
        assert got.get_data() == data  # the very bytes, on the XYZ row
        if kind == "vector":
            assert got.headers["Content-Encoding"] == "gzip"
            assert got.mimetype == "application/vnd.mapbox-vector-tile"
        else:
            assert got.mimetype == "image/png"
    z, x, y = next(iter(tiles))
    assert client.get(f"/basemap/tiles/{z}/{x}/{y + 5}.{ext}", headers=headers).status_code == 204
    info = client.get("/basemap.json", headers=headers).get_json()
    assert info["tiles"] == [f"/basemap/tiles/{{z}}/{{x}}/{{y}}.{ext}"]
    assert (info["minzoom"], info["maxzoom"], info["kind"]) == (13, 15, kind)
    assert client.get(f"/basemap/tiles/{z}/{x}/{y}.{ext}").status_code in (302, 401)  # login
    # every page with a map draws it: the raster as tiles, the vector through mvt.js
    page = client.get("/patrols/", headers=headers).get_data(as_text=True)
    assert f'data-kind="{kind}"' in page and 'data-minzoom="13" data-maxzoom="15"' in page
    assert ("js/mvt.js" in page) is (kind == "vector")
    if kind == "vector":
        assert page.index("js/mvt.js") < page.index("js/basemap.js")


def test_a_file_that_is_no_tile_set_is_refused(app_ctx, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(app_ctx.config, "DATA_DIR", str(tmp_path / "data"))
    bogus = tmp_path / "base.mbtiles"
    bogus.write_text("not a tile set")
    result = _import(app_ctx, bogus)
    assert result.exit_code == 1 and "既不是 MBTiles" in result.output
    assert not (tmp_path / "data" / "basemap").exists()


def test_the_pmtiles_tile_ids_follow_the_specification() -> None:
    assert [zxy_to_tileid(1, *xy) for xy in ((0, 0), (0, 1), (1, 1), (1, 0))] == [1, 2, 3, 4]
    assert zxy_to_tileid(12, 3423, 1763) == 19078479  # the reference implementation's value
    assert tileid_to_zxy(19078479) == (12, 3423, 1763)


def test_a_phone_takes_the_tiles_over_its_patrol_along(
    app_ctx, client, auth, db_session, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(app_ctx.config, "DATA_DIR", str(tmp_path / "data"))
    assert (
        _import(app_ctx, write_mbtiles(tmp_path / "b.mbtiles", _tiles("raster"), "png")).exit_code
        == 0
    )
    for i, (lon, lat) in enumerate([(117.2620, 39.1010), (117.2630, 39.1000)], start=1):
        make_site(db_session, OFFICE, code=f"BM-{i}", lon=lon, lat=lat, status="new")
    headers = auth.headers("base.insp", "inspector", ZSM)
    made = client.post("/api/v1/patrols", json={"area": {"kind": "street"}}, headers=headers)
    pack = client.get(f"/api/v1/patrols/{made.get_json()['id']}/offline", headers=headers)
    listed = pack.get_json()["basemap"]
    x, y = tile_of(*CENTRE, 15)
    assert f"/basemap/tiles/15/{x}/{y}.png" in listed
    assert all(client.get(u, headers=headers).status_code == 200 for u in listed)
