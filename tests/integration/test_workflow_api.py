"""The workflow's JSON API: transitions, photos, steps, extensions, reports; errors as
{"error", "field", "message"} with 403 / 409 / 422; the paths in the OpenAPI document."""

from __future__ import annotations

from io import BytesIO

import pytest

from tests.conftest import site_payload
from tests.workflow_support import DZG, image_bytes

# bearer-token headers of three users, made afresh for each test (in its transaction)
STREET: dict[str, str] = {}
OTHER_STREET: dict[str, str] = {}
OFFICE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _tokens(client, auth):
    STREET.update(auth.headers("街道李", "street_officer", DZG))
    OTHER_STREET.update(auth.headers("中山门赵", "street_officer", "120102003"))
    OFFICE.update(auth.headers("区办王", "district_officer"))
    client.environ_base["HTTP_AUTHORIZATION"] = OFFICE["Authorization"]  # the default


@pytest.fixture()
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))


def _site(client, **overrides) -> int:
    response = client.post("/api/v1/sites", json=site_payload(**overrides), headers=OFFICE)
    assert response.status_code == 201
    return response.get_json()["id"]


def _photo(client, site_id: int, kind: str, data: bytes, headers=STREET):
    return client.post(
        f"/api/v1/sites/{site_id}/photos",
        data={"kind": kind, "file": (BytesIO(data), f"{kind}.jpg")},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_full_flow_over_the_api(client, photo_dir) -> None:
    site_id = _site(client)
    url = f"/api/v1/sites/{site_id}"
    plan = [{"title": "拆除违建部分", "due_date": "2026-08-01"},
            {"title": "恢复原状", "due_date": "2026-09-30"}]  # fmt: skip
    r = client.put(f"{url}/steps", json={"steps": plan}, headers=STREET)
    assert r.status_code == 200 and r.get_json()["site"]["current_deadline"] == "2026-09-30"
    r = client.post(f"{url}/transitions", json={"to": "in_progress"}, headers=STREET)
    assert r.status_code == 200 and r.get_json()["status"] == "in_progress"
    r = client.post(f"{url}/transitions", json={"to": "awaiting_acceptance"}, headers=STREET)
    assert r.status_code == 409 and r.get_json()["field"] == "photos"
    assert _photo(client, site_id, "before", image_bytes((1, 1, 1))).status_code == 201
    again = _photo(client, site_id, "before", image_bytes((1, 1, 1)))
    assert again.status_code == 200  # the same photo: the row already there
    after = _photo(client, site_id, "after", image_bytes((2, 200, 2)))
    assert after.status_code == 201 and after.get_json()["kind"] == "after"
    steps = client.get(f"{url}/steps", headers=STREET).get_json()["steps"]
    for step in steps:
        r = client.post(f"/api/v1/steps/{step['id']}/complete", json={"note": "完成"},
                        headers=STREET)  # fmt: skip
        assert r.status_code == 200 and r.get_json()["done"]
    r = client.post(f"{url}/transitions", json={"to": "awaiting_acceptance"}, headers=STREET)
    assert r.status_code == 200
    r = client.post(f"{url}/close", json={}, headers=STREET)
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    r = client.post(f"{url}/close", json={}, headers=OFFICE)
    assert r.status_code == 409 and "并排查看" in r.get_json()["message"]
    pair = client.get(f"{url}/acceptance", headers=OFFICE).get_json()
    assert pair["view_recorded"] and pair["after"]["id"] == after.get_json()["id"]
    r = client.post(f"{url}/close", json={"comment": "同意"}, headers=OFFICE)
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    r = client.post(f"{url}/transitions", json={"to": "in_progress"}, headers=OFFICE)
    assert r.status_code == 409 and "回潮" in r.get_json()["message"]
    r = client.post(f"{url}/reopen", json={"cause": "rebound", "reason": ""}, headers=OFFICE)
    assert r.status_code == 422 and r.get_json()["field"] == "reason"
    r = client.post(f"{url}/reopen", json={"cause": "rebound", "reason": "回潮"}, headers=OFFICE)
    assert r.status_code == 200 and r.get_json()["status"] == "in_progress"
    summary = client.get(f"{url}/workflow", headers=OFFICE).get_json()
    assert summary["site"]["status"] == "in_progress"
    assert [h["action"] for h in summary["history"]][:2] == ["reopen", "transition"]


def test_extensions_over_the_api(client) -> None:
    site_id = _site(client, committed_deadline="2026-07-31")
    url = f"/api/v1/sites/{site_id}"
    client.post(f"{url}/transitions", json={"to": "in_progress"}, headers=STREET)
    body = {"new_deadline": "2026-09-30", "reason": "相对人外出",
            "plan": [{"title": "恢复原状", "due_date": "2026-09-30"}]}  # fmt: skip
    r = client.post(f"{url}/extensions", json=body, headers=OTHER_STREET)
    assert r.status_code == 404  # another street's site is not even confirmed to exist
    r = client.post(f"{url}/extensions", json={**body, "plan": []}, headers=STREET)
    assert r.status_code == 422 and r.get_json()["field"] == "plan"
    r = client.post(f"{url}/extensions", json=body, headers=STREET)
    assert r.status_code == 201
    req_id = r.get_json()["id"]
    pending = client.get("/api/v1/extensions?status=pending", headers=OFFICE).get_json()
    assert [x["id"] for x in pending["extensions"]] == [req_id]
    r = client.post(f"/api/v1/extensions/{req_id}/decision", json={"decision": "approve"},
                    headers=STREET)  # fmt: skip
    assert r.status_code == 403
    r = client.post(f"/api/v1/extensions/{req_id}/decision",
                    json={"decision": "approve", "comment": "同意"}, headers=OFFICE)  # fmt: skip
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    site = client.get(url).get_json()["properties"]
    assert site["current_deadline"] == "2026-09-30" and site["committed_deadline"] == "2026-07-31"
    r = client.post(f"/api/v1/extensions/{req_id}/decision", json={"decision": "reject",
                    "comment": "晚了"}, headers=OFFICE)  # fmt: skip
    assert r.status_code == 409


def test_reports_over_the_api(client) -> None:
    r = client.get(f"/api/v1/reports/{DZG}/2026-06", headers=OFFICE)
    assert r.status_code == 200 and r.get_json()["status"] == "missing"
    assert r.get_json()["due_at"] == "2026-06-25T09:00:00+00:00"
    r = client.put(f"/api/v1/reports/{DZG}/2026-06", json={"narrative": "草稿"}, headers=STREET)
    assert r.status_code == 200 and r.get_json()["status"] == "draft"
    r = client.post(f"/api/v1/reports/{DZG}/2026-06/submit", json={"narrative": ""},
                    headers=STREET)  # fmt: skip
    assert r.status_code == 422 and r.get_json()["field"] == "narrative"
    r = client.post(f"/api/v1/reports/{DZG}/2026-06/submit", json={"narrative": "六月情况"},
                    headers=STREET)  # fmt: skip
    assert r.status_code == 200 and r.get_json()["late"] is False
    overview = client.get("/api/v1/reports?month=2026-06", headers=OFFICE).get_json()
    states = {s["street_code"]: s["state"] for s in overview["streets"]}
    assert states[DZG] == "on_time" and list(states.values()).count("missing") == 11
    assert client.get("/api/v1/reports?month=June", headers=OFFICE).status_code == 422


def test_bad_inputs_name_the_field(client, photo_dir) -> None:
    site_id = _site(client)
    url = f"/api/v1/sites/{site_id}"
    r = client.post(f"{url}/transitions", json={"to": "done"}, headers=STREET)
    assert r.status_code == 422 and r.get_json()["field"] == "to"
    r = client.post(f"{url}/transitions", data="x", headers=STREET)
    assert r.status_code == 400
    r = _photo(client, site_id, "before", b"\x89PNG\r\n\x1a\n broken")
    assert r.status_code == 422 and r.get_json()["field"] == "file"
    r = client.put(f"{url}/steps", json={"steps": [{"title": "x", "due_date": "2020-01-01"}]},
                   headers=STREET)  # fmt: skip
    assert r.status_code == 422 and r.get_json()["field"] == "steps[1].due_date"
    r = client.get("/api/v1/statistics/trend?months=0", headers=OFFICE)
    assert r.status_code == 422 and r.get_json()["field"] == "months"
    r = client.post("/api/v1/sites/999999/transitions", json={"to": "in_progress"})
    assert r.status_code == 404


def test_statistics_campaign_and_openapi(client) -> None:
    _site(client)
    stats = client.get("/api/v1/statistics", headers=OFFICE).get_json()
    assert stats["district"]["total"] == 1 and len(stats["streets"]) == 12
    assert client.get("/api/v1/campaign").get_json()["ended"] is True
    table = client.get("/api/v1/workflow/transitions").get_json()["transitions"]
    last = table[-1]
    assert (last["from"], last["to"], last["via"]) == ("closed", "in_progress", "reopen")
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/sites/{site_id}/transitions", "/sites/{site_id}/photos",
                 "/sites/{site_id}/steps", "/extensions/{request_id}/decision",
                 "/reports/{code}/{month}/submit", "/campaign", "/statistics"):  # fmt: skip
        assert path in doc["paths"], path
    assert "/sites/{site_id}" in doc["paths"]  # the foundation's paths are still there
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
