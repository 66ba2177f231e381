"""The map pages in a real headless Chromium, with every request outside 127.0.0.1 blocked."""

from __future__ import annotations

import re

import pytest

from layers import palette
from tests.support.browser import OFFICE, log_in

pytestmark = pytest.mark.browser

DAZHIGU = "120102002"
# a function, not an expression: Playwright polls an expression with eval, which the
# Content-Security-Policy of the pages forbids
DRAWN = "() => window.gisSites && window.gisSites.stats.firstDrawnAt !== null"


@pytest.fixture()
def tab(tab, live_server):
    """The tab logged in as the district office (every site on the map)."""
    log_in(tab, live_server.url, OFFICE)
    return tab


def open_map(tab, url: str) -> dict:
    response = tab.page.goto(url)
    assert response.status == 200, url
    tab.page.wait_for_function(DRAWN, timeout=20_000)
    return tab.page.evaluate("() => ({...window.gisSites.stats})")


def assert_painted_where_sites_are(page) -> None:
    """Each drawn site sits where Leaflet puts its coordinates, and at the centre of a site
    standing alone the canvas has that site's status colour."""
    worst = page.evaluate(
        """() => { const s = window.gisSites, m = window.gisMap;
                   const corner = m.layerPointToContainerPoint(s._topLeft);
                   let worst = 0;
                   for (let i = 0; i < s.stats.total; i++) {
                     if (!s._drawnMask[i]) continue;
                     const p = s.containerPointOf(i);
                     worst = Math.max(worst, Math.abs(s._px[i] + corner.x - p.x),
                                      Math.abs(s._py[i] + corner.y - p.y));
                   }
                   return worst; }"""
    )
    assert worst < 1.0
    painted = page.evaluate(
        """() => { const s = window.gisSites, c = document.querySelector('.gis-site-canvas');
                   const r = window.devicePixelRatio || 1, n = s.stats.total;
                   for (let i = 0; i < n; i++) {
                     if (!s._drawnMask[i]) continue;
                     let alone = true;
                     for (let j = 0; j < n && alone; j++) {
                       const dx = s._px[i] - s._px[j], dy = s._py[i] - s._py[j];
                       if (j !== i && dx * dx + dy * dy < 400) alone = false;
                     }
                     if (!alone) continue;
                     const ctx = c.getContext('2d');
                     const d = ctx.getImageData(s._px[i] * r, s._py[i] * r, 1, 1).data;
                     const key = s.options.palette.statuses[s._sites.key[i]];
                     return {fill: key.fill, rgba: Array.from(d)};
                   } }"""
    )
    fill = painted["fill"]
    expected = [int(fill[k : k + 2], 16) for k in (1, 3, 5)]
    assert all(abs(a - b) <= 2 for a, b in zip(painted["rgba"][:3], expected, strict=True))
    assert painted["rgba"][3] > 200


def live_total(live, where: str = "TRUE") -> int:
    return live.scalar(f"SELECT count(*) FROM sites WHERE deleted_at IS NULL AND {where}")


def test_district_map_draws_every_site_with_legend_and_street_names(live_server, tab) -> None:
    stats = open_map(tab, live_server.url + "/map")
    total = live_total(live_server)
    assert stats["total"] == stats["drawn"] == total > 0
    assert stats["draws"] == 1  # drawn once, at the framed view (what the bench times)
    page = tab.page
    assert page.locator(".folium-map").get_attribute("data-sites-drawn") == str(total)
    legend = page.locator(".gis-legend").inner_text()
    for item in palette.legend():
        assert item["label"] in legend
    assert re.search(rf"合计\s*{total}", legend)
    names = sorted(page.locator(".gis-street-label").all_inner_texts())
    assert names == sorted(n for (n,) in live_server.rows("SELECT name FROM streets"))
    control = page.locator(".leaflet-control-layers").inner_text()
    for label in ("街道边界", "按状态", "按治理方式", "拆除", "规范治理", "逾期", "新发现"):
        assert label in control
    assert_painted_where_sites_are(page)
    assert tab.problems() == []


def test_click_on_a_site_opens_its_popup(live_server, tab) -> None:
    open_map(tab, live_server.url + "/map")
    page = tab.page
    target = page.evaluate(
        """() => { const s = window.gisSites;
                   for (let i = 0; i < s.stats.total; i++) {
                     const p = s.containerPointOf(i);
                     if (p.x > 80 && p.y > 80 && p.x < 850 && p.y < 650 && s.siteAt(p) === i)
                       return {id: s.idOf(i), x: p.x, y: p.y};
                   } }"""
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_selector(".gis-popup-code", timeout=10_000)
    code, address, deadline = live_server.rows(
        "SELECT code, address, current_deadline FROM sites WHERE id = :id", id=target["id"]
    )[0]
    popup = page.locator(".leaflet-popup-content")
    assert page.locator(".gis-popup-code").inner_text() == code
    text = popup.inner_text()
    assert address in text and "治理方式" in text and "状态" in text
    assert (deadline.isoformat() if deadline else "未定") in text
    assert popup.locator("a.gis-popup-link").get_attribute("href") == f"/sites/{target['id']}"
    assert tab.problems() == []


def test_zoom_and_pan_redraw_the_sites_in_place(live_server, tab) -> None:
    stats = open_map(tab, live_server.url + "/map")
    page = tab.page
    for move in (
        "m.setZoom(m.getZoom() + 3.5, {animate: false})",
        "m.panBy([300, -200], {animate: false})",
        "m.setZoom(m.getZoom() - 1)",  # animated
    ):
        page.evaluate(
            f"() => new Promise(done => {{ const m = window.gisMap; m.once('moveend', () =>"
            f" requestAnimationFrame(() => done())); {move}; }})"
        )
        assert_painted_where_sites_are(page)
    now = page.evaluate("() => ({...window.gisSites.stats})")
    assert now["draws"] == stats["draws"] + 3  # one draw per change of view
    assert 0 < now["drawn"] < now["total"]  # zoomed in: only the sites in view are drawn
    page.set_viewport_size({"width": 1000, "height": 700})  # the window shrinks: drawn anew
    page.wait_for_function(
        "() => { const w = window.gisMap.getSize().x;"
        " return window.gisSites._size.x === w + 2 * Math.round(w * 0.25); }"
    )
    assert_painted_where_sites_are(page)
    assert tab.problems() == []


def test_filter_controls_change_what_is_drawn(live_server, tab) -> None:
    open_map(tab, live_server.url + "/map")
    page = tab.page
    page.check('#map-filters input[name="status"][value="closed"]')
    with page.expect_navigation():
        page.click('#map-filters button[type="submit"]')
    page.wait_for_function(DRAWN)
    assert "status=closed" in page.url
    closed = live_total(live_server, "status = 'closed'")
    stats = page.evaluate("() => ({...window.gisSites.stats})")
    assert stats["drawn"] == stats["total"] == closed < live_total(live_server)
    assert page.locator('#map-counts [data-count="total"]').inner_text() == str(closed)
    page.select_option('#map-filters select[name="street"]', DAZHIGU)
    with page.expect_navigation():
        page.click('#map-filters button[type="submit"]')
    page.wait_for_function(DRAWN)
    in_street = live_total(
        live_server,
        f"status = 'closed' AND street_id = (SELECT id FROM streets WHERE code = '{DAZHIGU}')",
    )
    assert page.evaluate("window.gisSites.stats.drawn") == in_street < closed
    assert tab.problems() == []


def test_layer_control_hides_a_status_and_a_disposition(live_server, tab) -> None:
    stats = open_map(tab, live_server.url + "/map")
    page = tab.page
    closed = live_total(live_server, "status = 'closed'")
    rectify = live_total(live_server, "disposition = 'rectify'")
    closed_toggle = page.locator(
        ".leaflet-control-layers label", has=page.locator('[data-key="closed"]')
    )
    closed_toggle.locator("input").uncheck()
    assert page.evaluate("window.gisSites.stats.drawn") == stats["total"] - closed
    closed_toggle.locator("input").check()
    rectify_toggle = page.locator(
        ".leaflet-control-layers label", has=page.locator('[data-disposition="rectify"]')
    )
    rectify_toggle.locator("input").uncheck()
    assert page.evaluate("window.gisSites.stats.drawn") == stats["total"] - rectify
    rectify_toggle.locator("input").check()
    assert page.evaluate("window.gisSites.stats.drawn") == stats["total"]
    assert tab.problems() == []


def test_street_map_frames_its_street(live_server, tab) -> None:
    stats = open_map(tab, live_server.url + f"/map/street/{DAZHIGU}")
    west, south, east, north = live_server.rows(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(geom) e FROM streets WHERE code = :c) x",
        c=DAZHIGU,
    )[0]
    view = tab.page.evaluate(
        "() => { const b = window.gisMap.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
    )
    assert view[0] <= west and view[1] <= south and view[2] >= east and view[3] >= north
    # framed, not merely inside: the street fills most of the map in one direction
    assert max((east - west) / (view[2] - view[0]), (north - south) / (view[3] - view[1])) > 0.6
    in_street = live_total(
        live_server, f"street_id = (SELECT id FROM streets WHERE code = '{DAZHIGU}')"
    )
    assert stats["drawn"] == in_street
    assert tab.page.locator("#map-counts [data-count='total']").inner_text() == str(in_street)
    assert tab.problems() == []


def test_printable_street_map_is_one_a4_landscape_page(live_server, tab) -> None:
    stats = open_map(tab, live_server.url + f"/map/street/{DAZHIGU}/print")
    page = tab.page
    assert stats["drawn"] > 0
    assert "制图日期" in page.inner_text(".print-head")
    assert "图例" in page.inner_text(".gis-legend")
    pdf = page.pdf(format="A4", landscape=True, print_background=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    assert tab.problems() == []


def test_site_page_small_map(live_server, tab) -> None:
    site_id = live_server.scalar("SELECT min(id) FROM sites")
    stats = open_map(tab, live_server.url + f"/sites/{site_id}")
    assert stats["total"] == stats["drawn"] == 1
    assert tab.page.locator("#site-timeline li").count() >= 1
    assert tab.problems() == []


def test_unknown_street_page_in_chinese(live_server, tab) -> None:
    response = tab.page.goto(live_server.url + "/map/street/999999999")
    assert response.status == 404
    assert "找不到页面" in tab.page.inner_text("main")
    page_404 = (f"HTTP 404: {live_server.url}/map/street/999999999", "status of 404 (NOT FOUND)")
    assert [p for p in tab.problems() if not p.endswith(page_404)] == []  # nothing else failed
