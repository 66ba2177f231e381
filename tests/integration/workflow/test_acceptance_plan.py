"""Acceptance shows the plan (issue 15, point 6): the acceptance page lists the plan's steps and
which are open; closing with open steps needs the steps done or a reason, recorded with the
event; the refusal is in Chinese and keeps what was typed."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from sqlalchemy import select

from gis_app.features.ledger.models import Site, SiteEvent
from tests.support.accounts import csrf
from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes


@pytest.fixture()
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    return tmp_path / "photos"


def _post(client, url: str, data: dict, status: int = 302):
    data = {**data, "csrf_token": csrf(client)}
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def _awaiting_with_open_steps(client, auth, connection, done: int = 1) -> tuple[int, list[str]]:
    """A site of 大直沽 with a three-step plan, `done` of them completed, awaiting acceptance."""
    headers = auth.headers("office.qian", "district_officer")
    site_id = client.post(
        "/api/v1/sites", json=site_payload(code="AP-0001"), headers=headers
    ).get_json()["id"]
    page = f"/sites/{site_id}/workflow"
    auth.login(client, "dzg.sun", "street_officer", DZG)
    titles = ["下达整改通知", "拆除违建部分", "恢复原状"]
    _post(
        client,
        f"/sites/{site_id}/plan",
        {"step_title": titles, "step_date": ["2026-07-10", "2026-08-10", "2026-09-10"]},
    )
    _post(client, f"/sites/{site_id}/transition", {"to": "in_progress", "next": page})
    lon, lat = connection.execute(
        select(Site.geom.ST_X(), Site.geom.ST_Y()).where(Site.id == site_id)
    ).one()
    for kind, colour in (("before", (150, 60, 40)), ("after", (60, 150, 60))):
        jpeg = image_bytes(colour, taken="2026:06:15 09:00:00", lonlat=(lon, lat))
        _post(client, f"/sites/{site_id}/photos", {"kind": kind, "file": (BytesIO(jpeg), "p.jpg")})
    step_ids = re.findall(r'data-step="(\d+)"', client.get(page).text)
    for step_id in step_ids[:done]:
        _post(client, f"/steps/{step_id}/complete", {"note": "已完成"})
    _post(client, f"/sites/{site_id}/transition", {"to": "awaiting_acceptance"})
    auth.login(client, "office.qian", "district_officer")
    return site_id, titles[done:]


def _status(connection, site_id: int) -> str:
    return connection.execute(select(Site.status).where(Site.id == site_id)).scalar_one()


@pytest.mark.slow
def test_acceptance_page_shows_the_plan_and_closing_needs_a_reason(
    client, auth, connection, photo_dir
) -> None:
    site_id, open_titles = _awaiting_with_open_steps(client, auth, connection)
    html = client.get(f"/sites/{site_id}/acceptance").text
    plan = re.search(r'id="acceptance-plan">(.*?)</section>', html, re.S)[1]
    assert plan.count('data-done="no"') == 2 and plan.count('data-done="yes"') == 1
    for title in open_titles:
        assert title in plan
    assert "未完成步骤的销账理由" in html

    # without a reason: refused in Chinese, the acceptance page again with what was typed
    refused = _post(
        client,
        f"/sites/{site_id}/close",
        {"comment": "前后对比基本一致", "open_steps_reason": "  "},
        status=409,
    )
    text = refused.get_data(as_text=True)
    assert "治理方案还有 2 个步骤未完成" in text and "「拆除违建部分」「恢复原状」" in text
    assert 'id="open-steps-error"' in text
    assert 'value="前后对比基本一致"' in text
    assert "open_steps_reason（" not in text and "字段：" not in text
    assert _status(connection, site_id) == "awaiting_acceptance"

    # the API refuses the same way, naming the field
    api = client.post(
        f"/api/v1/sites/{site_id}/close",
        json={"comment": "同意"},
        headers=auth.headers("office.qian", "district_officer"),
    )
    assert api.status_code == 409
    assert api.get_json()["field"] == "open_steps_reason" or "open_steps_reason" in str(
        api.get_json()
    )

    # with a reason: closed, and the reason and the open steps are in the history
    _post(
        client,
        f"/sites/{site_id}/close",
        {"comment": "同意销账", "open_steps_reason": "恢复原状由业主自行完成，现场已核实"},
    )
    assert _status(connection, site_id) == "closed"
    event = connection.execute(
        select(SiteEvent.reason, SiteEvent.changes)
        .where(SiteEvent.site_id == site_id, SiteEvent.action == "transition")
        .order_by(SiteEvent.id.desc())
        .limit(1)
    ).one()
    assert event.changes["accepted_open_steps"] == [None, open_titles]
    assert "未完成步骤销账理由：恢复原状由业主自行完成" in event.reason
    timeline = client.get(f"/sites/{site_id}").text
    assert "未完成步骤" in timeline and "拆除违建部分、恢复原状" in timeline


@pytest.mark.slow
def test_all_steps_done_closes_without_a_reason(client, auth, connection, photo_dir) -> None:
    site_id, open_titles = _awaiting_with_open_steps(client, auth, connection, done=3)
    assert open_titles == []
    html = client.get(f"/sites/{site_id}/acceptance").text
    assert 'data-done="no"' not in html and "未完成步骤的销账理由" not in html
    _post(client, f"/sites/{site_id}/close", {"comment": "同意销账"})
    assert _status(connection, site_id) == "closed"
