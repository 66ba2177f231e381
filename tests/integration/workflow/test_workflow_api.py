"""The workflow's JSON API: transitions, photos, steps, extensions, reports; errors as
{"error", "field", "message"} with 403 / 409 / 422; the paths in the OpenAPI document."""

from __future__ import annotations

from io import BytesIO

import pytest

from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes

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
