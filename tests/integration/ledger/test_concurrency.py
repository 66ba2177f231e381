"""Concurrency against a real served app (threads, real commits): 50 parallel edits of one
site carrying the version the user saw (one wins, 49 get 409, no update lost), and photo
uploads retried with the same `Idempotency-Key` (one photo, the same answer, also when the
copies race each other)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.features.ledger.service import create_site
from tests.support.accounts import Accounts
from tests.support.live import serve_app
from tests.support.sites import site_payload
from tests.support.workflow import DZG

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


def test_fifty_parallel_edits_one_wins_the_rest_get_409(served, engine) -> None:
    url, headers, _ = served
    site_id = _new_site(engine, "CC-0001")
    seen = requests.get(f"{url}/api/v1/sites/{site_id}", headers=headers["office"], timeout=TIMEOUT)
    version = seen.json()["properties"]["version"]
    barrier = threading.Barrier(EDITORS)

    def edit(i: int) -> tuple[int, int, dict[str, Any]]:
        with requests.Session() as http:
            barrier.wait()
            r = http.patch(
                f"{url}/api/v1/sites/{site_id}",
                json={
                    "version": version,
                    "note": f"editor-{i}",
                    "area_m2": 10 + i,
                    "reason": f"第 {i} 人修改",
                },
                headers=headers["office"],
                timeout=TIMEOUT,
            )
            return i, r.status_code, r.json()

    with ThreadPoolExecutor(EDITORS) as pool:
        results = list(pool.map(edit, range(EDITORS)))
    statuses = sorted(status for _, status, _ in results)
    assert statuses == [200] + [409] * (EDITORS - 1), statuses
    winner = next(i for i, status, _ in results if status == 200)
    for _, status, body in results:
        if status == 409:
            assert body["field"] == "version" and "已被他人修改" in body["message"]
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT note, area_m2, version FROM sites WHERE id = :id"), {"id": site_id}
        ).one()
        updates = conn.execute(
            text("SELECT count(*) FROM site_events WHERE site_id = :id AND action = 'update'"),
            {"id": site_id},
        ).scalar_one()
    assert row.note == f"editor-{winner}" and float(row.area_m2) == 10 + winner
    assert row.version == version + 1
    assert updates == 1  # one change, one history event: no lost and no phantom update


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
