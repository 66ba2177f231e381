"""Concurrency against a real served app (threads, real commits): 50 parallel edits of one
site carrying the version the user saw (one wins, 49 get 409, no update lost), and photo
uploads retried with the same `Idempotency-Key` (one photo, the same answer, also when the
copies race each other)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.features.ledger.service import create_site
from tests.support.accounts import Accounts
from tests.support.live import serve_app
from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes

pytestmark = pytest.mark.slow
EDITORS = 50
TIMEOUT = 60


@pytest.fixture(scope="module")
def served(database_url, engine, demo_streets, tmp_path_factory):
    photo_dir = tmp_path_factory.mktemp("photos")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIS_APP_PHOTO_DIR", str(photo_dir))
        with engine.begin() as conn:
            accounts = Accounts(conn)
            tokens = {
                "office": accounts.token("conc.office", "district_officer"),
                "street": accounts.token("conc.dazhigu", "street_officer", DZG),
                "street2": accounts.token("conc.dazhigu2", "inspector", DZG),
            }
        with serve_app(database_url, engine) as url:
            yield url, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}, photo_dir


def _new_site(engine, code: str) -> int:
    with Session(engine) as s, s.begin():
        site = create_site(s, site_payload(code=code), Actor("conc.office", "district_officer"))
        return site.id


def _photo(url: str, site_id: int, data: bytes, headers: dict, key: str | None, kind="before"):
    h = dict(headers)
    if key is not None:
        h["Idempotency-Key"] = key
    return requests.post(
        f"{url}/api/v1/sites/{site_id}/photos",
        files={"file": ("p.jpg", data, "image/jpeg")},
        data={"kind": kind},
        headers=h,
        timeout=TIMEOUT,
    )


def _photo_rows(engine, site_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM photos WHERE site_id = :id"), {"id": site_id}
        ).scalar_one()


def test_a_retried_upload_with_the_same_key_stores_one_photo(served, engine) -> None:
    url, headers, _ = served
    site_id = _new_site(engine, "CC-0002")
    data = image_bytes((10, 200, 30))
    first = _photo(url, site_id, data, headers["street"], "retry-0001")
    again = _photo(url, site_id, data, headers["street"], "retry-0001")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content  # the same answer, byte for byte
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _photo_rows(engine, site_id) == 1
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT count(*) FROM site_events WHERE site_id = :id AND action = 'photo'"),
            {"id": site_id},
        ).scalar_one()
    assert events == 1

    # the same key with another body: refused, nothing stored
    other = _photo(url, site_id, image_bytes((200, 10, 30)), headers["street"], "retry-0001")
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key" and "另一个请求" in other.json()["message"]
    assert _photo_rows(engine, site_id) == 1
    # the key is the user's own: another user's same key is another request
    mine = _photo(url, site_id, image_bytes((90, 90, 30)), headers["street2"], "retry-0001")
    assert mine.status_code == 201 and _photo_rows(engine, site_id) == 2
    # a malformed key
    bad = _photo(url, site_id, data, headers["street"], "key with spaces")
    assert bad.status_code == 422 and bad.json()["field"] == "Idempotency-Key"


def test_racing_copies_with_the_same_key_store_one_photo_and_get_one_answer(served, engine) -> None:
    url, headers, _ = served
    site_id = _new_site(engine, "CC-0003")
    data = image_bytes((120, 120, 200))
    copies = 8
    barrier = threading.Barrier(copies)

    def send(_: int) -> requests.Response:
        barrier.wait()
        return _photo(url, site_id, data, headers["street"], "race-0001")

    with ThreadPoolExecutor(copies) as pool:
        answers = list(pool.map(send, range(copies)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.content for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == copies - 1
    assert _photo_rows(engine, site_id) == 1


def test_an_expired_key_may_be_used_again(served, engine) -> None:
    url, headers, _ = served
    site_id = _new_site(engine, "CC-0004")
    assert _photo(url, site_id, image_bytes((1, 2, 3)), headers["street"], "old").status_code == 201
    with engine.begin() as conn:
        conn.execute(text("UPDATE idempotency_keys SET expires_at = created_at WHERE key = 'old'"))
    later = _photo(url, site_id, image_bytes((4, 5, 6)), headers["street"], "old")
    assert later.status_code == 201 and _photo_rows(engine, site_id) == 2
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT count(*) FROM idempotency_keys WHERE key = 'old'"))
        assert keys.scalar_one() == 1
