"""Forms that keep what was typed (issue 15, point 4): a refused form comes back with the
user's input and the reason beside the field, in Chinese words, with no internal field name;
403/404 pages say what the user may do instead and link back; the wrong-password message is
styled like the other refusals."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.support.accounts import PASSWORD, csrf, csrf_of
from tests.support.sites import site_payload
from tests.support.workflow import DZG, make_site

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


# ------------------------------------------------ the reason fields of the site's other forms


LATIN = re.compile(r"(?<![\w/.-])[A-Za-z][A-Za-z_]*(?:\.[A-Za-z_]+)*(?![\w/.-])")


def _refusal_is_chinese(html: str, element_id: str) -> str:
    """The refusal shown beside the form: there, in Chinese words, no Latin name."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</p>', html, re.S)
    assert found, (element_id, _visible(html)[:2000])
    message = found[1]
    assert not LATIN.findall(message), message
    return message


def test_a_refused_send_back_keeps_its_reason(client, auth, db_session) -> None:
    site = make_site(db_session, code="KEEP-SB", status="awaiting_acceptance")
    auth.login(client, "keep.office2", "district_officer")
    html = _post(
        client,
        f"/sites/{site.id}/transition",
        {"to": "in_progress", "version": "999", "reason": "后照片角度不对，请补拍"},
        409,
    )
    form = re.search(r'data-action="to-in_progress">(.*?)</form>', html, re.S)[1]
    assert 'value="后照片角度不对，请补拍"' in form
    _refusal_is_chinese(html, "to-in_progress-error")
    _no_internal_names(html)


def test_a_refused_reopen_keeps_its_reason_and_cause(client, auth, db_session) -> None:
    site = make_site(db_session, code="KEEP-RO", status="closed")
    auth.login(client, "keep.office3", "district_officer")
    typed = "现场复建彩钢棚。" * 70  # longer than a reason may be
    html = _post(client, f"/sites/{site.id}/reopen", {"cause": "rebound", "reason": typed}, 422)
    form = re.search(r'data-action="reopen">(.*?)</form>', html, re.S)[1]
    assert f'value="{typed}"' in form and 'value="rebound" selected' in form
    _refusal_is_chinese(html, "reopen-error")


def test_a_refused_step_completion_keeps_its_note(client, auth, db_session) -> None:
    site_id = _in_progress_site(client, auth)
    step = db_session.execute(
        text("SELECT id FROM site_steps WHERE site_id = :s ORDER BY position LIMIT 1"),
        {"s": site_id},
    ).scalar_one()
    html = _post(
        client,
        f"/steps/{step}/complete",
        {"note": "已送达整改通知书", "photo_id": "987654321"},
        422,
    )
    form = re.search(rf'data-action="complete-{step}">(.*?)</form>', html, re.S)[1]
    assert 'value="已送达整改通知书"' in form
    _refusal_is_chinese(html, f"complete-{step}-error")


def test_a_refused_extension_decision_keeps_the_comment(client, auth) -> None:
    site_id = _in_progress_site(client, auth)
    _post(
        client,
        f"/sites/{site_id}/extensions",
        {
            "new_deadline": "2026-11-30",
            "reason": "雨季无法施工",
            "step_title": ["下达通知", "拆除"],
            "step_date": ["2026-07-01", "2026-11-30"],
        },
        302,
    )
    auth.login(client, "keep.office4", "district_officer")
    page = client.get(f"/sites/{site_id}/workflow").get_data(as_text=True)
    request_id = int(re.search(r'data-action="decide-(\d+)"', page)[1])
    html = _post(
        client,
        f"/extensions/{request_id}/decide",
        {"decision": "maybe", "comment": "请补充施工单位的说明"},
        422,
    )
    form = re.search(rf'data-action="decide-{request_id}">(.*?)</form>', html, re.S)[1]
    assert 'value="请补充施工单位的说明"' in form
    _refusal_is_chinese(html, f"decide-{request_id}-error")


def test_a_refused_notice_reply_keeps_the_measures(client, auth) -> None:
    office = auth.headers("keep.office5", "district_officer")
    body = {
        "title": "进度通报",
        "reply_due": "2026-06-25",
        "streets": [{"street": DZG, "reason": "进度滞后"}],
    }
    made = client.post("/api/v1/notices", json=body, headers=office)
    assert made.status_code == 201, made.get_json()
    auth.login(client, "keep.officer5", "street_officer", DZG)
    typed = "已组织拆除。" * 700  # longer than a reply may be
    html = _post(client, f"/notices/{made.get_json()['id']}/reply", {"measures": typed}, 422)
    assert f">{typed}</textarea>" in html
    assert not LATIN.findall(re.search(r'flash-error"[^>]*>(.*?)</p>', html, re.S)[1])
