"""The patrol pages on a phone (headless Chromium, 390 × 844, touch, GPS granted): plan a
route from the phone's position, tick a stop, record a finding with a photo from the camera
input. No console error, no CSP report, no horizontal scrolling, touch targets ≥ 44 px."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.browser import Tab, log_in, serve
from tests.support.workflow import OFFICE, ZSM, image_bytes, make_site

pytestmark = pytest.mark.browser

GPS = (117.2626, 39.0964)  # inside 中山门, about 500 m from the sites below
SITES = [(117.2620, 39.1010), (117.2630, 39.1000), (117.2610, 39.1020)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture()
def live_url(app_ctx, auth, tmp_path, monkeypatch) -> Iterator[str]:
    """The app on a free local port, sharing the test's transaction (single-threaded)."""
    from gis_app.http.database import session

    monkeypatch.setitem(app_ctx.config, "PHOTO_DIR", str(tmp_path / "photos"))
    auth.user("browser.insp.zsm", "inspector", ZSM, display_name="中山门队员")
    for i, (lon, lat) in enumerate(SITES, start=1):
        make_site(session(), OFFICE, code=f"PH-{i}", lon=lon, lat=lat, status="new")
    with serve(app_ctx) as url:
        yield url


@pytest.fixture()
def phone(chromium) -> Iterator[Tab]:
    context = chromium.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        geolocation={"longitude": GPS[0], "latitude": GPS[1], "accuracy": 8},
        permissions=["geolocation"],
    )
    page = context.new_page()
    found = Tab(page)
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"
    )

    def route(route: Any) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            found.errors.append(f"outside request blocked: {route.request.url}")
            route.abort()

    context.route("**/*", route)
    page.on(
        "console",
        lambda m: (
            found.errors.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: found.errors.append(f"page error: {e}"))
    yield found
    context.close()


def _fits_the_screen(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"horizontal scrolling: {width}px"
    assert "width=device-width" in page.locator("meta[name=viewport]").first.get_attribute(
        "content"
    )


def _tall_enough(locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, box


def test_plan_tick_and_record_a_finding_on_a_phone(live_url, phone, connection, tmp_path):
    page = phone.page
    log_in(phone, live_url, "browser.insp.zsm")
    page.goto(f"{live_url}/patrols/new")
    _fits_the_screen(page)
    page.check("input[name=start_mode][value=point]")
    page.wait_for_function("() => document.getElementById('start_lon').value !== ''")
    assert float(page.input_value("#start_lon")) == pytest.approx(GPS[0])
    _tall_enough(page.locator("#plan-submit"))
    with page.expect_navigation():
        page.click("#plan-submit")
    assert "/patrols/" in page.url and page.locator("#route-map .folium-map").count() == 1
    _fits_the_screen(page)
    stops = page.locator("#stops li.stop")
    assert stops.count() == 3
    assert "步行约" in page.locator("#route-summary").inner_text()
    assert page.locator(".patrol-pin").count() == 4  # three stops and the start
    tick = stops.first.locator("button.tick-button")
    _tall_enough(tick)
    with page.expect_navigation():
        tick.click()
    assert "visited" in (page.locator("#stops li.stop").first.get_attribute("class") or "")

    with page.expect_navigation():
        page.click("text=记录发现")
    _fits_the_screen(page)
    page.wait_for_function("() => document.getElementById('lon').value !== ''")
    assert float(page.input_value("#lat")) == pytest.approx(GPS[1])
    camera = page.locator("#photos")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    photo = tmp_path / "camera.jpg"
    photo.write_bytes(image_bytes((30, 160, 90)))
    camera.set_input_files(str(photo))
    page.fill("#note", "路边新搭彩钢棚")
    _tall_enough(page.locator("#finding-submit"))
    with page.expect_navigation():
        page.click("#finding-submit")
    assert "已记录巡查发现" in page.locator("#route-notice").inner_text()
    # the route page takes the patrol along for offline use: its requests share the test's
    # connection with the query below, so they finish first
    page.wait_for_function("() => document.documentElement.dataset.fieldReady === '1'")
    row = connection.execute(
        text(
            "SELECT s.status, s.source, t.code FROM sites s JOIN streets t ON t.id = s.street_id"
            " WHERE s.note = '路边新搭彩钢棚'"
        )
    ).one()
    assert tuple(row) == ("new", "patrol", ZSM)
    assert phone.problems() == []


def test_a_polygon_drawn_on_the_map_plans_its_sites(live_url, phone) -> None:
    """Tap four corners around the sites on the map: the polygon selects them."""
    page = phone.page
    log_in(phone, live_url, "browser.insp.zsm")
    page.goto(f"{live_url}/patrols/new")
    page.check("input[name=area_kind][value=polygon]")
    name = page.locator("#plan-form").get_attribute("data-map")
    centre = (117.2620, 39.1010)
    page.evaluate(
        f"() => window['{name}'].setView([{centre[1]}, {centre[0]}], 16, {{animate: false}})"
    )
    for dx, dy in ((-0.002, -0.002), (0.002, -0.002), (0.002, 0.002), (-0.002, 0.002)):
        point = page.evaluate(
            f"() => {{ const p = window['{name}'].latLngToContainerPoint("
            f"[{centre[1] + dy}, {centre[0] + dx}]); return [p.x, p.y]; }}"
        )
        page.locator(f"#{name}").click(position={"x": point[0], "y": point[1]})
    drawn = json.loads(page.input_value("#area_geometry"))
    assert drawn["type"] == "Polygon" and len(drawn["coordinates"][0]) == 5
    with page.expect_navigation():
        page.click("#plan-submit")
    assert page.locator("#stops li.stop").count() == 3, page.content()[:2000]
    assert "绘制多边形" in page.locator("#route-summary").inner_text()
    assert phone.problems() == []
