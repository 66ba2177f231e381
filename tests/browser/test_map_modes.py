"""The map's two modes on a small database: every site from the page's array, or vector tiles
(counts per grid cell by status, every site from the point zoom) once more sites than the
threshold are in view. Both draw the same sites and counts for the same filters and toggles,
and the switch happens at the configured thresholds (GIS_APP_MAP_TILE_THRESHOLD for the page,
GIS_APP_MAP_VIEW_SITES for the sites of a view)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from gis_app.features.maps import tiles
from tests.browser.conftest import DEMO_DAY, DEMO_SITES, LiveServer
from tests.browser.test_map_browser import DRAWN
from tests.support.browser import OFFICE, Tab, log_in
from tests.support.live import serve_app

pytestmark = pytest.mark.browser

SETTLED = "() => window.gisTiles && window.gisTiles.stats.settledAt !== null"
IN_VIEW = (
    "() => { const ids = []; const c = window.gisTiles.countInView(ids); c.ids = ids; return c; }"
)


@pytest.fixture(scope="module")
def modes_server(database_url: str, engine, demo_streets) -> Iterator[tuple[LiveServer, Any]]:
    """A live app whose threshold the tests set (its Flask app is kept for that)."""
    from gis_app.demo.loader import load_demo
    from tests.support.accounts import Accounts

    apps: list[Any] = []

    def keep(wsgi_app: Any) -> Any:
        apps.append(wsgi_app.__self__)
        return wsgi_app

    with Session(engine) as s, s.begin():
        load_demo(s, n_sites=DEMO_SITES, seed=7, today=DEMO_DAY)
    with serve_app(database_url, engine, wrap=keep) as url:
        with engine.begin() as conn:
            Accounts(conn).user(OFFICE, "district_officer", display_name="区办（浏览器）")
        yield LiveServer(url, engine), apps[0]


@pytest.fixture()
def office(tab: Tab, modes_server) -> Tab:
    log_in(tab, modes_server[0].url, OFFICE)
    return tab


def open_map(tab: Tab, app: Any, url: str, threshold: int) -> str:
    """Open the map with this threshold; 'sites' (the page's array) or 'tiles'."""
    app.config["MAP_TILE_THRESHOLD"] = threshold
    response = tab.page.goto(url)
    assert response.status == 200, url
    tab.page.wait_for_function(DRAWN, timeout=30_000)
    return tab.page.evaluate("() => window.gisTiles ? 'tiles' : 'sites'")


def array_view(tab: Tab) -> dict[str, Any]:
    """What the array mode draws in view: ids and counts by legend key."""
    return tab.page.evaluate(
        """() => { const s = window.gisSites, m = window.gisMap, b = m.getSize();
                   const keys = s.options.palette.statuses.map(k => k.key);
                   const ids = [], byKey = {};
                   for (let i = 0; i < s.stats.total; i++) {
                     if (!s._drawnMask[i]) continue;
                     const p = s.containerPointOf(i);
                     if (p.x < 0 || p.y < 0 || p.x > b.x || p.y > b.y) continue;
                     ids.push(s.idOf(i));
                     const k = keys[s._sites.key[i]];
                     byKey[k] = (byKey[k] || 0) + 1;
                   }
                   return {ids: ids, byKey: byKey, n: ids.length}; }"""
    )


def settle(tab: Tab, before: int | None = None) -> dict[str, Any]:
    tab.page.wait_for_function(SETTLED, timeout=30_000)
    if before is not None:
        tab.page.wait_for_function(
            f"() => window.gisTiles.stats.settles > {before}", timeout=30_000
        )
    tab.page.wait_for_timeout(300)  # a last moveend's settle
    tab.page.wait_for_function("() => window.gisTiles._noTilesToLoad()", timeout=30_000)
    return tab.page.evaluate("() => ({...window.gisTiles.stats})")


def set_view(tab: Tab, zoom: float) -> int:
    before = tab.page.evaluate("() => window.gisTiles ? window.gisTiles.stats.settles : 0")
    tab.page.evaluate(f"() => window.gisMap.setZoom({zoom}, {{animate: false}})")
    return before


def side_counts(tab: Tab) -> dict[str, int]:
    return tab.page.evaluate(
        """() => Object.fromEntries(Array.from(
               document.querySelectorAll('#map-counts td[data-count]'),
               td => [td.dataset.count, Number(td.textContent)]))"""
    )


@pytest.mark.parametrize("query", ["", "?status=in_progress,closed", "?overdue=true"])
def test_both_modes_draw_the_same_sites_and_counts(office, modes_server, query) -> None:
    live, app = modes_server
    url = live.url + "/map" + query
    assert open_map(office, app, url, threshold=10**9) == "sites"
    total = office.page.evaluate("() => window.gisSites.stats.total")
    assert total > 0
    array_counts = side_counts(office)
    # the same view from tiles: at the district's zoom one point per site
    assert open_map(office, app, url, threshold=0) == "tiles"
    stats = settle(office)
    assert stats["mode"] == "tiles", stats
    assert office.page.evaluate("() => window.gisSites.stats.total") == 0  # no array sent
    assert side_counts(office) == array_counts  # the panel: the filter's counts either way
    # at the point zoom, one point per site from the tiles ...
    before = set_view(office, tiles.MAP_POINT_ZOOM)
    settle(office, before)
    in_view = office.page.evaluate(IN_VIEW)
    assert in_view["n"] > 0
    # ... the same as the array mode draws at the same view
    open_map(office, app, url, threshold=10**9)
    office.page.evaluate(f"() => window.gisMap.setZoom({tiles.MAP_POINT_ZOOM}, {{animate: false}})")
    drawn = array_view(office)
    assert sorted(in_view["ids"]) == sorted(drawn["ids"])
    assert in_view["byKey"] == drawn["byKey"]
    # zoomed out: counts per grid cell (zoom 11: 512-px tiles, the server's zoom-10 tiles),
    # then per street (zoom 10, from the page's counts: no tile asked), add up to the filter's
    # counts by status
    open_map(office, app, url, threshold=0)
    settle(office)
    expected = {k: v for k, v in array_counts.items() if v}
    asked = (
        "() => performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('/tiles/sites/'))"
    )
    for zoom, served in ((11, "/tiles/sites/10/"), (10, None)):
        office.page.evaluate("() => performance.clearResourceTimings()")
        before = set_view(office, zoom)
        settle(office, before)
        cells = office.page.evaluate(IN_VIEW)
        assert cells["ids"] == []  # cells, not sites
        assert cells["n"] == total, zoom
        assert cells["byKey"] == expected, zoom
        tiles_asked = office.page.evaluate(asked)
        if served:
            assert tiles_asked and all(served in n for n in tiles_asked), tiles_asked
        else:
            assert tiles_asked == []
        size = office.page.evaluate("() => window.gisTiles.getTileSize().x")
        assert size == (512 if served else 256)
    assert office.problems() == []


def test_layer_toggles_apply_the_same_in_both_modes(office, modes_server) -> None:
    live, app = modes_server
    open_map(office, app, live.url + "/map", threshold=10**9)
    office.page.evaluate(f"() => window.gisMap.setZoom({tiles.MAP_POINT_ZOOM}, {{animate: false}})")
    full = array_view(office)
    office.page.click(".leaflet-control-layers-overlays [data-key=closed]")
    office.page.click(".leaflet-control-layers-overlays [data-disposition=rectify]")
    hidden = array_view(office)
    assert 0 < hidden["n"] < full["n"] and "closed" not in hidden["byKey"]
    open_map(office, app, live.url + "/map", threshold=0)
    settle(office)
    settle(office, set_view(office, tiles.MAP_POINT_ZOOM))
    office.page.click(".leaflet-control-layers-overlays [data-key=closed]")
    office.page.click(".leaflet-control-layers-overlays [data-disposition=rectify]")
    from_tiles = office.page.evaluate(IN_VIEW)
    assert sorted(from_tiles["ids"]) == sorted(hidden["ids"])
    before = set_view(office, 10)
    settle(office, before)
    cells = office.page.evaluate(IN_VIEW)
    visible = live.scalar(
        "SELECT count(*) FROM sites WHERE deleted_at IS NULL AND status <> 'closed'"
        " AND disposition <> 'rectify'"
    )
    assert cells["n"] == visible
    assert office.problems() == []


def test_the_switch_happens_at_the_threshold(office, modes_server) -> None:
    live, app = modes_server
    total = live.scalar("SELECT count(*) FROM sites WHERE deleted_at IS NULL")
    # the page: all the filter's sites up to the threshold, tiles above it
    assert open_map(office, app, live.url + "/map", threshold=total) == "sites"
    assert office.page.evaluate("() => window.gisSites.stats.total") == total
    assert open_map(office, app, live.url + "/map", threshold=total - 1) == "tiles"
    # then by the sites in view (GIS_APP_MAP_VIEW_SITES, never above the threshold): zoomed
    # in where fewer are in view, each site from the array
    assert office.page.evaluate("() => window.gisTiles._opts.viewSites") == min(
        total - 1, app.config["MAP_VIEW_SITES"]
    )
    stats = settle(office)
    assert stats["mode"] == "tiles" and stats["inView"] > total - 1 - 50
    in_view = office.page.evaluate(IN_VIEW)["n"]
    before = office.page.evaluate("() => window.gisTiles.stats.settles")
    office.page.evaluate(
        "() => window.gisMap.setZoom(window.gisMap.getZoom() + 2, {animate: false})"
    )
    stats = settle(office, before)
    closer = office.page.evaluate(IN_VIEW)["n"]
    assert closer < in_view
    # with the threshold at the count in view: sites; one less: tiles
    for threshold, mode in ((closer, "sites"), (closer - 1, "tiles")):
        office.page.evaluate(f"() => {{ window.gisTiles._opts.viewSites = {threshold}; }}")
        before = office.page.evaluate("() => window.gisTiles.stats.settles")
        office.page.evaluate("() => window.gisMap.panBy([1, 0], {animate: false})")
        stats = settle(office, before)
        assert stats["mode"] == mode, (threshold, stats)
    # in the sites mode every site in view is drawn from the array, with its popup
    office.page.evaluate(f"() => {{ window.gisTiles._opts.viewSites = {closer}; }}")
    before = office.page.evaluate("() => window.gisTiles.stats.settles")
    office.page.evaluate("() => window.gisMap.panBy([-1, 0], {animate: false})")
    settle(office, before)
    assert array_view(office)["n"] == office.page.evaluate(IN_VIEW)["n"]
    assert office.problems() == []


def test_no_tile_is_asked_over_squares_without_sites(office, modes_server) -> None:
    live, app = modes_server
    assert open_map(office, app, live.url + "/map", threshold=0) == "tiles"
    settle(office)
    squares = office.page.evaluate("() => window.gisTiles._opts.squares")
    assert squares and len(squares) % 2 == 0  # the page's occupied zoom-14 squares
    asked = (
        "() => performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('/tiles/sites/'))"
    )
    # half a degree east of the district: no site there, no tile asked, the view complete
    centre = office.page.evaluate("() => window.gisMap.getCenter()")
    office.page.evaluate("() => performance.clearResourceTimings()")
    before = office.page.evaluate("() => window.gisTiles.stats.settles")
    office.page.evaluate(
        f"() => window.gisMap.setView([{centre['lat']}, {centre['lng'] + 0.5}], 14,"
        " {animate: false})"
    )
    stats = settle(office, before)
    assert stats["inView"] == 0
    assert office.page.evaluate(asked) == []
    # back over the district: its tiles are asked again (512 px at zoom 14: the zoom-13 tiles)
    before = office.page.evaluate("() => window.gisTiles.stats.settles")
    office.page.evaluate(
        f"() => window.gisMap.setView([{centre['lat']}, {centre['lng']}], 14, {{animate: false}})"
    )
    stats = settle(office, before)
    assert stats["inView"] > 0
    assert any("/tiles/sites/13/" in n for n in office.page.evaluate(asked))
    assert office.problems() == []


def test_tiles_show_at_once_and_empty_ones_are_never_drawn(office, modes_server) -> None:
    """No fade-in (a frame of the page every 16 ms for 200 ms after each tile), and a tile
    without sites keeps no bitmap: when the view is drawn, each of its tiles is fully opaque
    and only tiles with features were drawn."""
    live, app = modes_server
    assert open_map(office, app, live.url + "/map", threshold=0) == "tiles"
    settle(office)
    office.page.evaluate(
        """() => { window.__atDrawn = null;
                   window.gisTiles.once('drawn', () => {
                     const tiles = Object.values(window.gisTiles._tiles);
                     window.__atDrawn = {
                       opacity: tiles.map(t => Number(getComputedStyle(t.el).opacity)),
                       full: tiles.filter(t => t.el._features.length).map(t => !!t.el._drawn),
                       empty: tiles.filter(t => !t.el._features.length).map(t => !!t.el._drawn)};
                   }); }"""
    )
    centre = office.page.evaluate("() => window.gisMap.getCenter()")
    before = office.page.evaluate("() => window.gisTiles.stats.settles")
    # the district's edge at the point zoom: tiles with sites and tiles without
    office.page.evaluate(
        f"() => window.gisMap.setView([{centre['lat']}, {centre['lng'] + 0.03}],"
        f" {tiles.MAP_POINT_ZOOM}, {{animate: false}})"
    )
    settle(office, before)
    seen = office.page.wait_for_function("() => window.__atDrawn").json_value()
    assert seen["opacity"] and set(seen["opacity"]) == {1}
    assert seen["full"] and all(seen["full"])
    assert seen["empty"] and not any(seen["empty"])
    assert office.problems() == []


def test_a_tile_dropped_before_it_came_is_cancelled(office, modes_server) -> None:
    """A quick pan or zoom drops tiles still on their way: their requests are cancelled (the
    server's work with them where it has not begun), and the view after is drawn as usual."""
    live, app = modes_server
    assert open_map(office, app, live.url + "/map", threshold=0) == "tiles"
    settle(office)
    held: list[Any] = []
    office.page.route("**/tiles/sites/**", lambda route: held.append(route))
    centre = office.page.evaluate("() => window.gisMap.getCenter()")
    office.page.evaluate(
        f"() => window.gisMap.setView([{centre['lat']}, {centre['lng']}], 13, {{animate: false}})"
    )
    for _ in range(50):  # the new zoom's tiles asked and held
        if held:
            break
        office.page.wait_for_timeout(100)
    assert held
    before = office.page.evaluate("() => window.gisTiles.stats.settles")
    office.page.unroute("**/tiles/sites/**")
    office.page.evaluate(  # away before they came
        f"() => window.gisMap.setView([{centre['lat']}, {centre['lng'] + 0.02}],"
        f" {tiles.MAP_POINT_ZOOM}, {{animate: false}})"
    )
    office.page.wait_for_function("() => window.gisTiles.stats.tilesAborted > 0", timeout=10_000)
    for route in held:  # what the page did not cancel goes on (nothing should be left)
        with contextlib.suppress(Exception):  # cancelled by the page meanwhile
            route.continue_()
    stats = settle(office, before)
    assert stats["tilesAborted"] == len(held)
    assert stats["inView"] > 0
    assert office.problems() == []


def test_a_phone_of_ratio_three_draws_tiles_at_twice_their_size(chromium, modes_server) -> None:
    """A tile's canvas is at most twice its CSS size (9 MB per 512-px tile at ratio 3)."""
    live, app = modes_server
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, locale="zh-CN"
    )
    try:
        phone = Tab(context.new_page())
        log_in(phone, live.url, OFFICE)
        assert open_map(phone, app, live.url + "/map", threshold=0) == "tiles"
        settle(phone, set_view(phone, tiles.MAP_POINT_ZOOM))
        drawn = phone.page.evaluate(
            """() => Object.values(window.gisTiles._tiles).filter(t => t.el._drawn)
                 .map(t => [t.el.width, t.el._size.x, t.el._ratio])"""
        )
        assert drawn and all(w == 2 * size and ratio == 2 for w, size, ratio in drawn), drawn
        assert phone.page.evaluate("() => window.devicePixelRatio") == 3
    finally:
        context.close()
