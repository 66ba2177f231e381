"""A throw-away PostgreSQL cluster of its own for fault tests (restarting it disturbs no
other test): initdb into a temporary folder as the unprivileged cluster owner, as
gis_app/core/localdb.py does for the project's cluster, on a free port, with PostGIS, the app's
role, the migrations and the demo streets. Stopped and deleted afterwards."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gis_app.core.localdb import SERVICE_USER, free_port, pg_bindir, run_as


@dataclass
class ScratchCluster:
    home: Path
    owner: str
    port: int
    bindir: Path

    @property
    def data(self) -> Path:
        return self.home / "data"

    def url(self, dbname: str = "gis_fault") -> str:
        return f"postgresql://{self.owner}@127.0.0.1:{self.port}/{dbname}"

    def pg_ctl(self, *args: str) -> None:
        result = run_as(
            self.owner,
            [
                str(self.bindir / "pg_ctl"),
                *args,
                "-D",
                str(self.data),
                "-l",
                str(self.home / "postgres.log"),
            ],
        )
        if result.returncode != 0:
            log = (self.home / "postgres.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl {args}: {result.stderr}\n{log}")

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast", "-w")

    def start(self) -> None:
        self.pg_ctl("start", "-w", "-t", "60")


@contextmanager
def scratch_cluster(extra_conf: str = "") -> Iterator[ScratchCluster]:
    """`extra_conf`: postgresql.conf lines for its first start (archiving, replication)."""
    bindir = pg_bindir()
    owner = SERVICE_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    home = Path(tempfile.mkdtemp(prefix="gis-fault-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam(owner)
        os.chown(home, pw.pw_uid, pw.pw_gid)
    os.chmod(home, 0o700)
    # each process starts its search elsewhere: two xdist workers setting up a cluster at the
    # same moment would otherwise both find the same port free
    cluster = ScratchCluster(home, owner, free_port(56900 + (os.getpid() % 40) * 5), bindir)
    try:
        result = run_as(
            owner,
            [
                str(bindir / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                owner,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        )
        assert result.returncode == 0, result.stderr
        with (cluster.data / "postgresql.conf").open("a") as f:
            f.write(
                f"port = {cluster.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{home}'\ntimezone = 'UTC'\nfsync = off\n"
                "max_connections = 100\nshared_buffers = 32MB\n" + extra_conf
            )
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.pg_ctl("stop", "-m", "immediate", "-w")
        shutil.rmtree(home, ignore_errors=True)
