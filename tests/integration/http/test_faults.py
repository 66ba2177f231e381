"""Faults: an import killed half-way (the CLI by SIGKILL, the API upload by losing its
database connection) leaves nothing behind; the database restarted under load: requests
during the outage get 503 with a Chinese message, the app reconnects by itself, and no
request writes half a change (an edit and its history event are both there or neither).

Counts (faults injected, rows lost) are printed: `pytest -s` shows them.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.core.database import sqlalchemy_url
from tests.support.accounts import Accounts
from tests.support.faults import scratch_cluster
from tests.support.live import serve_app
from tests.support.sites import site_payload

pytestmark = pytest.mark.slow
ROWS = 30_000
TIMEOUT = 180  # a safety net, not a timing: a loaded machine starts the import late


def _ledger(path: Path, prefix: str, rows: int = ROWS) -> Path:
    rnd = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["编号", "地址", "经度", "纬度", "治理方式", "备注"])
        for i in range(rows):
            w.writerow(
                [
                    f"{prefix}-{i:06d}",
                    f"大直沽测试路{i}号",
                    f"{117.2381 + rnd.uniform(-0.002, 0.002):.6f}",
                    f"{39.11 + rnd.uniform(-0.002, 0.002):.6f}",
                    "拆除",
                    "x" * 40,
                ]
            )
    return path


def _counts(engine, prefix: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            "sites": conn.execute(
                text("SELECT count(*) FROM sites WHERE code LIKE :p"), {"p": f"{prefix}-%"}
            ).scalar_one(),
            "events": conn.execute(
                text(
                    "SELECT count(*) FROM site_events e JOIN sites s ON s.id = e.site_id "
                    "WHERE s.code LIKE :p"
                ),
                {"p": f"{prefix}-%"},
            ).scalar_one(),
            "batches": conn.execute(
                text("SELECT count(*) FROM import_batches WHERE filename LIKE :p"),
                {"p": f"{prefix}%"},
            ).scalar_one(),
            # the import's rows in the audit trail (a token's last use may be audited meanwhile)
            "audit": conn.execute(
                text(
                    "SELECT count(*) FROM audit.events WHERE table_name IN "
                    "('sites', 'site_events', 'import_batches')"
                )
            ).scalar_one(),
        }


def _writer_pid(engine) -> int | None:
    """The backend holding a write lock on `sites` (an import that has started inserting)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'sites' AND l.mode = 'RowExclusiveLock' "
                "AND l.pid <> pg_backend_pid() LIMIT 1"
            )
        ).scalar()


def _sequence(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT last_value FROM sites_id_seq")).scalar_one()


def _wait_gone(engine, pid: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    with engine.connect() as conn:
        while conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar_one():
            assert time.monotonic() < deadline, "the killed import's backend is still there"
            time.sleep(0.05)
            conn.rollback()


def _wait_writing(engine, seq0: int, alive) -> int:
    """Wait until an import holds a write lock on sites and has inserted rows (the id
    sequence moved past seq0, which no rollback undoes); its backend's pid."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        assert alive(), "the import ended before it was killed"
        assert time.monotonic() < deadline, "the import never started writing"
        pid = _writer_pid(engine)
        if pid is not None and _sequence(engine) > seq0:
            return pid
        time.sleep(0.02)


def test_an_import_killed_half_way_leaves_nothing(database_url, engine, demo_streets, tmp_path):
    ledger = _ledger(tmp_path / "KILLCLI.csv", "KILLCLI")
    before = _counts(engine, "KILLCLI")
    seq0 = _sequence(engine)
    env = {**os.environ, "DATABASE_URL": database_url, "GIS_APP_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gis-app"), "import-sites", str(ledger)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pid = _wait_writing(engine, seq0, lambda: proc.poll() is None)
        time.sleep(0.1)  # into the insert
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(TIMEOUT) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()

    _wait_gone(engine, pid)
    assert _sequence(engine) > seq0  # it had written rows...
    assert _counts(engine, "KILLCLI") == before  # ...and none of them is left, nor audited
    print(f"\nfault: import-sites SIGKILLed after {_sequence(engine) - seq0} rows, 0 left")


def test_an_api_import_whose_connection_dies_leaves_nothing(
    database_url, engine, demo_streets, tmp_path
):
    ledger = _ledger(tmp_path / "KILLAPI.csv", "KILLAPI")
    with engine.begin() as conn:
        token = Accounts(conn).token("fault.office", "district_officer")
    with serve_app(database_url, engine) as url:
        before = _counts(engine, "KILLAPI")
        seq0 = _sequence(engine)
        answer: dict[str, requests.Response] = {}

        def upload() -> None:
            with ledger.open("rb") as f:
                answer["r"] = requests.post(
                    f"{url}/api/v1/sites/import",
                    files={"file": (ledger.name, f, "text/csv")},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=TIMEOUT,
                )

        thread = threading.Thread(target=upload)
        thread.start()
        pid = _wait_writing(engine, seq0, thread.is_alive)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        thread.join(TIMEOUT)
        _wait_gone(engine, pid)
        response = answer["r"]
        assert response.status_code == 503, response.text[:300]
        assert "数据库暂时不可用" in response.json()["message"]
        assert response.headers["Retry-After"]
        assert _counts(engine, "KILLAPI") == before
        # the app is not stuck on the dead connection
        r = requests.get(
            f"{url}/api/v1/sites/counts",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )
        assert r.status_code == 200


# ---------------------------------------------------------------- restart under load


@pytest.fixture(scope="module")
def fault_db():
    """Its own PostgreSQL cluster, migrated, with the demo streets: (url, owner engine)."""
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import ensure_database
    from gis_app.demo.loader import STREETS_FILE, ensure_district_outline
    from gis_app.features.streets.service import import_streets

    with scratch_cluster() as cluster:
        url = cluster.url()
        ensure_database(url)
        dbmod.upgrade(url)
        eng = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
        with Session(eng) as s, s.begin():
            ensure_district_outline(s)
            import_streets(s, STREETS_FILE, approximate=True)
        try:
            yield cluster, url, eng
        finally:
            eng.dispose()


WORKERS = 6


def _wait_for(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the load to get there"
        time.sleep(0.05)


def test_database_restarted_under_load(fault_db) -> None:
    cluster, url, engine = fault_db
    from gis_app.features.ledger.service import create_site

    with engine.begin() as conn:
        token = Accounts(conn).token("fault.office", "district_officer")
    headers = {"Authorization": f"Bearer {token}"}
    with Session(engine) as s, s.begin():
        site_id = create_site(
            s, site_payload(code="FAULT-1"), Actor("fault.office", "district_officer")
        ).id
    statuses: Counter[int] = Counter()
    acknowledged: list[str] = []  # notes of edits answered 200
    outage_bodies: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n: int, base: str) -> None:
        http = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            try:
                got = http.get(f"{base}/api/v1/sites/{site_id}", headers=headers, timeout=TIMEOUT)
                results = [got]
                if got.status_code == 200:
                    note = f"w{n}-{i}"
                    version = got.json()["properties"]["version"]
                    edit = http.patch(
                        f"{base}/api/v1/sites/{site_id}",
                        json={"version": version, "note": note, "reason": "负载"},
                        headers=headers,
                        timeout=TIMEOUT,
                    )
                    results.append(edit)
                    if edit.status_code == 200:
                        with lock:
                            acknowledged.append(note)
                page = http.get(
                    f"{base}/sites/{site_id}",
                    headers={**headers, "Accept": "text/html"},
                    timeout=TIMEOUT,
                )
                results.append(page)
            except requests.RequestException as exc:  # the app itself must stay up
                pytest.fail(f"request failed outright: {exc}")
            with lock:
                for r in results:
                    statuses[r.status_code] += 1
                    if r.status_code == 503:
                        outage_bodies.append((r.headers.get("Content-Type", ""), r.text))

    with serve_app(url, engine) as base:
        threads = [threading.Thread(target=worker, args=(n, base)) for n in range(WORKERS)]
        for t in threads:
            t.start()
        _wait_for(lambda: statuses[200] >= WORKERS)
        ok_before = statuses[200]
        cluster.stop()  # fast shutdown: open connections are cut, new ones refused
        _wait_for(lambda: statuses[503] >= WORKERS)
        down_503 = statuses[503]
        cluster.start()
        ok_restarted = statuses[200]
        _wait_for(lambda: statuses[200] >= ok_restarted + 3 * WORKERS)
        stop.set()
        for t in threads:
            t.join(TIMEOUT)
        # after the restart the app answers normally again
        after = requests.get(f"{base}/api/v1/sites/{site_id}", headers=headers, timeout=TIMEOUT)
        assert after.status_code == 200
        with engine.connect() as conn:
            version = conn.execute(
                text("SELECT version FROM sites WHERE id = :id"), {"id": site_id}
            ).scalar_one()
            notes = [
                n
                for (n,) in conn.execute(
                    text(
                        "SELECT changes->'note'->>1 FROM site_events "
                        "WHERE site_id = :id AND action = 'update' ORDER BY id"
                    ),
                    {"id": site_id},
                )
            ]
    print(
        f"\nfault: database stopped and started under load ({WORKERS} clients): "
        f"answers {dict(statuses)}, {len(acknowledged)} edits acknowledged, "
        f"{len(notes)} in the history, lost {len(set(acknowledged) - set(notes))}"
    )
    assert ok_before > 0 and down_503 > 0
    assert statuses[500] == 0, statuses
    assert set(statuses) <= {200, 409, 503}, statuses
    for content_type, body in outage_bodies:
        assert "数据库暂时不可用" in body, body[:300]
        assert content_type.startswith(("application/json", "text/html")), content_type
    assert any(ct.startswith("text/html") for ct, _ in outage_bodies)
    # every acknowledged edit is in the history, and every edit in the history moved the
    # version by one: no edit without its event, no event without its edit
    assert set(acknowledged) <= set(notes)
    assert version == 1 + len(notes)
    assert statuses[200] > ok_before  # it went on after the restart
