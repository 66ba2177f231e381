"""The workflow's JSON API: transitions, photos, steps, extensions, reports; errors as
{"error", "field", "message"} with 403 / 409 / 422; the paths in the OpenAPI document."""

from __future__ import annotations

from io import BytesIO

import pytest

from tests.support.sites import site_payload
from tests.support.workflow import DZG

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
