"""Backup and restore: one tar archive with the database dump, the photo store and a manifest.

Archive members (plain tar: the dump is compressed already, photos are JPEG/PNG/WebP):

    database.dump        pg_dump --format=custom of the whole database (every schema: the
                         ledger, `access`, the `audit` trail with its hash chain, alembic_version)
    photos/<path>        every file of PHOTO_DIR (originals/ab/<sha256>.<ext>, thumbs/…)
    manifest.json        written last: format, app version, alembic revision(s), created at,
                         row counts, the audit chain's head, and the sha256 and size of every
                         other member

Restore is all or nothing. It first reads the whole archive and checks every member against the
manifest (and that no member is missing or added), and the schema revision (a dump of a newer
schema than this program knows is refused; an older one is migrated up after the restore). Then
it restores into a *fresh* database beside the target (`<target>_restore_<pid>`), migrates it if
needed and verifies the audit chain there, unpacks the photos into a fresh folder beside
PHOTO_DIR, and only then swaps: first the photo folder (two renames, always undoable), then
the databases — the target renamed away and the fresh one into its place, both in one
transaction, so the target's name never stands empty; the old ones are dropped last. Any
failure before the swap drops the fresh database and folder and leaves the target as it was;
a failure of the database swap puts the photo folders back. A PHOTO_DIR that is a mount point
cannot be renamed and is refused before anything starts. Renames are used rather than one
long transaction because pg_restore with `--single-transaction` cannot run a migration
afterwards in the same transaction, and because the target stays fully readable while the
restore runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit

FORMAT = "gis-app-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
PHOTOS = "photos"
CHUNK = 1024 * 1024
#: tables a freshly migrated, never used database already has rows in
SEED_TABLES = {"public.alembic_version", "public.spatial_ref_sys", "audit.chain_head"}

Progress = Callable[[str], None]


class BackupError(RuntimeError):
    """Backup or restore refused or failed; the message (Chinese) says what to do."""


def _quiet(_message: str) -> None:
    pass


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg2://…) as libpq understands it (postgresql://…)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def tool_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump / pg_restore without its password, and their environment with it
    (PGPASSWORD): a password on a command line is readable by every local user (ps)."""
    parts = urlsplit(libpq_url(url))
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        host = parts.hostname or ""
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{user}{host}{port}")
    return urlunsplit(parts), env


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(libpq_url(url))
    return urlunsplit(parts._replace(path="/" + name))


def _db_name(url: str) -> str:
    return urlsplit(libpq_url(url)).path.lstrip("/")


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore of the PostgreSQL the project uses (gis_app.core.localdb's bindir)."""
    from gis_app.core.localdb import SetupError, pg_bindir

    try:
        path = pg_bindir() / name
    except SetupError as exc:
        raise BackupError(str(exc)) from exc
    if not path.exists():
        raise BackupError(f"找不到 {path}：请安装 postgresql-client-15（或 make setup）。")
    return str(path)


def _connect(url: str, autocommit: bool = True) -> Any:
    import psycopg2

    conn = psycopg2.connect(libpq_url(url))
    conn.autocommit = autocommit
    return conn


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gis-app")
    except PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------- what a database holds


def table_names(cur: Any) -> list[str]:
    """Every ordinary table of the database outside PostgreSQL's own schemas."""
    cur.execute(
        """
        SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%%'
        ORDER BY 1
        """
    )
    return [r[0] for r in cur.fetchall()]


def _facts(cur: Any) -> dict[str, Any]:
    """Revisions, row counts of the main tables, the audit head and the server's version."""
    cur.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL")
    revisions: list[str] = []
    if cur.fetchone()[0]:
        cur.execute("SELECT version_num FROM alembic_version ORDER BY 1")
        revisions = [r[0] for r in cur.fetchall()]
    counts: dict[str, int] = {}
    for table in ("sites", "photos", "users", "site_events"):
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",))
        if cur.fetchone()[0]:
            cur.execute(f"SELECT count(*) FROM public.{table}")
            counts[table] = int(cur.fetchone()[0])
    audit: dict[str, Any] = {}
    cur.execute("SELECT to_regclass('audit.chain_head') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute("SELECT seq, hash FROM audit.chain_head")
        seq, head = cur.fetchone()
        audit = {"head_seq": int(seq), "head_hash": head}
    cur.execute("SHOW server_version")
    server = cur.fetchone()[0].split()[0]
    return {"revisions": revisions, "counts": counts, "audit": audit, "server": server}


def database_facts(url: str) -> dict[str, Any]:
    """The facts of the database as it is now (see _facts)."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            return _facts(cur)
    finally:
        conn.close()


def _require_bypass(cur: Any) -> None:
    """Backup and restore read and write every row: the role must not be subject to the
    row-level security the tables have (FORCE applies to their owner too)."""
    cur.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    row = cur.fetchone()
    if not row or not row[0]:
        raise BackupError(
            "备份和恢复需要不受行级安全限制的数据库角色（超级用户或 BYPASSRLS）："
            "请用这样的角色设置 DATABASE_URL（本项目的本地数据库默认如此）。"
        )


@contextmanager
def _snapshot(url: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(snapshot id, facts) of one repeatable-read snapshot, held while the block runs: the
    manifest's counts and audit head and pg_dump (--snapshot) see the same database, however
    many writes go on meanwhile."""
    conn = _connect(url, autocommit=False)
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    try:
        with conn.cursor() as cur:
            _require_bypass(cur)
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            facts = _facts(cur)
        yield snapshot, facts
    finally:
        conn.rollback()
        conn.close()


def rows_outside_seed(url: str) -> int:
    """How many tables hold rows a fresh, migrated database would not have (0: empty)."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            busy = 0
            for table in table_names(cur):
                if table.replace('"', "") in SEED_TABLES:
                    continue
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
                busy += bool(cur.fetchone()[0])
            return busy
    finally:
        conn.close()


# ---------------------------------------------------------------- backup


class _HashingReader:
    """A file read through once, hashing what tar copies."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.sha.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> dict[str, Any]:
    with path.open("rb") as f:
        st = os.fstat(f.fileno())
        info = tarfile.TarInfo(name)
        info.size = st.st_size
        info.mtime = int(st.st_mtime)
        info.mode = 0o644
        reader = _HashingReader(f)
        tar.addfile(info, reader)  # type: ignore[arg-type]
    return {"sha256": reader.sha.hexdigest(), "size": info.size}


def _photo_files(photo_dir: Path) -> Iterator[tuple[Path, str]]:
    """(path, archive name) of every photo-store file, sorted; upload temporaries skipped."""
    if not photo_dir.is_dir():
        return
    for path in sorted(photo_dir.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
            yield path, f"{PHOTOS}/{path.relative_to(photo_dir).as_posix()}"


def create_backup(
    db_url: str, photo_dir: str | Path, output: str | Path, progress: Progress = _quiet
) -> dict[str, Any]:
    """Write the archive to `output` (via `output`.partial, renamed when complete); returns
    the manifest. The dump is taken first: photos are never deleted, so every photo the dump
    refers to is in the store by then."""
    output = Path(output)
    photo_dir = Path(photo_dir)
    if output.exists() and output.is_dir():
        raise BackupError(f"{output} 是目录：请给出备份文件名，例如 --output gis-app.tar")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    work = Path(tempfile.mkdtemp(prefix=".gis-app-backup-", dir=output.parent))
    try:
        dump = work / DUMP
        facts = _dump_database(db_url, dump, progress)
        manifest = _write_archive(partial, dump, photo_dir, db_url, facts, progress)
        os.replace(partial, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        partial.unlink(missing_ok=True)
    size = output.stat().st_size / 1e6
    progress(f"备份完成：{output}（{size:.1f} MB，{len(manifest['members'])} 个成员）")
    return manifest


def _dump_database(db_url: str, dump: Path, progress: Progress) -> dict[str, Any]:
    """pg_dump (custom format) of the snapshot the facts (revisions, counts, audit head) are
    read in: the dump and the manifest describe the same moment."""
    progress(f"导出数据库 {_db_name(db_url)}（pg_dump，自定义格式）…")
    with _snapshot(db_url) as (snapshot, facts):
        target, env = tool_target(db_url)
        result = subprocess.run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                "--file",
                str(dump),
                target,
            ],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    if result.returncode != 0:
        raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")
    progress(f"  数据库导出 {dump.stat().st_size / 1e6:.1f} MB")
    return facts


def _write_archive(
    partial: Path,
    dump: Path,
    photo_dir: Path,
    db_url: str,
    facts: dict[str, Any],
    progress: Progress,
) -> dict[str, Any]:
    """The tar file: the dump, every photo, and last the manifest (with each member's size
    and hash); returns the manifest."""
    members: dict[str, dict[str, Any]] = {}
    # password hashes, tokens' hashes and personal data: readable by the owner only
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with (
        os.fdopen(fd, "wb") as raw,
        tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        members[DUMP] = _add_file(tar, dump, DUMP)
        photos = list(_photo_files(photo_dir))
        progress(f"打包照片 {len(photos)} 个文件（{photo_dir}）…")
        for i, (path, name) in enumerate(photos, 1):
            members[name] = _add_file(tar, path, name)
            if i % 500 == 0:
                progress(f"  {i}/{len(photos)}")
        manifest = {
            "format": FORMAT,
            "app_version": _app_version(),
            "alembic_revisions": facts["revisions"],
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {"name": _db_name(db_url), "server_version": facts["server"]},
            "counts": {**facts["counts"], "photo_files": len(photos)},
            "audit": facts["audit"],
            "members": members,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        info.mtime = int(datetime.now(UTC).timestamp())
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return manifest


# ---------------------------------------------------------------- reading and checking


@dataclass
class Archive:
    path: Path
    manifest: dict[str, Any]

    @property
    def photo_members(self) -> list[str]:
        return sorted(m for m in self.manifest["members"] if m.startswith(PHOTOS + "/"))


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in name and bool(p.parts)


def _open_tar(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    try:
        return tarfile.open(path, "r:")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(
            f"{path} 不是 gis-app 备份文件（无法按 tar 读取：{exc}）："
            "请选择 `gis-app backup` 生成的 .tar 文件。"
        ) from exc


def read_archive(path: str | Path, progress: Progress = _quiet) -> Archive:
    """Open the archive and check it completely: the manifest, then every member's size and
    sha256, no member missing, none added, nothing but regular files with plain names."""
    path = Path(path)
    with _open_tar(path) as tar:
        try:
            names = tar.getnames()
            manifest_file = tar.extractfile(MANIFEST) if MANIFEST in names else None
            if manifest_file is None:
                raise BackupError(
                    f"{path} 不是 gis-app 备份文件（没有 {MANIFEST}）："
                    "请选择 `gis-app backup` 生成的文件。"
                )
            manifest = json.loads(manifest_file.read().decode("utf-8"))
        except (tarfile.TarError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BackupError(f"{path} 已损坏：清单 {MANIFEST} 无法读取（{exc}）。") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else "?"
            raise BackupError(
                f"{path} 的清单格式为 {found}，本程序只认识 {FORMAT}：请用相同版本的 gis-app 恢复。"
            )
        expected: dict[str, dict[str, Any]] = manifest.get("members") or {}
        if DUMP not in expected:
            raise BackupError(f"{path} 已损坏：清单中没有数据库导出 {DUMP}。")
        seen: set[str] = set()
        progress(f"校验备份文件 {path}（{len(expected)} 个成员）…")
        for member in tar:
            if member.name == MANIFEST:
                continue
            if not member.isfile() or not _safe_name(member.name):
                raise BackupError(f"{path} 含有不允许的成员 {member.name!r}：拒绝恢复。")
            want = expected.get(member.name)
            if want is None:
                raise BackupError(
                    f"{path} 含有清单之外的成员 {member.name}：文件被改动，拒绝恢复。"
                )
            if member.name in seen:
                raise BackupError(f"{path} 中成员 {member.name} 出现两次：拒绝恢复。")
            seen.add(member.name)
            sha = hashlib.sha256()
            f = tar.extractfile(member)
            assert f is not None
            try:
                while chunk := f.read(CHUNK):
                    sha.update(chunk)
            except (tarfile.TarError, OSError) as exc:
                raise BackupError(f"{path} 已损坏：读取 {member.name} 失败（{exc}）。") from exc
            if member.size != want.get("size") or sha.hexdigest() != want.get("sha256"):
                raise BackupError(
                    f"{path} 已损坏：{member.name} 的校验和与清单不符（文件被改动或传输出错）；"
                    "未做任何改动。请换一份完好的备份。"
                )
        missing = sorted(set(expected) - seen)
        if missing:
            raise BackupError(
                f"{path} 不完整：缺少 {len(missing)} 个成员（如 {missing[0]}）；未做任何改动。"
            )
    progress(f"  校验通过：{len(seen)} 个成员的 sha256 与清单一致")
    return Archive(path, manifest)


def check_revisions(manifest: dict[str, Any]) -> bool:
    """Refuse a dump of a schema newer than this program; True when the restored database
    must be migrated up (an older schema)."""
    from alembic.script import ScriptDirectory

    from gis_app.core.database import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    heads = set(script.get_heads())
    revisions = set(manifest.get("alembic_revisions") or [])
    if not revisions:
        raise BackupError("备份中的数据库没有结构版本（alembic_version）：不是本系统的数据库。")
    unknown = sorted(revisions - known)
    if unknown:
        raise BackupError(
            f"备份来自更新的数据库结构（修订 {', '.join(unknown)}，"
            f"应用版本 {manifest.get('app_version')}），本程序只认识到 {', '.join(sorted(heads))}："
            "请先把 gis-app 升级到不低于备份时的版本，再恢复。"
        )
    return revisions != heads


# ---------------------------------------------------------------- restore


def target_is_empty(db_url: str, photo_dir: Path) -> tuple[bool, str]:
    """(empty, why not): a database that does not exist, or holds no rows beyond a fresh
    migration's, and a photo folder without files."""
    why = []
    try:
        busy = rows_outside_seed(db_url)
    except Exception as exc:
        if "does not exist" not in str(exc):
            raise BackupError(f"无法连接目标数据库 {_db_name(db_url)}：{exc}") from exc
        busy = 0
    if busy:
        why.append(f"数据库 {_db_name(db_url)} 已有数据（{busy} 张表有记录）")
    if photo_dir.is_dir() and any(p.is_file() for p in photo_dir.rglob("*")):
        why.append(f"照片目录 {photo_dir} 中已有文件")
    return not why, "；".join(why)


def _admin(db_url: str) -> Any:
    """A connection to the server's maintenance database (to create, rename, drop)."""
    import psycopg2

    for name in ("postgres", "template1"):
        try:
            return _connect(_with_db(db_url, name))
        except psycopg2.OperationalError:
            continue
    raise BackupError(
        "无法连接到数据库服务器的 postgres 库：恢复需要建库和改名的权限（CREATEDB）。"
    )


def _exists(cur: Any, name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    return cur.fetchone() is not None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop_database(db_url: str, name: str) -> None:
    with suppress(Exception):
        admin = _admin(db_url)
        try:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        finally:
            admin.close()


@contextmanager
def _staging_database(db_url: str, progress: Progress) -> Iterator[str]:
    """A new empty database beside the target; dropped on leaving unless renamed away."""
    from gis_app.core.localdb import ensure_app_role

    name = f"{_db_name(db_url)}_restore_{os.getpid()}"
    admin = _admin(db_url)
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
            cur.execute(f"CREATE DATABASE {_ident(name)} TEMPLATE template0 ENCODING 'UTF8'")
            ensure_app_role(cur)
    except Exception as exc:
        raise BackupError(f"无法建立临时数据库 {name}：{exc}（恢复需要 CREATEDB 权限）") from exc
    finally:
        admin.close()
    progress(f"在临时数据库 {name} 中恢复…")
    try:
        yield _with_db(db_url, name)
    finally:
        _drop_database(db_url, name)  # a no-op once it was renamed into place


def _pg_restore(archive: Archive, staging_url: str, work: Path, progress: Progress) -> None:
    dump = work / DUMP
    with tarfile.open(archive.path, "r:") as tar, dump.open("wb") as out:
        src = tar.extractfile(DUMP)
        assert src is not None
        sha = hashlib.sha256()
        while chunk := src.read(CHUNK):
            sha.update(chunk)
            out.write(chunk)
    if sha.hexdigest() != archive.manifest["members"][DUMP]["sha256"]:
        raise BackupError(f"{archive.path} 在恢复过程中被改动：{DUMP} 校验和不符；未做任何改动。")
    target, env = tool_target(staging_url)
    result = subprocess.run(
        [
            pg_tool("pg_restore"),
            "--exit-on-error",
            "--no-owner",  # the restoring owner (DATABASE_URL's user) owns every object
            "--dbname",
            target,
            str(dump),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    dump.unlink(missing_ok=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore 失败，目标数据库未改动：{result.stderr.strip()[-1500:]}")


def _check_restored(staging_url: str, manifest: dict[str, Any], progress: Progress) -> None:
    """The restored copy holds what the manifest says, and its audit chain verifies."""
    from sqlalchemy import create_engine

    from gis_app.core.database import sqlalchemy_url
    from gis_app.features.audit.service import verify

    facts = database_facts(staging_url)
    for table, n in (manifest.get("counts") or {}).items():
        if table in facts["counts"] and facts["counts"][table] != n:
            raise BackupError(
                f"恢复后 {table} 有 {facts['counts'][table]} 行，备份清单为 {n} 行；目标未改动。"
            )
    engine = create_engine(sqlalchemy_url(staging_url) or "")
    try:
        with engine.connect() as conn:
            report = verify(conn)
    finally:
        engine.dispose()
    if not report.ok:
        raise BackupError(f"恢复后的审计链校验失败：{report.problems[0].message}；目标未改动。")
    progress(f"  审计链完好：{report.checked} 条事件，链头第 {report.head_seq} 号")


def _unpack_photos(archive: Archive, staging: Path, progress: Progress) -> int:
    staging.mkdir(parents=True)
    members = archive.manifest["members"]
    n = 0
    with tarfile.open(archive.path, "r:") as tar:
        for member in tar:
            if not member.name.startswith(PHOTOS + "/"):
                continue
            want = members.get(member.name)
            if want is None or not member.isfile() or not _safe_name(member.name):
                raise BackupError(
                    f"{archive.path} 在恢复过程中被改动（{member.name!r}）；未做任何改动。"
                )
            rel = PurePosixPath(member.name).relative_to(PHOTOS)
            target = staging.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            sha = hashlib.sha256()
            with target.open("wb") as out:
                while chunk := src.read(CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
            if sha.hexdigest() != want["sha256"]:
                raise BackupError(f"{member.name} 在恢复过程中校验和不符；未做任何改动。")
            n += 1
    progress(f"  照片 {n} 个文件已解包")
    return n


def _swap_databases(db_url: str, staging_name: str) -> str | None:
    """Put the restored database in the target's place; returns the old one's new name.
    Both renames are one transaction: the target's name never stands empty."""
    target = _db_name(db_url)
    old = f"{target}_replaced_{os.getpid()}"
    admin = _admin(db_url)
    try:
        with admin.cursor() as cur:
            had_target = _exists(cur, target)
            if had_target:
                cur.execute(f"ALTER DATABASE {_ident(target)} ALLOW_CONNECTIONS false")
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (target,),
                )
        admin.autocommit = False
        try:
            with admin.cursor() as cur:
                if had_target:
                    cur.execute(f"ALTER DATABASE {_ident(target)} RENAME TO {_ident(old)}")
                cur.execute(f"ALTER DATABASE {_ident(staging_name)} RENAME TO {_ident(target)}")
            admin.commit()
        except Exception as exc:
            admin.rollback()
            admin.autocommit = True
            if had_target:
                with admin.cursor() as cur:
                    cur.execute(f"ALTER DATABASE {_ident(target)} ALLOW_CONNECTIONS true")
            raise BackupError(
                f"无法替换数据库 {target}：{exc}。请先停止应用（gunicorn / gis-app serve）"
                "和其他连接，再运行恢复；目标未改动。"
            ) from exc
        return old if had_target else None
    finally:
        admin.close()


def restore_backup(
    archive_path: str | Path,
    db_url: str,
    photo_dir: str | Path,
    replace: bool = False,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Restore the archive into the database `db_url` and the folder `photo_dir` (see the
    module's docstring for the order of things). Refuses a non-empty target unless `replace`."""
    from gis_app.core import database as dbmod

    photo_dir = Path(photo_dir).absolute()
    if os.path.ismount(photo_dir):
        raise BackupError(
            f"照片目录 {photo_dir} 是挂载点，无法整体替换：请把 GIS_APP_PHOTO_DIR 设为其下的"
            "子目录后再恢复；未做任何改动。"
        )
    archive = read_archive(archive_path, progress)
    manifest = archive.manifest
    needs_upgrade = check_revisions(manifest)
    _check_target(db_url, photo_dir, replace)
    photo_dir.parent.mkdir(parents=True, exist_ok=True)
    staging_photos = photo_dir.with_name(f".{photo_dir.name}.restore-{os.getpid()}")
    old_photos = photo_dir.with_name(f".{photo_dir.name}.replaced-{os.getpid()}")
    shutil.rmtree(staging_photos, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".gis-app-restore-", dir=photo_dir.parent))
    try:
        with _staging_database(db_url, progress) as staging_url:
            _pg_restore(archive, staging_url, work, progress)
            if needs_upgrade:
                progress(f"备份的结构版本 {manifest['alembic_revisions']} 较旧：迁移到最新…")
                dbmod.upgrade(staging_url)
            _check_restored(staging_url, manifest, progress)
            _unpack_photos(archive, staging_photos, progress)
            progress(f"替换数据库 {_db_name(db_url)} 和照片目录 {photo_dir}…")
            old_db = _swap_in(db_url, _db_name(staging_url), photo_dir, staging_photos, old_photos)
        if old_db:
            _drop_database(db_url, old_db)
        shutil.rmtree(old_photos, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staging_photos, ignore_errors=True)
    facts = database_facts(db_url)
    progress(
        f"恢复完成：{facts['counts'].get('sites', 0)} 个点位，"
        f"{len(archive.photo_members)} 个照片文件，结构版本 {', '.join(facts['revisions'])}"
    )
    return {"manifest": manifest, "restored": facts, "migrated": needs_upgrade}


def _check_target(db_url: str, photo_dir: Path, replace: bool) -> None:
    """The restoring role may bypass row-level security; a target with data is replaced only
    when the operator said so (`replace`)."""
    admin = _admin(db_url)
    try:
        with admin.cursor() as cur:
            _require_bypass(cur)
    finally:
        admin.close()
    empty, why = target_is_empty(db_url, photo_dir)
    if not empty and not replace:
        raise BackupError(
            f"目标不是空的：{why}。恢复会整体替换它们：确认后加 --yes 再运行；未做任何改动。"
        )


def _swap_in(
    db_url: str, staging_name: str, photo_dir: Path, staging_photos: Path, old_photos: Path
) -> str | None:
    """Put the restored photos and database in place of the target's: the photos first (two
    renames that can always be undone), then the databases in one transaction; the photos go
    back when that fails. Returns the name the old database was renamed to (if any)."""
    try:
        if photo_dir.exists():
            os.rename(photo_dir, old_photos)
        os.rename(staging_photos, photo_dir)
    except OSError as exc:
        if old_photos.exists() and not photo_dir.exists():
            os.rename(old_photos, photo_dir)
        raise BackupError(f"无法替换照片目录 {photo_dir}：{exc}；目标未改动。") from exc
    try:
        return _swap_databases(db_url, staging_name)
    except BaseException:
        os.rename(photo_dir, staging_photos)
        if old_photos.exists():
            os.rename(old_photos, photo_dir)
        raise
