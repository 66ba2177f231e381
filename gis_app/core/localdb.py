"""Bring up the PostGIS database the app uses: the one in DATABASE_URL, or a project-local cluster.

Run by `make run` / `make test` before anything else touches the database:

    python -m gis_app.core.localdb url          # the app's DATABASE_URL (starting what is needed)
    python -m gis_app.core.localdb url --test   # the same for the test database (<name>_test)
    python -m gis_app.core.localdb stop         # stop the project-local cluster

PostgreSQL refuses to run as root, so when root runs this the local cluster belongs to the
unprivileged system user `gisapp` and lives under /var/lib/gis-app (a project path below a
private temporary folder would not be reachable for that user); `.pgdata` in the project points
there. A non-root user gets the cluster in `.pgdata` itself.

Nothing logs in by trust: every role authenticates with a password (scram-sha-256), on the
socket (in the cluster's 0700 folder) and on 127.0.0.1/::1 alike. The passwords are generated
and kept in the cluster folder's `pgpass` (mode 0600, libpq's password-file format: the
superuser, the app's role); the URLs this module prints name that file
(`?passfile=…`), so `make run`, `make test` and every `gis-app` command find them with no step
of their own, and no password ever appears on a command line or in a URL. A cluster made
before (initdb --auth=trust) is converted on its next start: passwords set, pg_hba.conf
rewritten, configuration reloaded.
"""

from __future__ import annotations

import argparse
import getpass
import glob
import hashlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICE_USER = "gisapp"
DB_NAME = "gis_app"
ROOT_CLUSTERS = Path("/var/lib/gis-app")


PASSFILE_NAME = "pgpass"
#: the advisory lock key of role changes (any fixed number; "gisrole" in ASCII)
ROLES_LOCK = 0x676973726F6C65
PASSFILE_HEADER = "# passwords of the project-local cluster (gis_app.core.localdb); keep private\n"
#: pg_hba.conf of the local cluster: a password for every role, on the socket and on loopback
HBA = """# written by gis_app.core.localdb: every role authenticates with its password (no trust)
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  scram-sha-256
host    all          all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
local   replication  all                  scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    replication  all   ::1/128        scram-sha-256
"""


class SetupError(RuntimeError):
    """A set-up step failed; the message says what to do."""


def _log(msg: str) -> None:
    print(f"[db] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the project-local cluster


@dataclass(frozen=True)
class LocalCluster:
    home: Path  # holds data/, port, the log and the socket
    owner: str  # OS user the server runs as

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    @property
    def port_file(self) -> Path:
        return self.home / "port"

    @property
    def passfile(self) -> Path:
        """The roles' passwords (libpq's password-file format, mode 0600)."""
        return self.home / PASSFILE_NAME

    def port(self) -> int:
        return int(self.port_file.read_text().strip())

    def url(self, dbname: str = DB_NAME) -> str:
        """The superuser's URL; it names the password file (once the cluster has one)."""
        url = f"postgresql://{self.owner}@127.0.0.1:{self.port()}/{dbname}"
        if self.passfile.exists():
            url += "?passfile=" + quote(str(self.passfile), safe="/")
        return url


def local_cluster(project_root: Path = PROJECT_ROOT) -> LocalCluster:
    """Where this project's own cluster lives (it may not exist yet)."""
    if os.geteuid() == 0:
        key = hashlib.sha1(str(project_root).encode()).hexdigest()[:12]
        return LocalCluster(ROOT_CLUSTERS / f"pg-{key}", SERVICE_USER)
    return LocalCluster(project_root / ".pgdata", getpass.getuser())


def existing_local_url(project_root: Path = PROJECT_ROOT) -> str | None:
    """The URL of the local cluster if one was set up, else None (no side effects)."""
    cluster = local_cluster(project_root)
    try:
        return cluster.url()
    except (OSError, ValueError):
        return None


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server that also has PostGIS installed."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
        reverse=True,
    )
    for initdb in candidates:
        version = Path(initdb).parent.parent.name
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(initdb).parent
    if candidates:
        raise SetupError(
            "已安装 PostgreSQL 但缺少 PostGIS：请以 root 运行 "
            "`apt-get install postgresql-15-postgis-3`（或 `make run` 会自动安装）。"
        )
    raise SetupError(
        "没有找到 PostgreSQL 服务器程序：请以 root 运行 "
        "`apt-get install postgresql-15 postgresql-15-postgis-3`，或设置 DATABASE_URL。"
    )


def run_as(owner: str, args: list[str], **kw: Any) -> subprocess.CompletedProcess:
    """Run a server program as the cluster owner (dropping root if needed)."""
    if os.geteuid() == 0 and owner != "root":
        pw = pwd.getpwnam(owner)
        kw.setdefault("user", pw.pw_uid)
        kw.setdefault("group", pw.pw_gid)
        kw.setdefault("extra_groups", [])
        kw.setdefault("cwd", "/")
    return subprocess.run(args, check=False, capture_output=True, text=True, **kw)


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
        return
    except KeyError:
        pass
    _log(f"creating the unprivileged system user {SERVICE_USER!r} to own the local cluster")
    ROOT_CLUSTERS.mkdir(parents=True, exist_ok=True)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    subprocess.run(
        [
            useradd,
            "--system",
            "--home-dir",
            str(ROOT_CLUSTERS),
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SERVICE_USER,
        ],
        check=True,
    )


def free_port(start: int) -> int:
    for port in range(start, start + 200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SetupError(f"端口 {start}–{start + 199} 都被占用：请设置 DATABASE_URL 指向已有的数据库。")


# the planner's costs for solid-state disks and an 8 GiB page cache: with the default
# random_page_cost (4, for spinning disks) PostgreSQL walks the whole primary key of a city's
# sites for a district's list page instead of reading ix_sites_district_id
# (docs/operations/scaling.md)
PLANNER_SETTINGS = "random_page_cost = 1.1\neffective_cache_size = 8GB\n"


def _initdb(cluster: LocalCluster, bindir: Path) -> None:
    if os.geteuid() == 0:
        _ensure_service_user()
        cluster.home.mkdir(parents=True, exist_ok=True)
        pw = pwd.getpwnam(cluster.owner)
        os.chown(ROOT_CLUSTERS, 0, 0)
        os.chmod(ROOT_CLUSTERS, 0o755)
        os.chown(cluster.home, pw.pw_uid, pw.pw_gid)
        os.chmod(cluster.home, 0o700)
        link = PROJECT_ROOT / ".pgdata"
        if not link.exists() and not link.is_symlink():
            link.symlink_to(cluster.home)
    else:
        cluster.home.mkdir(parents=True, exist_ok=True)
        os.chmod(cluster.home, 0o700)
    seed = int(hashlib.sha1(str(PROJECT_ROOT).encode()).hexdigest(), 16) % 400
    port = free_port(55432 + seed)
    _log(
        f"initialising a PostgreSQL cluster in {cluster.data} (port {port}, owner {cluster.owner})"
    )
    # the superuser's password, handed to initdb in a file only the owner reads
    password = role_password(cluster, cluster.owner)
    pwfile = cluster.home / "initdb-password"
    _write_private(pwfile, password + "\n", owner=cluster.owner)
    try:
        result = run_as(
            cluster.owner,
            [
                str(bindir / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                cluster.owner,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise SetupError(f"initdb 失败：{result.stderr.strip()}")
    _write_hba(cluster)
    conf = cluster.data / "postgresql.conf"
    with conf.open("a") as f:
        f.write(
            "\n# set by gis_app.core.localdb\n"
            f"port = {port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{cluster.home}'\n"
            "timezone = 'UTC'\n"
            "max_connections = 300\n"
            "shared_buffers = 256MB\n"
            "fsync = on\n"
        )
        f.write(PLANNER_SETTINGS)
    # written last: a cluster directory with a port file is a finished one
    port_file = cluster.port_file
    port_file.write_text(f"{port}\n")
    if os.geteuid() == 0:
        pw = pwd.getpwnam(cluster.owner)
        os.chown(port_file, pw.pw_uid, pw.pw_gid)


def _is_running(cluster: LocalCluster, bindir: Path) -> bool:
    result = run_as(cluster.owner, [str(bindir / "pg_ctl"), "status", "-D", str(cluster.data)])
    return result.returncode == 0


def ensure_local_cluster() -> LocalCluster:
    """Create (once) and start (if stopped) the project's own cluster."""
    cluster = local_cluster()
    bindir = pg_bindir()
    if not cluster.port_file.exists():
        if cluster.data.exists():  # an initdb that died half-way: start over
            shutil.rmtree(cluster.data)
        _initdb(cluster, bindir)
    if not _is_running(cluster, bindir):
        _log(f"starting the local PostgreSQL on 127.0.0.1:{cluster.port()}")
        result = run_as(
            cluster.owner,
            [
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(cluster.data),
                "-l",
                str(cluster.log),
            ],
        )
        if result.returncode != 0:
            tail = cluster.log.read_text(errors="replace")[-1500:] if cluster.log.exists() else ""
            raise SetupError(f"本地数据库启动失败：{result.stderr.strip()}\n{tail}")
    ensure_planner_settings(cluster, bindir)
    secure_cluster(cluster, bindir)
    return cluster


# ---------------------------------------------------------------- passwords (no trust)


def _write_private(path: Path, text: str, owner: str | None = None) -> None:
    """Write `text` to `path` with mode 0600 from the start (replacing it atomically)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    if owner is not None and os.geteuid() == 0:
        pw = pwd.getpwnam(owner)
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    os.replace(tmp, path)


def read_passwords(passfile: Path) -> dict[str, str]:
    """role -> password, from a password file this module wrote (`*:*:*:role:password`)."""
    out: dict[str, str] = {}
    try:
        lines = passfile.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        if line.startswith("#") or line.count(":") < 4:
            continue
        _host, _port, _db, role, password = line.split(":", 4)
        out[role] = password
    return out


def role_password(cluster: LocalCluster, role: str) -> str:
    """The password of `role` in the cluster's password file, generated (and kept) if new."""
    passwords = read_passwords(cluster.passfile)
    if role not in passwords:
        passwords[role] = secrets.token_urlsafe(32)  # [A-Za-z0-9_-]: nothing to escape
        lines = "".join(f"*:*:*:{r}:{p}\n" for r, p in passwords.items())
        cluster.home.mkdir(parents=True, exist_ok=True)
        _write_private(cluster.passfile, PASSFILE_HEADER + lines)
    return passwords[role]


def _write_hba(cluster: LocalCluster) -> None:
    _write_private(cluster.data / "pg_hba.conf", HBA, owner=cluster.owner)


WEAK_METHODS = ("trust", "password", "md5", "ident")


def hba_trusts(cluster: LocalCluster) -> bool:
    """Whether a rule of pg_hba.conf lets someone in without a SCRAM password (trust, above all:
    what initdb --auth=trust wrote). Rules added since with scram-sha-256 (a replica's) stay."""
    try:
        text = (cluster.data / "pg_hba.conf").read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words and any(w in WEAK_METHODS for w in words[3:]):
            return True
    return False


def password_sql(cur: Any, role: str, password: str) -> None:
    """ALTER ROLE … PASSWORD with the SCRAM verifier computed here: the password itself never
    reaches the server (nor its log)."""
    from psycopg2.extensions import encrypt_password

    verifier = encrypt_password(password, role, cur.connection, "scram-sha-256")
    with roles_locked(cur):
        cur.execute(f'ALTER ROLE "{role}" PASSWORD %s', (verifier,))


@contextmanager
def roles_locked(cur: Any) -> Iterator[None]:
    """Role changes one at a time across the cluster: two processes altering the same role at
    once (test workers, `make run` beside `make test`) fail with "tuple concurrently updated".
    A session-level advisory lock: role DDL runs in autocommit here."""
    from psycopg2.extensions import TRANSACTION_STATUS_INERROR

    cur.execute("SELECT pg_advisory_lock(%s)", (ROLES_LOCK,))
    try:
        yield
    finally:
        # after a failed statement in a transaction the lock goes with the connection
        if cur.connection.get_transaction_status() != TRANSACTION_STATUS_INERROR:
            cur.execute("SELECT pg_advisory_unlock(%s)", (ROLES_LOCK,))


def secure_cluster(cluster: LocalCluster, bindir: Path) -> None:
    """A cluster initialised with --auth=trust (before passwords): set a password for the
    superuser and the app's role (while trust still lets us in), then rewrite pg_hba.conf and
    reload. A cluster already secured is left as it is."""
    if not hba_trusts(cluster):
        return
    import psycopg2

    from gis_app.core.db_security import app_role

    _log("securing the local cluster: passwords for every role, no trust (pg_hba.conf)")
    try:
        # trust still lets the owner in; the password file, once it holds the password, too
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=cluster.port(),
            user=cluster.owner,
            dbname="postgres",
            passfile=str(cluster.passfile),
        )
    except psycopg2.OperationalError as exc:
        raise SetupError(f"无法连接本地数据库以设置口令：{exc}") from exc
    conn.autocommit = True
    with conn.cursor() as cur:
        password_sql(cur, cluster.owner, role_password(cluster, cluster.owner))
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (app_role(),))
        if cur.fetchone() is not None:
            password_sql(cur, app_role(), role_password(cluster, app_role()))
    conn.close()
    _write_hba(cluster)
    result = run_as(cluster.owner, [str(bindir / "pg_ctl"), "reload", "-D", str(cluster.data)])
    if result.returncode != 0:
        raise SetupError(f"重新加载 pg_hba.conf 失败：{result.stderr.strip()}")


def url_password(url: str, role: str) -> str | None:
    """The password of `role` for the server of `url`, when the URL names a password file this
    module keeps (the project-local cluster); None otherwise (DATABASE_URL's server is its
    administrator's: its roles' passwords are not ours to set)."""
    passfile = dict(parse_qsl(urlsplit(url).query)).get("passfile")
    if not passfile:
        return None
    cluster = local_cluster()
    if Path(passfile) != cluster.passfile or not cluster.passfile.exists():
        return None
    return role_password(cluster, role)


def ensure_planner_settings(cluster: LocalCluster, bindir: Path) -> None:
    """A cluster made before PLANNER_SETTINGS existed gets them once (and a reload)."""
    conf = cluster.data / "postgresql.conf"
    if not conf.exists() or re.search(
        r"^\s*random_page_cost\s*=", conf.read_text(errors="replace"), re.M
    ):
        return
    with conf.open("a") as f:
        f.write("\n# set by gis_app.core.localdb\n" + PLANNER_SETTINGS)
    run_as(cluster.owner, [str(bindir / "pg_ctl"), "reload", "-D", str(cluster.data)])


def stop_local_cluster() -> None:
    cluster = local_cluster()
    if not cluster.port_file.exists():
        return
    bindir = pg_bindir()
    if _is_running(cluster, bindir):
        run_as(
            cluster.owner, [str(bindir / "pg_ctl"), "stop", "-m", "fast", "-D", str(cluster.data)]
        )


# ---------------------------------------------------------------- database and extension


def with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def dbname_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def _connect(url: str, retries: int = 30) -> Any:
    import psycopg2

    last: Exception | None = None
    for _ in range(retries):
        try:
            conn = psycopg2.connect(url)
            conn.autocommit = True
            return conn
        except psycopg2.OperationalError as exc:
            last = exc
            if "does not exist" in str(exc):
                raise
            time.sleep(1)
    raise SetupError(f"无法连接数据库 {url}：{last}")


def _install_postgis_for(server_major: int) -> bool:
    """apt-get the PostGIS package for a local server's major version (root only)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    package = f"postgresql-{server_major}-postgis-3"
    _log(f"installing {package} for the server in DATABASE_URL")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    ok = subprocess.run(["apt-get", "install", "-y", "-q", package], env=env).returncode == 0
    if not ok:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        ok = subprocess.run(["apt-get", "install", "-y", "-q", package], env=env).returncode == 0
    return ok


def ensure_database(url: str) -> None:
    """Create the database if missing, then the postgis extension in it."""
    import psycopg2

    dbname = dbname_of(url)
    try:
        conn = _connect(url)
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise SetupError(f"无法连接数据库 {url}：{exc}") from exc
        admin = _connect(with_dbname(url, "postgres"))
        with admin.cursor() as cur:
            _log(f"creating database {dbname}")
            cur.execute(f"CREATE DATABASE \"{dbname}\" ENCODING 'UTF8' TEMPLATE template0")
        admin.close()
        conn = _connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        if cur.fetchone() is None:
            cur.execute("SHOW server_version_num")
            major = int(cur.fetchone()[0]) // 10000
            host = urlsplit(url).hostname or "localhost"
            local = host in ("localhost", "127.0.0.1", "::1") or host.startswith("/")
            if not (local and _install_postgis_for(major)):
                raise SetupError(
                    f"数据库服务器上没有 PostGIS：请在服务器上安装 postgresql-{major}-postgis-3。"
                )
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        ensure_app_role(cur, _app_password(url))
    conn.close()


def _app_password(url: str) -> str | None:
    from gis_app.core.db_security import app_role

    return url_password(url, app_role())


def ensure_app_role(cur: Any, password: str | None = None) -> None:
    """The web app's own database role (owns nothing, subject to row-level security), made
    able to log in, when the user in DATABASE_URL may create roles; otherwise it is the
    administrator's job (README, database roles) and the migration says so."""
    from gis_app.core.db_security import app_role

    role = app_role()
    cur.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
    row = cur.fetchone()
    if not row or not row[0]:
        return
    with roles_locked(cur):
        cur.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (role,))
        found = cur.fetchone()
        if found is None:
            _log(f"creating the app's database role {role} (no superuser, no BYPASSRLS)")
            cur.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        elif not found[0]:
            cur.execute(f"ALTER ROLE {role} LOGIN")
    if password is not None:  # the project-local cluster: the app's role logs in by password
        password_sql(cur, role, password)


def resolve_url(test: bool = False) -> str:
    """The app's (or the test suite's) database URL, with the server up and PostGIS in it."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = ensure_local_cluster().url()
    if test:
        url = os.environ.get("TEST_DATABASE_URL") or with_dbname(url, dbname_of(url) + "_test")
    ensure_database(url)
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gis_app.core.localdb")
    parser.add_argument("command", choices=["url", "stop"])
    parser.add_argument("--test", action="store_true", help="the test database (<name>_test)")
    args = parser.parse_args(argv)
    try:
        if args.command == "stop":
            stop_local_cluster()
            return 0
        print(resolve_url(test=args.test))
        return 0
    except SetupError as exc:
        print(f"[db] 错误：{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
