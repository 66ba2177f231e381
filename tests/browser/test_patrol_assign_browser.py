"""The ledger list's 安排巡查 in Chromium (issue 15, point 1): a street office ticks three of
its sites in the list, hands them to its inspector for tomorrow, and the patrol page shows
exactly those three stops on the route, with the inspector and the day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from gis_app.core import clock
from tests.support.browser import Tab, log_in, serve
from tests.support.workflow import DZG, make_site

pytestmark = pytest.mark.browser

OFFICER = "browser.assign.dzg"
INSPECTOR = "browser.assign.insp"
INSIDE_DZG = (117.2381, 39.1100)


@pytest.fixture()
def live_url(app_ctx, auth) -> Iterator[str]:
    auth.user(OFFICER, "street_officer", DZG, display_name="大直沽张")
    auth.user(INSPECTOR, "inspector", DZG, display_name="大直沽队员赵")
    with serve(app_ctx) as url:
        yield url


@pytest.mark.parametrize("width", (390, 1400))
def test_three_ticked_sites_become_the_patrol_s_stops(
    live_url, chromium, db_session, width
) -> None:
    sites = [
        make_site(
            db_session,
            code=f"BA-{width}-{i}",
            lon=round(INSIDE_DZG[0] + 0.0006 * i, 7),
            lat=round(INSIDE_DZG[1] + 0.0003 * i, 7),
            status="new",
        )
        for i in range(4)
    ]
    db_session.commit()
    chosen = sites[:3]
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, locale="zh-CN", is_mobile=width < 800
    )
    tab = Tab(context.new_page())
    page = tab.page
    page.on("pageerror", lambda e: tab.errors.append(f"page error: {e}"))
    try:
        log_in(tab, live_url, OFFICER)
        page.goto(f"{live_url}/sites?q=BA-{width}-")
        for site in chosen:
            page.check(f'#site-list input[name=id][value="{site.id}"]')
        with page.expect_navigation():
            page.click("#bulk-patrol")
        listed = page.inner_text("#assign-sites")
        assert all(s.code in listed for s in chosen) and sites[3].code not in listed
        tomorrow = (clock.today() + timedelta(days=1)).isoformat()
        page.select_option("#f-assignee", INSPECTOR)
        page.fill("#f-date", tomorrow)
        with page.expect_navigation():
            page.click("#assign-save")
        assert re.search(r"/patrols/\d+", page.url), page.url
        assert "已安排巡查：3 个点位" in page.inner_text("#route-notice")
        stops = page.locator("#stops li.stop")
        assert stops.count() == 3
        shown = {int(stops.nth(i).get_attribute("data-site")) for i in range(3)}
        assert shown == {s.id for s in chosen}
        assignment = page.inner_text("#route-assignment")
        assert "大直沽队员赵" in assignment and tomorrow in assignment
        assert page.locator(".patrol-pin, .leaflet-marker-icon").count() >= 3
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1
        assert tab.problems() == []
    finally:
        context.close()
