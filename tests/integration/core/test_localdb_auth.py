"""The project-local PostgreSQL lets no one in without a password (issue 16, point 1).

Before, initdb --auth=trust let any local OS user (even `nobody`) connect as the superuser.
Now every role authenticates by SCRAM with a generated password kept in the cluster folder's
`pgpass` (mode 0600), the URLs name that file, and a cluster made with trust is converted on
its next start.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

from gis_app.core.db_security import app_role
from gis_app.core.localdb import (
    LocalCluster,
    hba_trusts,
    read_passwords,
    run_as,
    secure_cluster,
)
from gis_app.settings import app_database_url
from tests.support.faults import scratch_cluster

pytestmark = pytest.mark.slow


def _no_password(port: int, user: str, host: str = "127.0.0.1") -> str | None:
    """Connect without any password (an empty password file); the error, or None if let in."""
    with tempfile.NamedTemporaryFile("w") as empty:
        try:
            conn = psycopg2.connect(
                host=host, port=port, user=user, dbname="postgres", passfile=empty.name
            )
        except psycopg2.OperationalError as exc:
            return str(exc)
    conn.close()
    return None


def _as_nobody(bindir: Path, port: int, user: str, host: str) -> tuple[int, str]:
    """psql as the OS user nobody (no password: -w never prompts)."""
    psql = [str(bindir / "psql"), "-w", "-h", host, "-p", str(port), "-U", user]
    result = run_as(
        "nobody",
        [*psql, "-d", "postgres", "-c", "SELECT 1"],
        env={"PATH": "/usr/bin:/bin", "PGPASSFILE": "/nonexistent"},
    )
    return result.returncode, result.stderr


@contextmanager
def _trust_cluster() -> Iterator[tuple[LocalCluster, Path, int]]:
    """A new cluster as initdb leaves it (trust) with the app's role: what an older project
    cluster looks like before its next start."""
    with scratch_cluster() as scratch:
        (scratch.home / "port").write_text(f"{scratch.port}\n")
        if os.geteuid() == 0:
            os.chown(scratch.home / "port", *_ids(scratch.owner))
        conn = psycopg2.connect(
            host="127.0.0.1", port=scratch.port, user=scratch.owner, dbname="postgres"
        )
        conn.autocommit = True
        conn.cursor().execute(f"CREATE ROLE {app_role()} LOGIN")
        conn.close()
        yield LocalCluster(scratch.home, scratch.owner), scratch.bindir, scratch.port


@pytest.mark.skipif(os.geteuid() != 0, reason="runs psql as nobody")
def test_a_secured_cluster_refuses_connections_without_the_password() -> None:
    """The project cluster's start-up step (secure_cluster), run on a cluster of its own: the
    suite may run on a DATABASE_URL elsewhere, this test never depends on it."""
    with _trust_cluster() as (cluster, bindir, port):
        secure_cluster(cluster, bindir)
        assert not hba_trusts(cluster)
        mode = stat.S_IMODE(cluster.passfile.stat().st_mode)
        assert mode == 0o600, oct(mode)
        passwords = read_passwords(cluster.passfile)
        assert {cluster.owner, app_role()} <= set(passwords)
        assert passwords[cluster.owner] != passwords[app_role()]
        # without the password: refused, the superuser and the app's role alike
        for role in (cluster.owner, app_role()):
            error = _no_password(port, role)
            assert error is not None and "password" in error, error
            error = _no_password(port, role, host=str(cluster.home))  # the socket
            assert error is not None, f"{role} let in on the socket without a password"
        # another OS user: refused on TCP (no password) and cannot even reach the socket
        code, err = _as_nobody(bindir, port, cluster.owner, "127.0.0.1")
        assert code != 0 and "password" in err, err
        code, err = _as_nobody(bindir, port, cluster.owner, str(cluster.home))
        assert code != 0, err
        # the cluster's URLs carry the password file: they work with no extra step
        url = cluster.url("postgres")
        assert "passfile=" in url
        for each in (url, app_database_url(url)):
            psycopg2.connect(each).close()


def test_a_trust_cluster_is_converted_on_its_next_start() -> None:
    with _trust_cluster() as (cluster, bindir, port):
        assert hba_trusts(cluster)
        assert _no_password(port, cluster.owner) is None  # trust: anyone is let in

        secure_cluster(cluster, bindir)

        assert not hba_trusts(cluster)
        for role in (cluster.owner, app_role()):
            assert _no_password(port, role) is not None, f"{role} still let in"
            conn = psycopg2.connect(
                host="127.0.0.1",
                port=port,
                user=role,
                dbname="postgres",
                passfile=str(cluster.passfile),
            )
            conn.close()
        assert stat.S_IMODE(cluster.passfile.stat().st_mode) == 0o600
        secure_cluster(cluster, bindir)  # a second start changes nothing
        assert read_passwords(cluster.passfile).keys() == {cluster.owner, app_role()}


def _ids(user: str) -> tuple[int, int]:
    import pwd

    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid
