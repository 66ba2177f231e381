"""Forms that keep what was typed (issue 15, point 4): a refused form comes back with the
user's input and the reason beside the field, in Chinese words, with no internal field name;
403/404 pages say what the user may do instead and link back; the wrong-password message is
styled like the other refusals."""

from __future__ import annotations

import re

from tests.support.accounts import PASSWORD, csrf, csrf_of
from tests.support.sites import site_payload
from tests.support.workflow import DZG

INTERNAL = ("plan", "file", "attach_to", "force_reason", "role", "steps", "new_deadline")


def _visible(html: str) -> str:
    """The text a person reads (no tags, no attribute values)."""
    body = html[html.index("<body") :]
    body = re.sub(r"<(script|style|datalist)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def _no_internal_names(html: str) -> None:
    text = _visible(html)
    for name in INTERNAL:
        assert not re.search(rf"(?<![\w/.-]){name}(?![\w/.-])", text), (name, text[:3000])
    assert "字段：" not in text and "相关字段" not in text


def _in_progress_site(client, auth) -> int:
    headers = auth.headers("keep.office", "district_officer")
    payload = site_payload(code="KEEP-1", committed_deadline="2026-09-30")
    site_id = client.post("/api/v1/sites", json=payload, headers=headers).get_json()["id"]
    auth.login(client, "keep.officer", "street_officer", DZG)
    _post(
        client,
        f"/sites/{site_id}/plan",
        {"step_title": ["下达通知", "拆除"], "step_date": ["2026-07-01", "2026-09-30"]},
        302,
    )
    _post(client, f"/sites/{site_id}/transition", {"to": "in_progress"}, 302)
    return site_id


def _post(client, url: str, data: dict, status: int):
    response = client.post(
        url, data={**data, "csrf_token": csrf(client)}, content_type="multipart/form-data"
    )
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    return response.get_data(as_text=True)


def test_a_refused_extension_keeps_the_form(client, auth) -> None:
    site_id = _in_progress_site(client, auth)
    html = _post(
        client,
        f"/sites/{site_id}/extensions",
        {
            "new_deadline": "2026-11-30",
            "reason": "雨季无法施工，需顺延",
            "step_title": ["下达通知", "组织拆除", "清运"],
            "step_date": ["2026-07-01", "2026-10-15", "2026-11-20"],  # ≠ the new deadline
        },
        422,
    )
    form = re.search(r'data-action="extension">(.*?)</form>', html, re.S)[1]
    assert 'value="2026-11-30"' in form and "雨季无法施工，需顺延" in form
    for typed in ("组织拆除", "清运", "2026-10-15", "2026-11-20"):
        assert typed in form, typed
    assert 'id="extension-error"' in html
    _no_internal_names(html)


def test_a_refused_plan_keeps_the_steps(client, auth) -> None:
    site_id = _in_progress_site(client, auth)
    html = _post(
        client,
        f"/sites/{site_id}/plan",
        {"step_title": ["先行拆除", "复查"], "step_date": ["2026-08-01", "2026-12-31"]},
        409,
    )
    form = re.search(r'data-action="plan">(.*?)</form>', html, re.S)[1]
    assert 'value="先行拆除"' in form and 'value="2026-12-31"' in form
    assert 'id="plan-error"' in html and "延期" in html
    _no_internal_names(html)


def test_refusal_pages_say_what_to_do_and_link_back(client, auth) -> None:
    auth.login(client, "keep.insp", "inspector", DZG)
    refused = client.get("/exports/monthly.xlsx", headers={"Referer": "http://localhost/reports"})
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "无权办理" in html and "请求有误" not in html
    assert 'href="http://localhost/reports"' in html and "返回首页" in html
    _no_internal_names(html)
    missing = client.get("/sites/987654321")
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "找不到页面" in text and "一张图" in text
    _no_internal_names(text)


def test_wrong_password_is_styled_and_keeps_the_username(client, auth) -> None:
    auth.user("keep.login", "inspector", DZG)
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": "keep.login", "password": PASSWORD + "x", "csrf_token": csrf_of(page)},
    )
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" role="alert"', html)
    assert 'value="keep.login"' in html
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert re.search(r"p\.error \{[^}]*color", css)
