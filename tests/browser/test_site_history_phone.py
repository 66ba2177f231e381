"""A site's history on a phone (issue 15, point 3): the site page and the workflow page of a site
taken through the workflow fit 390 px, and their one timeline reads as Chinese: no Latin event
name, no hash, no `{`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gis_app.features.extensions import service as extensions
from gis_app.features.photos.service import add_photo
from gis_app.features.plans import service as plans
from gis_app.features.workflow import service as workflow
from tests.support.browser import Tab, log_in, serve
from tests.support.workflow import DZG, LIMITS, OFFICE, image_bytes, make_site, store_in

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1400)
#: what sticks out of the screen (outside the maps, which clip their own tiles)
STICKING_OUT = """() => [...document.querySelectorAll('body *')]
  .filter(e => !e.closest('.leaflet-container')
               && e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"""
OFFICER = "browser.dzg.officer"


@pytest.fixture()
def walked_site(app_ctx, auth, tmp_path, monkeypatch) -> Iterator[tuple[str, int]]:
    """A site of 大直沽 with a plan, photos, an extension and a move to 治理中, then the app on
    a free local port sharing the test's transaction."""
    from gis_app.core.actor import Actor
    from gis_app.http.database import session

    monkeypatch.setitem(app_ctx.config, "PHOTO_DIR", str(tmp_path / "photos"))
    auth.user(OFFICER, "street_officer", DZG, display_name="大直沽李主任")
    auth.user(OFFICE.name, "district_officer", None, display_name="区办王科长")
    officer = Actor(OFFICER, "street_officer", DZG)
    s = session()
    site = make_site(s, OFFICE, code="H-1", committed_deadline="2026-12-20")
    plan = [
        {"title": "下达限期整改通知书并送达相对人签收", "due_date": "2026-11-10"},
        {"title": "组织拆除屋顶彩钢棚及附属设施", "due_date": "2026-12-20"},
    ]
    plans.set_plan(s, site.id, officer, plan)
    workflow.transition(s, site.id, officer, "in_progress")
    store = store_in(tmp_path)
    for kind, colour in (("before", (150, 60, 40)), ("after", (60, 150, 60))):
        add_photo(s, store, LIMITS, site.id, officer, image_bytes(colour), f"{kind}.jpg", kind)
    later = [plan[0], {**plan[1], "due_date": "2027-01-31"}]
    extensions.request_extension(s, site.id, officer, "2027-01-31", "冬季施工困难", later)
    s.flush()
    with serve(app_ctx) as url:
        yield url, site.id


@pytest.mark.parametrize("width", WIDTHS)
def test_history_reads_as_chinese_and_fits_the_screen(walked_site, chromium, width) -> None:
    url, site_id = walked_site
    context = chromium.new_context(
        viewport={"width": width, "height": 844}, locale="zh-CN", is_mobile=width < 800
    )
    tab = Tab(context.new_page())
    tab.page.on("pageerror", lambda e: tab.errors.append(f"page error: {e}"))
    try:
        log_in(tab, url, OFFICER)
        for path in (f"/sites/{site_id}", f"/sites/{site_id}/workflow"):
            tab.page.goto(url + path)
            scroll = tab.page.evaluate("() => document.documentElement.scrollWidth")
            wide = tab.page.evaluate(STICKING_OUT) if scroll > width + 1 else []
            assert scroll <= width + 1, f"{path} is {scroll} px wide at {width} px: {wide}"
            timelines = tab.page.locator("ol.timeline")
            assert timelines.count() == 1, path  # one timeline on the page
            text = timelines.inner_text()
            assert "{" not in text and not re.search(r"[0-9a-f]{16,}", text), text
            latin = re.findall(r"[A-Za-z_]{3,}", text)
            assert latin == [], latin
            for words in ("申请延期", "上传照片", "制定治理方案", "大直沽李主任", "区办王科长"):
                assert words in text, (path, words)
            # the workflow panel names people too (the extension's applicant, the uploader)
            panel = tab.page.locator("#workflow").inner_text()
            assert "大直沽李主任" in panel and OFFICER not in panel
        assert tab.problems() == []
    finally:
        context.close()


@pytest.mark.skipif(not os.environ.get("SCREENSHOTS_DIR"), reason="set SCREENSHOTS_DIR to refresh")
def test_screenshots(walked_site, chromium) -> None:
    """`SCREENSHOTS_DIR=docs/screenshots pytest -m browser -k screenshots`: the site page (its
    history), the site form and the ledger list on a phone and on a desktop."""
    url, site_id = walked_site
    out = Path(os.environ["SCREENSHOTS_DIR"])
    for name, width, height in (("phone", 390, 844), ("desktop", 1400, 900)):
        context = chromium.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", is_mobile=width < 800
        )
        tab = Tab(context.new_page())
        try:
            log_in(tab, url, OFFICER)
            for page_name, path in (
                ("site-history", f"/sites/{site_id}"),
                ("site-form", f"/sites/{site_id}/edit"),
                ("site-list", "/sites"),
            ):
                tab.page.goto(url + path)
                tab.page.wait_for_load_state("networkidle")
                if page_name == "site-history":
                    tab.page.locator("#site-timeline").scroll_into_view_if_needed()
                    tab.page.screenshot(path=str(out / f"{page_name}-{name}.png"))
                else:
                    tab.page.screenshot(path=str(out / f"{page_name}-{name}.png"))
        finally:
            context.close()
