"""The map pages on a phone (390 px), a tablet (768 px) and a desktop (1400 px): the map has
height and draws sites on /map, a street map and a site page; on small screens the filters are
in a drawer over the map; the scales are metric only; no page is wider than the screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_map_browser import DAZHIGU, DRAWN
from tests.support.browser import OFFICE, Tab, log_in

pytestmark = pytest.mark.browser

SCREENS = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1400, 900)}


#: the screens where the filters are in a drawer (the desktop shows them beside the map)
SMALL_SCREENS = ["phone", "tablet"]


def _logged_in_at(name: str, tab: Tab, live_server) -> tuple[str, Tab]:
    width, height = SCREENS[name]
    tab.page.set_viewport_size({"width": width, "height": height})
    log_in(tab, live_server.url, OFFICE)
    return name, tab


@pytest.fixture(params=list(SCREENS))
def screen(request, tab: Tab, live_server) -> tuple[str, Tab]:
    return _logged_in_at(request.param, tab, live_server)


@pytest.fixture(params=SMALL_SCREENS)
def small_screen(request, tab: Tab, live_server) -> tuple[str, Tab]:
    return _logged_in_at(request.param, tab, live_server)


def open_drawn(tab: Tab, url: str) -> dict[str, Any]:
    response = tab.page.goto(url)
    assert response.status == 200, url
    tab.page.wait_for_function(DRAWN, timeout=20_000)
    return tab.page.evaluate(
        """() => { const box = document.querySelector('.folium-map').getBoundingClientRect();
                   const scales = Array.from(
                       document.querySelectorAll('.leaflet-control-scale-line'),
                       e => e.textContent);
                   return {width: box.width, height: box.height, top: box.top,
                           inView: box.bottom <= window.innerHeight + 1,
                           drawn: window.gisSites.stats.drawn, total: window.gisSites.stats.total,
                           scales: scales,
                           pageWidth: document.documentElement.scrollWidth,
                           screenWidth: window.innerWidth}; }"""
    )


def check_map(found: dict[str, Any], name: str, min_height: int) -> None:
    assert found["height"] >= min_height, found
    assert found["width"] >= 300, found
    assert found["drawn"] > 0, found
    # metres and kilometres only: one scale line, never in miles or feet
    assert found["scales"] and all(s.endswith(("m", "km")) for s in found["scales"]), found
    assert not any(s.endswith(("mi", "ft")) for s in found["scales"]), found
    if name == "phone":
        assert found["pageWidth"] <= found["screenWidth"], found


def test_district_and_street_maps_fill_the_screen(screen, live_server) -> None:
    name, tab = screen
    width, height = SCREENS[name]
    for url in ("/map", f"/map/street/{DAZHIGU}"):
        found = open_drawn(tab, live_server.url + url)
        # the map takes most of the window under the header, on every screen
        check_map(found, name, min_height=int(height * 0.6))
        assert found["inView"], found
        side = tab.page.locator("#map-side")
        if name == "desktop":
            assert side.is_visible() and side.bounding_box()["x"] >= 0
            assert not tab.page.locator(".map-drawer-open").is_visible()
        else:
            # the side panel is a drawer, shut at first: the map is not covered
            assert side.bounding_box()["x"] + side.bounding_box()["width"] <= 0
            assert found["width"] == pytest.approx(width, abs=2)
    assert tab.problems() == []


def test_filters_in_a_drawer_on_small_screens(small_screen, live_server) -> None:
    name, tab = small_screen
    page = tab.page
    open_drawn(tab, live_server.url + "/map")
    total = page.evaluate("() => window.gisSites.stats.total")
    page.click(".map-drawer-open")
    page.wait_for_function(
        "() => document.getElementById('map-side').getBoundingClientRect().left >= 0"
    )
    form = page.locator("#map-filters")
    assert form.is_visible()
    assert page.locator("#map-counts").is_visible()
    # a filter chosen in the drawer applies to the map
    page.check("#map-filters input[name=status][value=closed]")
    with page.expect_navigation():
        page.click("#map-filters button[type=submit]")
    page.wait_for_function(DRAWN, timeout=20_000)
    shown = page.evaluate("() => window.gisSites.stats.total")
    closed = live_server.scalar(
        "SELECT count(*) FROM sites WHERE deleted_at IS NULL AND status = 'closed'"
    )
    assert shown == closed < total
    assert "status=closed" in page.url
    # the drawer is shut on the new page; its button says a filter is on; × closes it again
    assert page.locator(".map-drawer-open").inner_text() == "筛选（1）"
    page.click(".map-drawer-open")
    page.wait_for_function(
        "() => document.getElementById('map-side').getBoundingClientRect().left >= 0"
    )
    page.click(".map-drawer-close")
    page.wait_for_function(
        "() => document.getElementById('map-side').getBoundingClientRect().right <= 0"
    )
    # the layer control starts folded and unfolds on a tap
    control = page.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in control.get_attribute("class")
    page.click(".leaflet-control-layers-toggle")
    assert "leaflet-control-layers-expanded" in control.get_attribute("class")
    width, height = SCREENS[name]
    page.mouse.click(width // 2, height // 2)  # a tap on the map
    assert "leaflet-control-layers-expanded" not in control.get_attribute("class")
    assert tab.problems() == []


def test_a_refused_filter_opens_the_drawer(small_screen, live_server) -> None:
    _name, tab = small_screen
    response = tab.page.goto(live_server.url + "/map?deadline_from=2026-13-01")
    assert response.status == 422
    side = tab.page.locator("#map-side")
    tab.page.wait_for_function(
        "() => document.getElementById('map-side').getBoundingClientRect().left >= 0"
    )
    assert side.locator(".notice.error").is_visible()
    tab.errors = [e for e in tab.errors if "422" not in e]  # the page's own status
    assert tab.problems() == []


def test_site_page_map_has_height_and_the_page_fits(screen, live_server) -> None:
    name, tab = screen
    site_id = live_server.scalar("SELECT min(id) FROM sites WHERE deleted_at IS NULL")
    found = open_drawn(tab, live_server.url + f"/sites/{site_id}")
    check_map(found, name, min_height=250)
