"""Basemaps chosen in configuration; the default needs no internet."""

from __future__ import annotations

import pytest

from layers import basemaps


def test_offline_is_the_default_and_has_no_tiles() -> None:
    from gis_app.settings import load_config

    config = load_config()
    assert config["BASEMAP"] == "offline"
    basemap = basemaps.resolve(config["BASEMAP"], config)
    assert basemap.offline and basemap.tiles == [] and not basemap.shift_gcj02
    assert basemap.background.startswith("#")


def test_tianditu_vector_and_annotation_with_the_key() -> None:
    basemap = basemaps.resolve("tianditu", {"TIANDITU_KEY": "ab c/d"})
    assert [t.name for t in basemap.tiles] == ["天地图矢量", "天地图注记"]
    vec, cva = basemap.tiles
    assert "LAYER=vec" in vec.url and "LAYER=cva" in cva.url
    assert vec.url.endswith("tk=ab%20c%2Fd") and cva.url.endswith("tk=ab%20c%2Fd")
    assert not vec.overlay and cva.overlay
    assert basemap.datum == "wgs84" and not basemap.shift_gcj02  # CGCS2000: no shift


def test_tianditu_without_key_falls_back_to_offline_with_a_notice() -> None:
    basemap = basemaps.resolve("tianditu", {"TIANDITU_KEY": "  "})
    assert basemap.offline
    assert "GIS_APP_TIANDITU_KEY" in basemap.notice and "离线" in basemap.notice


def test_osm_and_amap() -> None:
    osm = basemaps.resolve("osm", {})
    assert osm.tiles[0].url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in osm.tiles[0].attribution and not osm.shift_gcj02
    amap = basemaps.resolve("amap", {})
    assert amap.shift_gcj02 and amap.tiles[0].url.startswith("https://webrd0{s}")


def test_every_online_provider_uses_https() -> None:
    for name in basemaps.providers():
        for tiles in basemaps.resolve(name, {"TIANDITU_KEY": "k"}).tiles:
            assert tiles.url.startswith("https://"), name


def test_an_unknown_basemap_stops_the_app_at_start_up(database_url) -> None:
    from gis_app import create_app

    with pytest.raises(basemaps.BasemapConfigError, match="GIS_APP_BASEMAP='google'"):
        create_app({"DATABASE_URL": database_url, "BASEMAP": "google"})
