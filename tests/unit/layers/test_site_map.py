"""The folium builders: local assets only, the site layer with its toggles, legend, printing."""

from __future__ import annotations

import json
import re

from layers import basemaps, palette
from layers.site_map import MapAssets, MapSpec, build_map, legend_html, render_map

ASSETS = MapAssets("/static/leaflet.js", "/static/leaflet.css", "/static/site-layer.js")
STREETS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "120102002",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[117.22, 39.10], [117.25, 39.10], [117.25, 39.12], [117.22, 39.10]]
                ],
            },
            "properties": {"code": "120102002", "name": "大直沽街道", "label": [117.24, 39.11]},
        }
    ],
}
COUNTS = {"new": 1, "overdue": 2, "registered": 3, "in_progress": 4, "awaiting_acceptance": 5,
          "closed": 6, "total": 21}  # fmt: skip


EMPTY_PAYLOAD = '{"n":0,"origin":[117.2,39.1],"scale":1000000,"stride":4,"span":8,"rows":[]}'


def spec(**overrides) -> MapSpec:
    values = {
        "sites_payload": EMPTY_PAYLOAD,
        "counts": COUNTS,
        "streets": STREETS,
        "bounds": (117.22, 39.10, 117.25, 39.12),
        "basemap": basemaps.resolve("offline", {}),
        "popup_url": "/map/sites/{id}/popup",
        "site_url": "/sites/{id}",
    }
    values.update(overrides)
    return MapSpec(**values)


def test_only_the_apps_own_scripts_and_styles() -> None:
    parts = render_map(build_map(spec(), ASSETS))
    urls = re.findall(r'(?:src|href)="([^"]+)"', parts.header)
    assert sorted(urls) == sorted(["/static/leaflet.js", "/static/leaflet.css",
                                   "/static/site-layer.js"])  # fmt: skip
    page = parts.header + parts.html + parts.script
    assert "cdn" not in page.lower() and "https://" not in page  # offline basemap: no tiles


def test_toggles_per_status_and_disposition_in_the_layer_control() -> None:
    script = render_map(build_map(spec(), ASSETS)).script
    statuses = re.findall(r'L\.gisSiteToggle\(\s*\w+, "status", (\d+)', script)
    dispositions = re.findall(r'L\.gisSiteToggle\(\s*\w+, "disposition", (\d+)', script)
    assert statuses == [str(i) for i in range(len(palette.legend_keys()))]
    assert dispositions == ["0", "1"]
    overlays = re.search(r"overlays :\s*\{(.*?)\},", script, re.S).group(1)
    for item in palette.legend():
        assert item["label"] in overlays.encode().decode("unicode_escape")
    assert "L.control.layers" in script and "L.gisSiteLayer" in script
    assert "fitBounds" in script


def test_legend_in_chinese_with_counts() -> None:
    html = legend_html(COUNTS)
    for item in palette.legend():
        assert f'data-count="{item["key"]}">{COUNTS[item["key"]]}<' in html
        assert item["label"] in html
    assert "拆除" in html and "规范治理" in html and ">21<" in html
    assert 'data-count="total"' not in legend_html(None)


def test_printable_map_has_no_controls() -> None:
    script = render_map(build_map(spec(printable=True), ASSETS)).script
    assert "L.control.layers" not in script and "gisSiteToggle" not in script
    assert '"zoomControl": false' in script
    assert "gis-legend" in script  # the legend stays


def test_data_block_cannot_close_its_script() -> None:
    parts = render_map(build_map(spec(sites_payload='{"n":0,"x":"</script>"}'), ASSETS))
    assert "</script>" not in parts.data.removesuffix("</script>")
    block = re.search(r'<script type="application/json" id="(\w+)">(.*)</script>', parts.data)
    assert json.loads(block.group(2))["x"] == "</script>"
    assert f'document.getElementById("{block.group(1)}")' in parts.script


def test_online_basemap_tiles_are_drawn_under_the_sites() -> None:
    basemap = basemaps.resolve("tianditu", {"TIANDITU_KEY": "KEY1"})
    script = render_map(build_map(spec(basemap=basemap), ASSETS)).script
    assert "tianditu.gov.cn/vec_w/" in script and "tianditu.gov.cn/cva_w/" in script
    assert script.count("tk=KEY1") == 2
    assert script.index("tianditu.gov.cn/vec_w/") < script.index("L.gisSiteLayer")


def test_rendering_without_recompiling_gives_the_same_page() -> None:
    """layers.site_map renders macros' output as text instead of compiling it as a template
    again (branca's way): the same markup, byte for byte, but for folium's random ids."""
    from branca.element import MacroElement

    from layers import site_map

    def page() -> str:
        parts = render_map(build_map(spec(), ASSETS), nonce="n0")
        text = parts.header + parts.html + parts.data + parts.script
        return re.sub(r"[0-9a-f]{32}", "ID", text)

    ours = page()
    MacroElement.render = site_map.BRANCA_MACRO_RENDER
    try:
        theirs = page()
    finally:
        MacroElement.render = site_map.render_macro
    assert MacroElement.render is not site_map.BRANCA_MACRO_RENDER
    assert ours == theirs
    assert "L.map(" in ours and "gisSiteToggle" in ours
