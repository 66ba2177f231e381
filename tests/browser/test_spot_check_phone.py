"""Spot checks in the field (issue 15 point 7) on a phone (390 × 844): the inspector of
中山门 assigned a closed site of 大直沽 opens it read-only (its data, the before/after pair,
its history), records a fail with a photo from the camera: the photo is the site's
inspection photo and the result's; a fail without a note keeps what was typed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.browser import log_in, serve
from tests.support.field_browser import PHONE, phone_tab
from tests.support.workflow import DZG, OFFICE, SITE_LONLAT, ZSM, image_bytes, make_site

pytestmark = pytest.mark.browser

INSPECTOR = "check.insp.zsm"


@pytest.fixture()
def checked(app_ctx, auth, connection, tmp_path, monkeypatch) -> Iterator[tuple[str, int, int]]:
    from gis_app.features.photos import service as photos
    from gis_app.http.database import session

    monkeypatch.setitem(app_ctx.config, "PHOTO_DIR", str(tmp_path / "photos"))
    user_id = auth.user(INSPECTOR, "inspector", ZSM, display_name="中山门队员")
    site = make_site(session(), OFFICE, code="SC-9", status="new")
    store = photos.store_for(app_ctx.config)
    before = image_bytes((200, 60, 60), size=(320, 240), taken=datetime(2026, 5, 2, 9),
                         lonlat=SITE_LONLAT)  # fmt: skip
    limits = photos.limits_for(app_ctx.config)
    photos.add_photo(session(), store, limits, site.id, OFFICE, before, "before.jpg", "before")
    session().flush()
    connection.execute(text("UPDATE sites SET status = 'closed' WHERE id = :s"), {"s": site.id})
    pool = connection.execute(
        text(
            "INSERT INTO inspectors (district_code, name, street_code, user_id, created_by)"
            " VALUES ('120102', '中山门队员', :st, :u, 'test') RETURNING id"
        ),
        {"u": user_id, "st": ZSM},
    ).scalar_one()
    batch = connection.execute(
        text(
            "INSERT INTO sample_batches (district_code, title, method, allocation, seed,"
            " frame_size, sample_size, frame_sha256, created_by) VALUES ('120102', '现场抽查',"
            " 'srs', 'proportional', 1, 1, 1, repeat('0', 64), 'test') RETURNING id"
        )
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO sample_frame_units (batch_id, ord, district_code, site_id, stratum,"
            " lon, lat, x, y) SELECT :b, 1, '120102', id, :st, ST_X(geom), ST_Y(geom), 0, 0"
            " FROM sites WHERE id = :s"
        ),
        {"b": batch, "s": site.id, "st": DZG},
    )
    connection.execute(
        text(
            "INSERT INTO sample_sites (batch_id, district_code, site_id, stratum, ord,"
            " frame_ord, inspector_id) VALUES (:b, '120102', :s, :st, 1, 1, :i)"
        ),
        {"b": batch, "s": site.id, "st": DZG, "i": pool},
    )
    with serve(app_ctx) as url:
        yield url, batch, site.id


def _fits(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"horizontal scrolling: {width}px"


def test_the_inspector_checks_another_streets_site_and_attaches_a_photo(
    checked, chromium, connection, tmp_path
) -> None:
    url, batch, site_id = checked
    photo = tmp_path / "check.jpg"
    photo.write_bytes(image_bytes((20, 20, 160), taken=datetime(2026, 6, 15, 9, 40),
                                  lonlat=SITE_LONLAT))  # fmt: skip
    with phone_tab(chromium, SITE_LONLAT) as phone:
        page = phone.page
        log_in(phone, url, INSPECTOR)
        page.goto(f"{url}/sampling/batches/{batch}")
        _fits(page)
        row = page.locator(f"#site-{site_id}")
        assert row.locator("td").first.bounding_box()["width"] > 200  # a card, not a column
        with page.expect_navigation():
            row.locator("a", has_text="SC-9").click()
        _fits(page)
        facts = page.locator("#check-facts").inner_text()
        assert "大直沽中路12号院内" in facts and "大直沽" in facts and "已销账" in facts
        before = page.locator("#check-photos img").first
        before.wait_for()
        page.wait_for_function(
            "() => { const i = document.querySelector('#check-photos img');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )
        assert "没有整改后照片" in page.locator("#check-photos").inner_text()
        history = page.locator("#check-history").inner_text()
        assert "登记" in history and "上传照片" in history
        assert not any(w in history for w in ("create", "photo", "{"))

        # a fail without a note: refused beside the row, what was chosen kept
        form = page.locator("#check-form")
        form.locator("select[name=result]").select_option("fail")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        error = page.locator(f"#site-{site_id} .form-error")
        assert "说明" in error.inner_text()
        again = page.locator(f"#site-{site_id} form")
        assert again.locator("select[name=result]").input_value() == "fail"
        again.locator("input[name=notes]").fill("彩钢棚复建")
        again.locator("input[name=photos]").set_input_files(str(photo))
        with page.expect_navigation():
            again.locator("button[type=submit]").click()
        assert "不合格" in page.locator(f"#site-{site_id}").inner_text()
        _fits(page)
        assert [p for p in phone.problems() if "status of 422" not in p] == []

    connection.execute(text("RESET ROLE"))
    ids = connection.execute(
        text("SELECT photo_ids FROM sample_sites WHERE batch_id = :b"), {"b": batch}
    ).scalar_one()
    assert len(ids) == 1
    kind, owner = connection.execute(
        text("SELECT kind, site_id FROM photos WHERE id = :p"), {"p": ids[0]}
    ).one()
    assert (kind, owner) == ("inspection", site_id)


def test_a_result_with_a_photo_recorded_offline_is_sent_with_it(
    checked, chromium, connection, tmp_path
) -> None:
    url, batch, site_id = checked
    photo = tmp_path / "offline.jpg"
    photo.write_bytes(image_bytes((160, 20, 20), taken=datetime(2026, 6, 15, 9, 30),
                                  lonlat=SITE_LONLAT))  # fmt: skip
    with phone_tab(chromium, SITE_LONLAT) as phone:
        page = phone.page
        page.context.clock.set_fixed_time("2026-06-15T09:35:00+08:00")
        log_in(phone, url, INSPECTOR)
        page.goto(f"{url}/sampling/batches/{batch}/sites/{site_id}")
        page.evaluate("() => navigator.serviceWorker.ready")
        page.wait_for_function("() => document.documentElement.dataset.fieldReady === '1'")
        page.context.set_offline(True)
        page.reload()  # the check page opens from the phone
        page.wait_for_function("() => document.documentElement.dataset.fieldReady === '1'")
        form = page.locator("#check-form")
        form.locator("select[name=result]").select_option("fail")
        form.locator("input[name=notes]").fill("违建复建")
        form.locator("input[name=photos]").set_input_files(str(photo))
        form.locator("button[type=submit]").click()
        item = page.locator("#fq-items li.fq-waiting")
        item.wait_for()
        assert "照片 1 张" in item.inner_text() and "SC-9" in item.inner_text()
        page.context.set_offline(False)
        page.locator("#fq-items li.fq-sent").wait_for(timeout=30_000)
        assert "已录入，点位已重新打开" in page.locator("#fq-items li.fq-sent").inner_text()
        assert phone.problems() == []

    connection.execute(text("RESET ROLE"))
    ids, recorded = connection.execute(
        text("SELECT photo_ids, recorded_at FROM sample_sites WHERE batch_id = :b"), {"b": batch}
    ).one()
    assert len(ids) == 1 and recorded is not None
    kind = connection.execute(
        text("SELECT kind FROM photos WHERE id = :p AND site_id = :s"), {"p": ids[0], "s": site_id}
    ).scalar_one()
    assert kind == "inspection"
