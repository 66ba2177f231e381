"""A streaming replica on a second port: read-only work is served from it while its lag is
within the bound and from the primary beyond it; then, under continuous writes through the
API, the primary is killed (kill -9), the replica promoted and the app switched to it (the
TCP proxy standing for the database's address is pointed at the replica): every write the app
had acknowledged is there (synchronous replication). The figures are printed."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.core.database import sqlalchemy_url
from gis_app.core.localdb import free_port, run_as
from gis_app.settings import app_database_url
from tests.support.accounts import Accounts
from tests.support.faults import scratch_cluster
from tests.support.live import serve_app
from tests.support.sites import site_payload
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow
WRITERS = 4
TIMEOUT = 20


class Standby:
    """A replica of `primary` made by pg_basebackup -R, on a port of its own."""

    def __init__(self, primary, max_lag_owner: str) -> None:
        self.owner = max_lag_owner
        self.bindir = primary.bindir
        self.home = Path(tempfile.mkdtemp(prefix="gis-replica-pg-", dir="/tmp"))
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam(self.owner)
            os.chown(self.home, pw.pw_uid, pw.pw_gid)
        os.chmod(self.home, 0o700)
        self.port = free_port(57100)
        result = run_as(
            self.owner,
            [
                str(self.bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                "-U", self.owner, "-D", str(self.home / "data"), "-R", "-X", "stream",
                "-c", "fast", "--no-sync",
            ],
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        self.pg_ctl(
            "start", "-w", "-t", "60", "-o",
            f"-c port={self.port} -c unix_socket_directories={self.home} "
            "-c cluster_name=replica1 -c hot_standby=on",
        )  # fmt: skip

    def pg_ctl(self, *args: str) -> None:
        result = run_as(
            self.owner,
            [str(self.bindir / "pg_ctl"), *args, "-D", str(self.home / "data"),
             "-l", str(self.home / "postgres.log")],
        )  # fmt: skip
        assert result.returncode == 0, (result.stderr, self.log_tail())

    def log_tail(self) -> str:
        log = self.home / "postgres.log"
        return log.read_text(errors="replace")[-1500:] if log.exists() else ""

    def url(self, dbname: str = "gis_fault") -> str:
        return f"postgresql://{self.owner}@127.0.0.1:{self.port}/{dbname}"

    def remove(self) -> None:
        if (self.home / "data" / "postmaster.pid").exists():
            run_as(
                self.owner,
                [str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-w",
                 "-D", str(self.home / "data")],
            )  # fmt: skip
        shutil.rmtree(self.home, ignore_errors=True)


def _prepare_primary(cluster) -> None:
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import ensure_database
    from gis_app.demo.loader import STREETS_FILE, ensure_district_outline
    from gis_app.features.streets.service import import_streets

    url = cluster.url()
    ensure_database(url)
    dbmod.upgrade(url)
    eng = create_engine(sqlalchemy_url(url))
    with Session(eng) as s, s.begin():
        ensure_district_outline(s)
        import_streets(s, STREETS_FILE, approximate=True)
    eng.dispose()


def _sql(url: str, statement: str, autocommit: bool = True):
    eng = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT" if autocommit else None)
    try:
        with eng.connect() as conn:
            result = conn.execute(text(statement))
            return result.all() if result.returns_rows else None
    finally:
        eng.dispose()


def _wait(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_reads_from_the_replica_and_failover_without_losing_an_acknowledged_write(
    monkeypatch,
):
    with scratch_cluster() as primary:
        _prepare_primary(primary)
        with create_engine(sqlalchemy_url(primary.url())).begin() as conn:
            token = Accounts(conn).token("failover.office", "district_officer")
        standby = Standby(primary, primary.owner)
        try:
            # synchronous: a commit returns once the replica has the WAL on its disk
            _sql(primary.url(), "ALTER SYSTEM SET synchronous_standby_names = 'replica1'")
            _sql(primary.url(), "SELECT pg_reload_conf()")
            _wait(
                lambda: _sql(
                    primary.url(),
                    "SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'",
                )
            )
            proxy = TcpProxy(primary.port)  # the database's address, as the app knows it
            proxy.start()
            db_url = f"postgresql://{primary.owner}@127.0.0.1:{proxy.port}/gis_fault"
            monkeypatch.setenv("GIS_APP_REPLICA_DATABASE_URL", app_database_url(standby.url()))
            monkeypatch.setenv("GIS_APP_REPLICA_MAX_LAG_SECONDS", "1")
            admin = create_engine(sqlalchemy_url(db_url), pool_pre_ping=True)
            try:
                with serve_app(db_url, admin) as base:
                    _reads_follow_the_lag(base, token, standby)
                    _failover(base, token, primary, standby, proxy)
            finally:
                admin.dispose()
                proxy.stop()
        finally:
            standby.remove()


def _get(base: str, path: str, token: str) -> requests.Response:
    return requests.get(
        f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )


def _post_site(base: str, token: str, code: str) -> requests.Response:
    return requests.post(
        f"{base}/api/v1/sites",
        json=site_payload(code=code),
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )


def _reads_follow_the_lag(base: str, token: str, standby: Standby) -> None:
    assert _post_site(base, token, "R-0001").status_code == 201
    time.sleep(2.1)  # the lag reading is cached for 2 s
    counts = _get(base, "/api/v1/sites/counts", token)
    assert counts.status_code == 200 and counts.headers["X-Served-By"] == "replica"
    tile = _get(base, "/tiles/sites/14/13499/6215.mvt", token)
    assert tile.status_code in (200, 204) and tile.headers["X-Served-By"] == "replica"
    listed = _get(base, "/api/v1/sites", token)
    assert listed.headers["X-Served-By"] == "replica"
    assert "R-0001" in listed.text
    office = _get(base, "/ops/status", token)
    assert office.status_code == 200 and "副本延迟" in office.text and "上限 1 秒" in office.text
    # a write or a page that is not read-only work: the primary, always
    assert "X-Served-By" not in _get(base, "/api/v1/streets", token).headers

    # replay paused: the replica falls behind; past 1 s the primary answers, with the new row
    _sql(standby.url(), "SELECT pg_wal_replay_pause()")
    try:
        assert _post_site(base, token, "R-0002").status_code == 201
        time.sleep(2.5)
        behind = _get(base, "/api/v1/sites", token)
        assert behind.headers["X-Served-By"] == "primary" and "R-0002" in behind.text
        ready = _get(base, "/readyz", token).json()
        assert ready["status"] == "ready" and not ready["checks"]["replica"]["ok"]
        assert ready["checks"]["replica"]["required"] is False
    finally:
        _sql(standby.url(), "SELECT pg_wal_replay_resume()")
    time.sleep(2.1)
    caught_up = _get(base, "/api/v1/sites", token)
    assert caught_up.headers["X-Served-By"] == "replica" and "R-0002" in caught_up.text


def _failover(base: str, token: str, primary, standby: Standby, proxy: TcpProxy) -> None:
    acked: list[tuple[str, float, float]] = []  # (code, request sent, answer received)
    failed: list[float] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            code = f"F{n}-{i:05d}"
            i += 1
            sent = time.monotonic()
            try:
                r = _post_site(base, token, code)
            except requests.RequestException:
                failed.append(time.monotonic())
                continue
            if r.status_code == 201:
                acked.append((code, sent, time.monotonic()))
            else:
                failed.append(time.monotonic())
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        _wait(lambda: len(acked) >= 40, timeout=120)
        pid = int((primary.data / "postmaster.pid").read_text().split()[0])
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        acked_before = len(acked)
        standby.pg_ctl("promote", "-w", "-t", "60")
        proxy.switch(standby.port)
        switched_at = time.monotonic()
        _wait(lambda: any(at > switched_at for _c, at, _d in acked), timeout=120)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    (primary.data / "postmaster.pid").unlink(missing_ok=True)  # killed: nothing to stop
    # the first answer to a write sent after the kill: the app serves again
    served_again = min(done for _c, at, done in acked if at > killed_at) - killed_at
    rows = _sql(standby.url(), "SELECT code FROM sites WHERE code LIKE 'F%'")
    present = {r[0] for r in rows}
    codes = {c for c, _at, _done in acked}
    lost = codes - present
    print(
        f"\n[failover] acknowledged {len(codes)} writes ({acked_before} before the kill), "
        f"lost {len(lost)}, refused or cut {len(failed)}; a write sent "
        f"after kill -9 acknowledged again {served_again:.2f} s after it "
        f"(promote + switch {switched_at - killed_at:.1f} s)"
    )
    assert lost == set()
    assert _sql(standby.url(), "SELECT pg_is_in_recovery()")[0][0] is False
