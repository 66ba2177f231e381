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
                 "/reports/{code}/{month_text}/submit", "/campaign", "/statistics"):  # fmt: skip
        assert path in doc["paths"], path
    assert "/sites/{site_id}" in doc["paths"]  # the foundation's paths are still there
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
