"""A site's history as a person reads it (issue 15, point 3): a site taken through the whole
workflow through the pages, then its timeline on the site page and on the workflow page has
no Latin event name, no hash, no `{`, people's names and not usernames, dates as people write
them, a plan as its steps and the street by its name."""

from __future__ import annotations

import html as htmllib
import re
from io import BytesIO

import pytest
from sqlalchemy import select

from gis_app.features.ledger import history
from gis_app.features.ledger.models import Site, SiteEvent
from tests.support.accounts import csrf
from tests.support.sites import site_payload
from tests.support.workflow import DZG, ZSM, image_bytes

HEX64 = re.compile(r"[0-9a-f]{16,}")
LATIN_WORD = re.compile(r"[A-Za-z_]{3,}")


@pytest.fixture()
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    return tmp_path / "photos"


def _post(client, url: str, data: dict, status: int = 302):
    data = {**data, "csrf_token": csrf(client)}
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def _timeline_text(client, url: str) -> tuple[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    block = re.search(r'<ol class="timeline" id="site-timeline">(.*?)</ol>', html, re.S)[1]
    actions = re.findall(r'data-action="(\w+)"', block)
    text = re.sub(r'data-action="\w+"', "", block)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text), actions


def _walk(client, auth, connection) -> int:
    """Register, move into another street, plan, start, photos, extension, steps, acceptance,
    close, reopen: every kind of event a site gets from the pages."""
    auth.user("dzg.li", "street_officer", DZG, display_name="李建国")
    auth.user("office.wang", "district_officer", None, display_name="王芳")
    created = client.post(
        "/api/v1/sites",
        json=site_payload(code="H-0001", committed_deadline="2026-12-20"),
        headers=auth.headers("office.wang", "district_officer"),
    ).get_json()
    site_id = created["id"]
    patched = client.patch(
        f"/api/v1/sites/{site_id}",
        json={"version": 1, "area_m2": 25, "disposition": "rectify", "reason": "复核面积"},
        headers=auth.headers("office.wang", "district_officer"),
    )
    assert patched.status_code == 200
    page = f"/sites/{site_id}/workflow"
    auth.login(client, "dzg.li", "street_officer", DZG)
    _post(
        client,
        f"/sites/{site_id}/plan",
        {
            "step_title": ["下达整改通知", "拆除违建部分"],
            "step_date": ["2026-11-10", "2026-12-20"],
            "next": page,
        },
    )
    _post(client, f"/sites/{site_id}/transition", {"to": "in_progress", "next": page})
    lon, lat = connection.execute(
        select(Site.geom.ST_X(), Site.geom.ST_Y()).where(Site.id == site_id)
    ).one()
    for kind, colour, hour in (("before", (150, 60, 40), "09"), ("after", (60, 150, 60), "16")):
        jpeg = image_bytes(colour, taken=f"2026:06:15 {hour}:00:00", lonlat=(lon, lat))
        _post(
            client,
            f"/sites/{site_id}/photos",
            {"kind": kind, "file": (BytesIO(jpeg), f"{kind}.jpg"), "next": page},
        )
    _post(
        client,
        f"/sites/{site_id}/extensions",
        {
            "new_deadline": "2027-01-31",
            "reason": "冬季施工困难",
            "step_title": ["下达整改通知", "拆除违建部分"],
            "step_date": ["2026-11-10", "2027-01-31"],
            "next": page,
        },
    )
    auth.login(client, "office.wang", "district_officer")
    request_id = re.search(r"/extensions/(\d+)/decide", client.get(page).text)[1]
    _post(
        client,
        f"/extensions/{request_id}/decide",
        {"decision": "approve", "comment": "同意", "next": page},
    )
    auth.login(client, "dzg.li", "street_officer", DZG)
    for step_id in re.findall(r'data-step="(\d+)"', client.get(page).text):
        _post(client, f"/steps/{step_id}/complete", {"note": "已完成", "next": page})
    _post(client, f"/sites/{site_id}/transition", {"to": "awaiting_acceptance", "next": page})
    auth.login(client, "office.wang", "district_officer")
    assert client.get(f"/sites/{site_id}/acceptance").status_code == 200
    _post(client, f"/sites/{site_id}/close", {"comment": "同意销账", "next": page})
    _post(client, f"/sites/{site_id}/reopen", {"cause": "rebound", "reason": "现场复建"})
    return site_id


@pytest.mark.slow
def test_history_of_a_site_through_the_workflow_reads_as_chinese(
    client, auth, connection, photo_dir
) -> None:
    site_id = _walk(client, auth, connection)
    stored = connection.execute(
        select(SiteEvent.action).where(SiteEvent.site_id == site_id).order_by(SiteEvent.id)
    ).scalars()
    expected = {
        "create",
        "update",
        "plan",
        "transition",
        "photo",
        "extension_request",
        "extension_approved",
        "step_done",
        "reopen",
    }
    assert expected <= set(stored)
    for url in (f"/sites/{site_id}", f"/sites/{site_id}/workflow"):
        text, actions = _timeline_text(client, url)
        assert expected <= set(actions), url
        assert "{" not in text and "[" not in text, text
        assert not HEX64.search(text), text
        latin = [w for w in LATIN_WORD.findall(text)]
        assert latin == [], (url, latin, text)
        for words in (
            "登记点位",
            "修改台账",
            "制定治理方案",
            "上传照片",
            "申请延期",
            "批准延期",
            "完成治理步骤",
            "重新打开",
            "李建国",  # names, not usernames
            "王芳",
            "大直沽街道",  # the street by its name
            "2026年12月20日",
            "1. 下达整改通知（2026年11月10日）；2. 拆除违建部分（2026年12月20日）",
            "整改前照片",
            "期限延至 2027年1月31日",
            "「下达整改通知」",
            "原因类别",
            "回潮",
        ):
            assert words in text, (url, words)
        assert "dzg.li" not in text and "office.wang" not in text


def test_a_move_shows_both_streets_by_name(client, auth, connection) -> None:
    auth.user("office.zhao", "district_officer", None, display_name="赵敏")
    headers = auth.headers("office.zhao", "district_officer")
    site = client.post("/api/v1/sites", json=site_payload(code="H-0002"), headers=headers)
    site_id = site.get_json()["id"]
    street_point = connection.exec_driver_sql(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM streets "
        "WHERE code = %s) s",
        (ZSM,),
    ).one()
    moved = client.patch(
        f"/api/v1/sites/{site_id}",
        json={"version": 1, "lon": street_point[0], "lat": street_point[1], "reason": "定位更正"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.get_json()
    auth.login(client, "office.zhao", "district_officer")
    text, _ = _timeline_text(client, f"/sites/{site_id}")
    assert "街道： 大直沽街道 → 中山门街道" in text, text
    assert "赵敏" in text and "经度" in text


def test_values_as_people_write_them() -> None:
    show = history.show_value
    assert show("plan", []) == "（无步骤）"
    assert show("current_deadline", "2026-09-30") == "2026年9月30日"
    assert show("status", "in_progress") == "治理中"
    assert show("photo", {"id": 7, "kind": "after", "sha256": "ab" * 32}) == "整改后照片（第 7 号）"
    assert show("extension", {"id": 3, "status": "rejected"}) == "第 3 号申请已驳回"
    assert show("spot_check", "fail") == "不合格"
    assert show("mystery", {"id": 1, "sha256": "cd" * 32, "x": 2}) == "2"
    assert history.actor_name("system", {}) == "系统"
