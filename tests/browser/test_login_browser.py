"""In a real browser (headless Chromium): log in on a live server, walk the pages with the
Content-Security-Policy in force, log out. No page may trip the CSP, and the Secure session
cookie must work on http://127.0.0.1 (what `make run` serves)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.accounts import PASSWORD
from tests.support.browser import serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_url(scratch_db) -> Iterator[tuple[str, int]]:
    """The app served from the scratch database, as the app's own role, with a street officer
    and a site of its street committed."""
    from gis_app import create_app
    from gis_app.demo.loader import STREETS_FILE, ensure_district_outline
    from gis_app.features.accounts.service import hash_password
    from gis_app.features.streets.service import import_streets
    from gis_app.settings import app_database_url
    from tests.support.sites import site_payload
    from tests.support.workflow import OFFICE

    url, engine = scratch_db
    with Session(engine) as session:
        if not session.scalar(text("SELECT count(*) FROM streets")):
            ensure_district_outline(session)
            import_streets(session, STREETS_FILE, approximate=True)
        now = datetime.now(UTC)
        session.execute(
            text(
                "INSERT INTO users (username, display_name, role, street_code, password_hash,"
                " created_at, created_by, updated_at) VALUES ('browser.li', '李明',"
                " 'street_officer', '120102002', :h, :n, 'test', :n)"
                " ON CONFLICT (username) DO NOTHING"
            ),
            {"h": hash_password(PASSWORD), "n": now},
        )
        session.commit()
        from gis_app.features.ledger.service import create_site

        site_id = session.scalar(text("SELECT id FROM sites WHERE code = 'BR-1'"))
        if site_id is None:
            site_id = create_site(session, site_payload(code="BR-1"), OFFICE).id
            session.commit()
    app = create_app({"DATABASE_URL": url, "APP_DATABASE_URL": app_database_url(url)})
    with serve(app, threaded=True) as base:
        yield base, site_id
    app.extensions["gis_db"].engine.dispose()


def test_login_walk_and_logout_without_csp_violations(live_url, tab) -> None:
    """With every outside request blocked: log in (after a wrong password), walk the pages a
    street officer has, the map, the site page, exports and the OGC API's HTML included,
    post a form, log out. Nothing may trip the Content-Security-Policy or fail."""
    base, site_id = live_url
    page = tab.page
    page.goto(f"{base}/dashboard")
    assert "/login" in page.url
    page.fill("input[name=username]", "browser.li")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator(".error").inner_text()
    # the wrong password's 401 is this test's own doing; anything else is a problem
    expected = [p for p in tab.errors if "401" in p]
    assert len(expected) == 2, tab.errors  # the response and Chromium's note of it
    tab.errors.clear()
    page.fill("input[name=username]", "browser.li")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/street/120102002")
    assert "李明" in page.locator("#userbox").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "gis_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    for path in (
        "/",
        f"/sites/{site_id}/workflow",
        "/reports",
        "/extensions",
        "/api",
        "/map",
        "/map/street/120102002/print",
        f"/sites/{site_id}",
        "/exports",
        "/ogc/collections/sites/items?f=html",
    ):
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        assert tab.problems() == [], path
    # a form posted from the page carries its CSRF token: starting the site works
    page.goto(f"{base}/sites/{site_id}/workflow")
    page.locator('form[data-action="to-in_progress"] button').click()
    page.wait_for_load_state()
    assert "已变为「治理中」" in page.content()
    page.locator("#userbox button").click()
    page.wait_for_url(f"{base}/login?bye=1")
    page.goto(f"{base}/")
    assert "/login" in page.url
    assert tab.problems() == []
