"""The map pages: district map, street maps, filters, printouts, popups (Flask test client)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from gis_app.core.geo.gcj02 import wgs84_to_gcj02
from gis_app.demo.loader import load_demo
from gis_app.features.ledger.queries import SiteFilter, counts_by_status
from gis_app.features.maps import service as map_data
from layers import palette

pytestmark = pytest.mark.slow

TODAY = date(2026, 6, 15)
DAZHIGU = "120102002"
HTML = {"Accept": "text/html"}


@pytest.fixture()
def demo(office, app):
    """300 demo sites; the client is logged in as a district officer (sees every site)."""
    from gis_app.http.database import session

    with app.app_context():
        load_demo(session(), n_sites=300, seed=5, today=TODAY)
        session().commit()
    return office


def _page(client, url: str) -> str:
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _payload(html: str) -> str:
    return re.search(r'<script type="application/json" id="\w+">(.*?)</script>', html, re.S)[1]


def _counts_table(html: str) -> dict[str, int]:
    table = re.search(r'<table class="stats map-counts".*?</table>', html, re.S)[0]
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', table)}


def _api_counts(client, query: str) -> dict:
    return client.get(f"/api/v1/sites/counts?{query}").get_json()


def test_district_map_draws_every_site_with_counts_and_legend(demo) -> None:
    html = _page(demo, "/map")
    points = map_data.decode_points(_payload(html))
    api = _api_counts(demo, "")
    assert len(points) == api["total"] == 300
    counts = _counts_table(html)
    assert counts["total"] == 300 and counts["overdue"] == api["overdue"]
    assert sum(counts[k] for k in palette.legend_keys()) == 300
    for item in palette.legend():
        assert item["label"] in html
        assert counts[item["key"]] == sum(1 for p in points if p["key"] == item["key"])
    assert "大直沽街道" in html and "中山门街道" in html  # street outlines with names
    assert 'href="/map"' in html  # in the nav
    assert "打印版" in html


def test_every_asset_is_served_by_the_app(demo) -> None:
    html = _page(demo, "/map")
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert urls and all(not u.startswith(("http:", "https:", "//")) for u in urls), urls
    for url in {u for u in urls if u.startswith("/static/")}:
        response = demo.get(url)
        assert response.status_code == 200, url
        response.close()


@pytest.mark.parametrize(
    "query",
    [
        "status=closed",
        "status=in_progress&status=awaiting_acceptance",
        "overdue=true",
        "disposition=demolish&flag=central_inspection",
        "deadline_from=2026-06-01&deadline_to=2026-09-30",
        "street=120102003&overdue=false",
    ],
)
def test_filters_change_what_is_drawn_and_counted(demo, query: str) -> None:
    html = _page(demo, f"/map?{query}")
    drawn = len(map_data.decode_points(_payload(html)))
    assert drawn == _counts_table(html)["total"] == _api_counts(demo, query)["total"]
    assert drawn < 300
    assert "筛选：" in html  # the active filters in words


def test_filter_controls_show_the_active_filter(demo) -> None:
    html = _page(demo, "/map?status=closed&disposition=rectify&overdue=false&q=DWZ")
    assert re.search(r'name="status" value="closed" checked', html)
    assert not re.search(r'name="status" value="new" checked', html)
    assert re.search(r'name="disposition" value="rectify" checked', html)
    assert re.search(r'<option value="false" selected>不含逾期', html)
    assert 'name="q" value="DWZ"' in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=demolished", "status"),
        ("deadline_from=2026-09-01&deadline_to=2026-01-01", "deadline_from"),
        ("deadline_to=明天", "deadline_to"),
        ("overdue=maybe", "overdue"),
    ],
)
def test_bad_filter_says_what_to_correct(demo, query: str, field: str) -> None:
    response = demo.get(f"/map?{query}", headers=HTML)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "筛选条件有误" in html and f"<code>{field}</code>" in html
    assert "L.gisSiteLayer" not in html and 'id="map-filters"' in html


def test_street_map_draws_its_sites_and_counts(demo) -> None:
    html = _page(demo, f"/map/street/{DAZHIGU}")
    points = map_data.decode_points(_payload(html))
    api = _api_counts(demo, f"street={DAZHIGU}")
    assert len(points) == api["total"] == _counts_table(html)["total"] > 0
    assert "大直沽街道违建治理点位图" in html
    assert "fitBounds" in html and "gis-street-label-highlight" in html
    # the street filter is the page itself; other filters still apply
    closed = _page(demo, f"/map/street/{DAZHIGU}?status=closed&street=120102003")
    assert (
        _counts_table(closed)["total"]
        == _api_counts(demo, f"street={DAZHIGU}&status=closed")["total"]
    )


@pytest.mark.parametrize("code", ["999999999", "12010200", "abc"])
def test_unknown_street_is_a_chinese_404(demo, code: str) -> None:
    response = demo.get(f"/map/street/{code}", headers=HTML)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "找不到页面" in html and "街道" in html


def test_printable_street_map(demo) -> None:
    html = _page(demo, f"/map/street/{DAZHIGU}/print?overdue=true")
    assert "河东区大直沽街道违法建设治理点位图" in html
    assert '制图日期：<span id="print-date">2026年06月15日' in html
    assert (
        _counts_table(html)["total"] == _api_counts(demo, f"street={DAZHIGU}&overdue=true")["total"]
    )
    assert "L.control.layers" not in html and "gis-legend" in html
    css = demo.get("/static/css/map.css")
    assert "size: A4 landscape" in css.get_data(as_text=True)
    css.close()
    district = _page(demo, "/map/print")
    assert len(map_data.decode_points(_payload(district))) == 300


def test_popup_json_without_personal_data(demo) -> None:
    points = map_data.decode_points(_payload(_page(demo, "/map")))
    site_id = points[0]["id"]
    body = demo.get(f"/map/sites/{site_id}/popup").get_json()
    full = demo.get(f"/api/v1/sites/{site_id}").get_json()["properties"]
    assert body["code"] == full["code"] and body["address"] == full["address"]
    assert body["current_deadline"] == full["current_deadline"]
    assert body["url"] == f"/sites/{site_id}"
    assert full["person_name"] not in json.dumps(body, ensure_ascii=False)
    missing = demo.get("/map/sites/999999/popup", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_map_pages_are_sent_compressed(demo) -> None:
    response = demo.get("/map", headers={**HTML, "Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.get_data()).decode()
    assert len(map_data.decode_points(_payload(html))) == 300
    plain = demo.get("/map", headers=HTML)
    assert "Content-Encoding" not in plain.headers


def test_home_links_to_the_maps(demo) -> None:
    html = _page(demo, "/")
    assert 'href="/map"' in html
    assert f'href="/map/street/{DAZHIGU}"' in html


def test_tianditu_basemap_from_configuration(demo, app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "BASEMAP", "tianditu")
    monkeypatch.setitem(app.config, "TIANDITU_KEY", "test-key")
    html = _page(demo, "/map")
    assert "tianditu.gov.cn/vec_w/" in html and "tk=test-key" in html
    monkeypatch.setitem(app.config, "TIANDITU_KEY", "")
    html = _page(demo, "/map")
    assert "tianditu.gov.cn/vec_w/" not in html and "GIS_APP_TIANDITU_KEY" in html


def test_gcj02_basemap_shifts_the_sites(demo, app, monkeypatch) -> None:
    plain = map_data.decode_points(_payload(_page(demo, "/map")))
    monkeypatch.setitem(app.config, "BASEMAP", "amap")
    shifted = map_data.decode_points(_payload(_page(demo, "/map")))
    for a, b in zip(plain[:20], shifted[:20], strict=True):
        assert b["lon"] == pytest.approx(wgs84_to_gcj02(a["lon"], a["lat"])[0], abs=2e-6)
        assert b["lat"] == pytest.approx(wgs84_to_gcj02(a["lon"], a["lat"])[1], abs=2e-6)


def test_counts_match_the_api_counts_service(demo, app) -> None:
    """Overdue is counted once: as overdue, not again under its stored status."""
    from gis_app.http.database import session

    html = _page(demo, "/map")
    counts = _counts_table(html)
    with app.app_context():
        api = counts_by_status(session(), SiteFilter.from_args(MultiDict()), TODAY)
        session().commit()
    assert counts["closed"] == api["closed"]
    open_not_overdue = sum(counts[k] for k in ("new", "registered", "in_progress",
                                                "awaiting_acceptance"))  # fmt: skip
    assert open_not_overdue + counts["overdue"] == api["total"] - api["closed"]


# ---------------------------------------------------------------- who sees which map


def test_a_street_sees_its_own_sites_only(demo, auth, app) -> None:
    """A street officer's district map, filters, street maps and popups hold its street only:
    another street's map and sites answer as unknown ones."""
    district = map_data.decode_points(_payload(_page(demo, "/map")))
    auth.login(demo, "officer.dzg", "street_officer", DAZHIGU)
    own = map_data.decode_points(_payload(_page(demo, "/map")))
    expected = _api_counts(demo, "")["total"]
    assert 0 < len(own) == expected < len(district)
    assert len(map_data.decode_points(_payload(_page(demo, "/map?street=120102003")))) == 0
    html = _page(demo, f"/map/street/{DAZHIGU}")
    assert len(map_data.decode_points(_payload(html))) == len(own)
    choices = re.findall(r'<option value="(\d{9})"', _page(demo, "/map"))
    assert choices == [DAZHIGU]  # no other street to choose
    for url in ("/map/street/120102003", "/map/street/120102003/print"):
        assert demo.get(url, headers=HTML).status_code == 404
    own_ids = {p["id"] for p in own}
    other = next(p["id"] for p in district if p["id"] not in own_ids)
    assert demo.get(f"/map/sites/{other}/popup").status_code == 404
    popup = demo.get(f"/map/sites/{min(own_ids)}/popup").get_json()
    assert popup["url"] == f"/sites/{min(own_ids)}"


def test_the_media_centre_sees_the_map_without_site_pages(demo, auth) -> None:
    auth.login(demo, "media.map", "bureau_media")
    points = map_data.decode_points(_payload(_page(demo, "/map")))
    assert len(points) == 300
    popup = demo.get(f"/map/sites/{points[0]['id']}/popup").get_json()
    assert popup["code"] and popup["url"] is None  # the site page is internal
    assert demo.get(f"/sites/{points[0]['id']}", headers=HTML).status_code == 403


@pytest.mark.parametrize("role", ["bureau_civil", "bureau_housing", "bureau_police", "agency"])
def test_other_roles_do_not_see_the_map(demo, auth, role) -> None:
    auth.login(demo, f"{role}.map", role)
    for url in ("/map", "/map/print", f"/map/street/{DAZHIGU}", "/map/sites/1/popup"):
        assert demo.get(url, headers=HTML).status_code == 403, url


def test_nobody_logged_in_is_sent_to_the_login_page(client) -> None:
    response = client.get("/map", headers=HTML)
    assert response.status_code == 302 and "/login?next=/map" in response.headers["Location"]
    assert (
        client.get("/map/sites/1/popup", headers={"Accept": "application/json"}).status_code == 401
    )


def test_map_scripts_carry_the_response_nonce(demo) -> None:
    """folium's inline scripts run under the Content-Security-Policy: each carries the nonce
    of its response, and the policy allows no inline script without it."""
    response = demo.get("/map", headers=HTML)
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)[1]
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    data_blocks = [a for a in inline if "application/json" in a]
    assert len(inline) - len(data_blocks) >= 2  # folium's L_NO_TOUCH and the map's script
    assert all(f'nonce="{nonce}"' in a for a in inline if a not in data_blocks), inline
    assert "onclick=" not in demo.get("/map/print", headers=HTML).get_data(as_text=True)


def test_above_the_threshold_the_page_carries_no_site_but_the_same_counts(demo, app) -> None:
    below = _page(demo, "/map?status=in_progress,closed")
    total = json.loads(_payload(below))["n"]
    assert total > 0 and "site-tiles.js" not in below
    app.config["MAP_TILE_THRESHOLD"] = total - 1
    above = _page(demo, "/map?status=in_progress,closed")
    assert json.loads(_payload(above))["n"] == 0
    assert "site-tiles.js" in above
    assert above.index("js/mvt.js") < above.index("site-tiles.js")  # its tile reader first
    assert _counts_table(above) == _counts_table(below)
    # the tiles and the sites of a view carry the page's filter
    assert "/tiles/sites/{z}/{x}/{y}.mvt?status=in_progress,closed" in above
    assert "/map/sites.json?status=in_progress,closed" in above
    # the printout still draws every site
    printed = _page(demo, "/map/print?status=in_progress,closed")
    assert json.loads(_payload(printed))["n"] == total


def test_the_sites_of_a_view_need_its_bbox(demo) -> None:
    response = demo.get("/map/sites.json?status=closed", headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["field"] == "bbox"
    response = demo.get("/map/sites.json?status=closed&bbox=117.1,39.0,117.4,39.2")
    assert response.status_code == 200
    body = response.get_json()
    assert body["n"] == demo.get("/api/v1/sites/counts?status=closed").get_json()["total"]
