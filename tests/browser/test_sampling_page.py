"""The spot-check page in headless Chromium: live frame size, draw, batch page with its map."""

from __future__ import annotations

import os
from datetime import date

import pytest

from gis_app.demo.loader import load_demo
from tests.support.browser import log_in, serve

pytestmark = pytest.mark.browser


@pytest.fixture()
def live_url(app_ctx, auth):
    """The app served on a free local port; requests share the test's transaction, one at
    a time (a single-threaded server), so nothing is left in the database afterwards. A
    district officer's account is made first (the browser logs in with it)."""
    from gis_app.http.database import session

    auth.user("browser.office", "district_officer")
    load_demo(session(), n_sites=300, seed=5, today=date(2026, 6, 15))
    session().commit()
    with serve(app_ctx) as url:
        yield url


def test_frame_size_updates_live_and_a_draw_shows_the_batch(
    live_url, client, auth, tab, tmp_path
) -> None:
    office = auth.headers("browser.office", "district_officer")
    frame = client.get("/api/v1/samples/frame?street=120102002", headers=office)
    dazhigu = frame.get_json()["frame_size"]
    log_in(tab, live_url, "browser.office")
    page = tab.page
    page.goto(f"{live_url}/sampling")
    size = page.locator("#frame-size")
    page.wait_for_function("() => document.getElementById('frame-size').textContent === '150'")
    assert "样本量字码 F" in page.locator("#frame-letter").inner_text()
    page.get_by_label("大直沽街道").check()
    page.wait_for_function(
        f"() => document.getElementById('frame-size').textContent === '{dazhigu}'"
    )
    assert size.inner_text() == str(dazhigu)
    page.get_by_label("大直沽街道").uncheck()
    page.wait_for_function("() => document.getElementById('frame-size').textContent === '150'")
    page.get_by_label("固定数量").check()
    page.fill("input[name=n]", "15")
    page.fill("input[name=seed]", "31")
    page.get_by_role("button", name="抽取样本").click()
    page.wait_for_url("**/sampling/batches/*")
    assert page.locator("#seed").inner_text() == "31"
    assert page.locator("#sample-sites tbody tr").count() == 15
    batch_map = page.locator("#batch-map")  # folium's map, inline under the page's nonce
    batch_map.locator(".leaflet-container").wait_for()
    assert batch_map.locator("path.leaflet-interactive").count() >= 15
    shot = os.environ.get("SAMPLING_SCREENSHOT")
    if shot:  # for a person to look at: SAMPLING_SCREENSHOT=/tmp/x.png
        page.screenshot(path=shot, full_page=True)
    assert tab.problems() == []  # nothing from a CDN or the internet, no console error


def test_an_inspector_records_a_fail_on_his_batch_page(live_url, auth, connection, tab) -> None:
    """An inspector of another street logs in, finds the task, opens the batch (one site: the
    map frames it), records a fail: the site is reopened. No console error, no CSP report."""
    from sqlalchemy import text

    site_id, street = connection.execute(
        text(
            "SELECT s.id, t.code FROM sites s JOIN streets t ON t.id = s.street_id "
            "WHERE s.status = 'closed' AND t.code <> '120102004' ORDER BY s.id LIMIT 1"
        )
    ).one()
    user_id = auth.user("browser.insp", "inspector", "120102004", display_name="富民路队员")
    pool = connection.execute(
        text(
            "INSERT INTO inspectors (district_code, name, street_code, user_id, created_by)"
            " VALUES ('120102', '富民路队员', '120102004', :u, 'test') RETURNING id"
        ),
        {"u": user_id},
    ).scalar_one()
    batch = connection.execute(
        text(
            "INSERT INTO sample_batches (district_code, title, method, allocation, seed,"
            " frame_size, sample_size, frame_sha256, created_by) VALUES ('120102', '浏览器抽查',"
            " 'srs', 'proportional', 1, 1, 1, repeat('0', 64), 'test') RETURNING id"
        )
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO sample_frame_units (batch_id, ord, district_code, site_id, stratum, lon,"
            " lat, x, y) SELECT :b, 1, '120102', id, :st, ST_X(geom), ST_Y(geom), 0, 0"
            " FROM sites WHERE id = :s"
        ),
        {"b": batch, "s": site_id, "st": street},
    )
    connection.execute(
        text(
            "INSERT INTO sample_sites (batch_id, district_code, site_id, stratum, ord, frame_ord,"
            " inspector_id) VALUES (:b, '120102', :s, :st, 1, 1, :i)"
        ),
        {"b": batch, "s": site_id, "st": street, "i": pool},
    )
    log_in(tab, live_url, "browser.insp")
    page = tab.page
    page.goto(f"{live_url}/sampling")
    page.locator(f'#my-batches tr[data-batch="{batch}"] a').click()
    page.wait_for_url(f"**/sampling/batches/{batch}")
    page.locator("#batch-map .leaflet-container").wait_for()
    assert page.locator("#batch-map path.leaflet-interactive").count() >= 1
    row = page.locator(f"#site-{site_id}")
    row.locator("select[name=result]").select_option("fail")
    row.locator("input[name=notes]").fill("彩钢棚仍在")
    with page.expect_navigation():
        row.locator("button").click()
    after = page.locator(f"#site-{site_id}").inner_text()
    assert "不合格" in after and "已重新打开" in after
    assert tab.problems() == []
