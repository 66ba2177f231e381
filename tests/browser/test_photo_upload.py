"""Photos on weak networks (issue 15 point 8) in Chromium at phone size: a 12-megapixel JPEG
larger than the server accepts is shrunk in the browser to the configured longest side, its
EXIF time and GPS kept (the server reads them and its distance check still fires); the upload
shows its progress; an upload whose answer is lost is retried without choosing the file
again, and the server keeps the photo once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from gis_app.core.clock import LOCAL_TZ
from tests.support.browser import log_in, serve
from tests.support.field_browser import large_jpeg, phone_tab
from tests.support.workflow import DZG, OFFICE, SITE_LONLAT, make_site

pytestmark = pytest.mark.browser

TAKEN = datetime(2026, 6, 10, 9, 30, 5)
FAR = (SITE_LONLAT[0] + 0.01, SITE_LONLAT[1])  # about 860 m east of the site


@pytest.fixture()
def site_url(app_ctx, auth, tmp_path, monkeypatch) -> Iterator[tuple[str, int]]:
    from gis_app.http.database import session

    monkeypatch.setitem(app_ctx.config, "PHOTO_DIR", str(tmp_path / "photos"))
    monkeypatch.setitem(app_ctx.config, "PHOTO_MAX_MB", 3.0)
    monkeypatch.setitem(app_ctx.config, "PHOTO_CLIENT_MAX_SIDE", 2560)
    auth.user("browser.insp.dzg", "inspector", DZG, display_name="大直沽队员")
    site = make_site(session(), OFFICE, code="UP-1", status="new")
    with serve(app_ctx) as url:
        yield url, site.id


def test_a_large_jpeg_is_shrunk_keeping_its_exif_and_retried_after_a_lost_answer(
    site_url, chromium, connection, tmp_path
) -> None:
    url, site_id = site_url
    original = large_jpeg(taken=TAKEN, lonlat=FAR)
    assert len(original) > 3 * 1024 * 1024  # the server alone would refuse it (413)
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(original)
    with phone_tab(chromium, SITE_LONLAT) as phone:
        page = phone.page
        log_in(phone, url, "browser.insp.dzg")
        page.goto(f"{url}/sites/{site_id}/workflow")
        form = page.locator("form[data-photo-upload]")
        form.locator("input[type=file]").set_input_files(str(path))
        form.locator("select[name=kind]").select_option("inspection")

        handled: list[int] = []

        def lose_the_first_answer(route: Any) -> None:
            response = route.fetch()  # the server stores the photo…
            handled.append(response.status)
            if len(handled) == 1:
                route.abort("connectionreset")  # …but its answer never arrives
            else:
                route.fulfill(response=response)

        page.route("**/api/v1/sites/*/photos", lose_the_first_answer)
        form.locator("button[type=submit]").click()
        retry = form.locator(".upload-retry")
        retry.wait_for(state="visible", timeout=60_000)
        assert "上传失败" in form.locator(".upload-state").inner_text()
        assert handled == [201]
        page.unroute("**/api/v1/sites/*/photos", lose_the_first_answer)
        replayed: list[str | None] = []

        def answer(response: Any) -> None:
            if "/api/v1/sites/" in response.url:
                replayed.append(response.headers.get("idempotent-replayed"))

        page.on("response", answer)
        with page.expect_navigation(timeout=60_000):
            retry.click()  # the same prepared file, the same key: no file chooser
        state = page.locator("form[data-photo-upload] .upload-state")
        assert "已上传巡查/抽查照片；注意：照片拍摄位置距点位" in state.inner_text()
        assert state.get_attribute("data-sent") == "1"  # the bar went to the end
        assert replayed == ["true"]  # the retry is answered with the first answer

    rows = connection.execute(
        text(
            "SELECT width, height, size_bytes, taken_at, gps_distance_m, warnings"
            " FROM photos WHERE site_id = :s"
        ),
        {"s": site_id},
    ).all()
    assert len(rows) == 1  # once, though it was sent twice
    width, height, size, taken_at, distance, warnings = rows[0]
    assert (width, height) == (2560, 1920)
    assert size < 3 * 1024 * 1024
    assert taken_at.astimezone(LOCAL_TZ).replace(tzinfo=None) == TAKEN  # EXIF time kept
    assert distance == pytest.approx(863, abs=15)  # EXIF GPS kept: the distance check fires
    assert [w["code"] for w in warnings] == ["gps_far"]
    problems = [p for p in phone.problems() if "CONNECTION_RESET" not in p]  # the lost answer
    assert problems == []


def test_a_small_photo_is_sent_as_chosen(site_url, chromium, connection, tmp_path) -> None:
    """Below the configured size nothing is re-encoded: the server stores the chosen bytes."""
    import hashlib

    url, site_id = site_url
    small = large_jpeg(size=(800, 600), taken=TAKEN, lonlat=SITE_LONLAT, quality=80)
    path = tmp_path / "small.jpg"
    path.write_bytes(small)
    with phone_tab(chromium, SITE_LONLAT) as phone:
        page = phone.page
        log_in(phone, url, "browser.insp.dzg")
        page.goto(f"{url}/sites/{site_id}/workflow")
        form = page.locator("form[data-photo-upload]")
        form.locator("input[type=file]").set_input_files(str(path))
        form.locator("select[name=kind]").select_option("inspection")
        with page.expect_navigation(timeout=60_000):
            form.locator("button[type=submit]").click()
        assert phone.problems() == []
    sha = connection.execute(
        text("SELECT sha256 FROM photos WHERE site_id = :s"), {"s": site_id}
    ).scalar_one()
    assert sha == hashlib.sha256(small).hexdigest()
