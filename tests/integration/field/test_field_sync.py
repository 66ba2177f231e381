"""What the phones' offline queue relies on, through the API: each act with its field time
(`recorded_at`) beside the server's, idempotent retries (a retry after a lost answer changes
nothing twice), the list of what to take along, and the app's manifest and worker."""

from __future__ import annotations

import io

from sqlalchemy import text

from tests.support.workflow import OFFICE, ZSM, image_bytes, make_site

FIELD_TIME = "2026-06-15T09:20:00+08:00"  # the server's clock says 10:00


def _patrol(client, headers, db_session):
    for i, (lon, lat) in enumerate([(117.2620, 39.1010), (117.2630, 39.1000)], start=1):
        make_site(db_session, OFFICE, code=f"FS-{i}", lon=lon, lat=lat, status="new")
    made = client.post(
        "/api/v1/patrols", json={"area": {"kind": "street"}, "start": [117.2626, 39.0964]},
        headers=headers,
    ).get_json()  # fmt: skip
    assert made["created"], made
    return made


def test_a_tick_sent_twice_with_one_key_is_recorded_once_with_its_field_time(
    client, auth, db_session, connection
) -> None:
    # audit rows of this test only: a live server's clean-up restarts the ids (RESTART
    # IDENTITY) and leaves its audit rows, so an earlier stop may have had the same id
    since = connection.execute(text("SELECT coalesce(max(id), 0) FROM audit.events")).scalar()
    headers = auth.headers("insp.f", "inspector", ZSM)
    made = _patrol(client, headers, db_session)
    stop = made["stops"][0]["id"]
    url = f"/api/v1/patrols/{made['id']}/stops/{stop}/visit"
    body = {"visited": True, "note": "仍在施工", "recorded_at": FIELD_TIME}
    keyed = {**headers, "Idempotency-Key": "tick-1"}
    first = client.post(url, json=body, headers=keyed)
    assert first.status_code == 200, first.get_json()
    again = client.post(url, json=body, headers=keyed)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    got = next(s for s in first.get_json()["stops"] if s["id"] == stop)
    assert got["recorded_at"] == "2026-06-15T01:20:00+00:00"
    assert got["checked_at"] == "2026-06-15T02:00:00+00:00"  # the server's time, kept beside
    events = connection.execute(
        text(
            "SELECT count(*) FROM audit.events WHERE table_name = 'patrol_stops'"
            " AND row_id = :r AND lower(action) = 'update' AND id > :since"
        ),
        {"r": str(stop), "since": since},
    ).scalar()
    assert events == 1  # one change, though it was sent twice
    # a time the phone cannot have: refused naming the field, nothing written
    late = client.post(url, json={**body, "recorded_at": "2026-06-15T12:00:00+08:00"},
                       headers=headers)  # fmt: skip
    assert late.status_code == 422 and late.get_json()["field"] == "recorded_at"


def test_a_finding_retried_after_a_lost_answer_makes_one_site(
    client, auth, app, db_session, connection, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    headers = {**auth.headers("insp.f", "inspector", ZSM), "Idempotency-Key": "finding-1"}

    def send():
        data = {"lon": "117.2626", "lat": "39.0964", "note": "路口新建砖房",
                "recorded_at": FIELD_TIME,
                "photos": (io.BytesIO(image_bytes((10, 120, 200))), "a.jpg")}  # fmt: skip
        return client.post("/api/v1/findings", data=data, headers=headers,
                           content_type="multipart/form-data")  # fmt: skip

    first, second = send(), send()
    assert first.status_code == 201 and second.status_code == 201
    assert second.get_json() == first.get_json()
    assert first.get_json()["recorded_at"] == "2026-06-15T01:20:00+00:00"
    assert (
        connection.execute(text("SELECT count(*) FROM sites WHERE note = '路口新建砖房'")).scalar()
        == 1
    )


def test_the_pack_to_take_along_lists_pages_thumbnails_and_files(client, auth, db_session) -> None:
    headers = auth.headers("insp.f", "inspector", ZSM)
    made = _patrol(client, headers, db_session)
    pack = client.get(f"/api/v1/patrols/{made['id']}/offline", headers=headers).get_json()
    assert f"/patrols/{made['id']}" in pack["pages"]
    assert f"/patrols/findings/new?patrol_id={made['id']}" in pack["pages"]
    assert all(f"/sites/{s['site_id']}" in pack["pages"] for s in made["stops"])
    assert "/static/vendor/leaflet/images/marker-icon.png" in pack["files"]
    other = auth.headers("insp.d", "inspector", "120102002")
    assert client.get(f"/api/v1/patrols/{made['id']}/offline", headers=other).status_code == 404


def test_the_manifest_and_the_worker_are_served_without_login(client) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["display"] == "standalone"
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["Service-Worker-Allowed"] == "/"
    body = worker.get_data(as_text=True)
    assert "__VERSION__" not in body and "gis-static-" in body
