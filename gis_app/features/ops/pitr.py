"""Continuous backup and point-in-time recovery: PostgreSQL's WAL archived and base backups
taken by pgBackRest (Debian's package) into an encrypted repository, the photo store copied
incrementally beside it, and `recover_to()` bringing both back to one moment in a fresh place.

- `PgBackRest`: the `pgbackrest` commands of one stanza, run as the cluster's OS user
  (`stanza-create`, `check`, `backup`, `info`, `restore`); `config_text()` writes its
  configuration (repository path, `repo1-cipher-type=aes-256-cbc`, retention).
- `sync_photos()`: photos are content-addressed and never rewritten, so a copy of the files not
  yet in the photo repository is the whole increment; each run writes a manifest
  (`manifests/<UTC time>.json`: every file and its size) — what the store held at that time.
- `recover_to()`: `pgbackrest restore --type=time --target=<T>` into a new data folder, that
  cluster started on a free port (archiving off, so it never writes into the repository),
  replayed and promoted; the audit chain verified there; the photos the recovered database
  refers to (originals and thumbnails) copied from the photo repository: exactly the photos
  that existed at T. The caller swaps it in (`gis-app recover --swap` goes through
  `gis-app restore`'s checked swap) or reads from it.

docs/operations/backup.md#continuous-backup-and-point-in-time-recovery has the set-up.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gis_app.core.localdb import free_port, pg_bindir, run_as

PHOTO_KINDS_OF_FILES = ("originals", "thumbs")


class RecoveryError(RuntimeError):
    """A step of the backup or the recovery failed; the message says which and why."""


def config_text(
    *,
    stanza: str,
    repo: Path,
    cipher_pass: str,
    pg_data: Path,
    pg_port: int,
    pg_socket: Path,
    pg_user: str,
    log_dir: Path,
    lock_dir: Path,
    spool_dir: Path,
    retention_full: int = 2,
    compress: str = "lz4",
) -> str:
    """A pgbackrest.conf for one cluster and one encrypted local repository."""
    return (
        "[global]\n"
        f"repo1-path={repo}\n"
        "repo1-cipher-type=aes-256-cbc\n"
        f"repo1-cipher-pass={cipher_pass}\n"
        f"repo1-retention-full={retention_full}\n"
        f"compress-type={compress}\n"
        "start-fast=y\n"
        f"log-path={log_dir}\n"
        f"lock-path={lock_dir}\n"
        f"spool-path={spool_dir}\n"
        "log-level-console=warn\n"
        "log-level-file=info\n"
        "\n"
        f"[{stanza}]\n"
        f"pg1-path={pg_data}\n"
        f"pg1-port={pg_port}\n"
        f"pg1-socket-path={pg_socket}\n"
        f"pg1-user={pg_user}\n"
    )


def archive_settings(config: Path, stanza: str, archive_timeout_s: int = 60) -> str:
    """postgresql.conf lines that archive every WAL segment into the repository (a segment is
    closed at the latest after `archive_timeout_s`: the recovery point's bound)."""
    return (
        "wal_level = replica\n"
        "archive_mode = on\n"
        f"archive_command = 'pgbackrest --config={config} --stanza={stanza} archive-push %p'\n"
        f"archive_timeout = {archive_timeout_s}\n"
    )


@dataclass(frozen=True)
class PgBackRest:
    config: Path
    stanza: str
    os_user: str  # the cluster's owner: pgbackrest reads its files and connects as it

    def run(self, *args: str, timeout: float = 600) -> str:
        exe = shutil.which("pgbackrest") or "/usr/bin/pgbackrest"
        result = run_as(
            self.os_user,
            [exe, f"--config={self.config}", f"--stanza={self.stanza}", *args],
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RecoveryError(
                f"pgbackrest {args[0]} 失败（{result.returncode}）：{result.stderr.strip()[-1500:]}"
            )
        return result.stdout

    def create_stanza(self) -> None:
        self.run("stanza-create")
        self.run("check")

    def backup(self, kind: str = "full") -> None:
        self.run("backup", f"--type={kind}")

    def info(self) -> list[dict[str, Any]]:
        return json.loads(self.run("info", "--output=json"))


# ---------------------------------------------------------------- photos


def _copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def sync_photos(photo_dir: Path, repo: Path, now: datetime | None = None) -> dict[str, Any]:
    """Copy the photo files not yet in `repo/files/` (content-addressed: a file there is never
    replaced) and write this run's manifest. Returns {"manifest", "copied", "files"}."""
    photo_dir, repo = Path(photo_dir), Path(repo)
    files: dict[str, int] = {}
    copied = 0
    for kind in PHOTO_KINDS_OF_FILES:
        top = photo_dir / kind
        if not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            rel = path.relative_to(photo_dir).as_posix()
            size = path.stat().st_size
            files[rel] = size
            target = repo / "files" / rel
            if not target.exists() or target.stat().st_size != size:
                _copy_atomic(path, target)
                copied += 1
    at = (now or datetime.now(UTC)).astimezone(UTC)
    manifest = repo / "manifests" / f"{at.strftime('%Y%m%dT%H%M%S.%fZ')}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    body = {"at": at.isoformat(), "files": files}
    tmp = manifest.with_name(manifest.name + ".partial")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=0))
    os.replace(tmp, manifest)
    return {"manifest": str(manifest), "copied": copied, "files": len(files)}


def manifest_at(repo: Path, target: datetime) -> dict[str, Any] | None:
    """The last photo manifest written at or before `target` (None: none yet)."""
    best = None
    for path in sorted((Path(repo) / "manifests").glob("*.json")):
        body = json.loads(path.read_text())
        if datetime.fromisoformat(body["at"]) <= target:
            best = body
    return best


# ---------------------------------------------------------------- recovery


@dataclass
class Recovered:
    """A cluster recovered to `target` in `home` (data/, photos/, postgres.log), running on
    `port` until `stop()`."""

    home: Path
    port: int
    os_user: str
    dbname: str
    db_user: str
    target: datetime
    timings: dict[str, float] = field(default_factory=dict)
    photos_copied: int = 0
    photos_missing: list[str] = field(default_factory=list)
    chain: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def photo_dir(self) -> Path:
        return self.home / "photos"

    def url(self) -> str:
        return f"postgresql://{self.db_user}@127.0.0.1:{self.port}/{self.dbname}"

    def pg_ctl(self, *args: str) -> None:
        result = run_as(
            self.os_user,
            [str(pg_bindir() / "pg_ctl"), *args, "-D", str(self.data), "-l", str(self.log)],
        )
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise RecoveryError(f"pg_ctl {args[0]} 失败：{result.stderr.strip()}\n{tail}")

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "fast", "-w")

    def report(self) -> dict[str, Any]:
        return {
            "target": self.target.isoformat(),
            "home": str(self.home),
            "url": self.url(),
            "counts": self.counts,
            "audit_chain": self.chain,
            "photos_copied": self.photos_copied,
            "photos_missing": self.photos_missing,
            "seconds": {k: round(v, 2) for k, v in self.timings.items()},
        }


def _owned_dir(path: Path, os_user: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(os_user)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o700)


def _wait_promoted(url: str, timeout: float) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from gis_app.core.database import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url) or url, pool_pre_ping=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                with engine.connect() as conn:
                    if not conn.execute(text("SELECT pg_is_in_recovery()")).scalar():
                        return
            except OperationalError:
                pass
            time.sleep(0.3)
    finally:
        engine.dispose()
    raise RecoveryError(f"恢复的数据库 {timeout:.0f} 秒内未完成回放")


def _check_recovered(rec: Recovered) -> list[tuple[str, str]]:
    """The audit chain walked there and the counts of the main tables, into `rec`; returns
    the photos (sha256, media type) the recovered database refers to."""
    from sqlalchemy import create_engine, text

    from gis_app.core.database import sqlalchemy_url
    from gis_app.features.audit.service import verify

    engine = create_engine(sqlalchemy_url(rec.url()) or rec.url())
    try:
        with engine.connect() as conn:
            report = verify(conn)
            rec.chain = {
                "ok": not report.problems,
                "checked": report.checked,
                "head_seq": report.head_seq,
                "problems": [str(p) for p in report.problems],
            }
            for table in ("sites", "photos", "audit.events"):
                rec.counts[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            photos = [
                (str(sha), str(media))
                for sha, media in conn.execute(text("SELECT sha256, media_type FROM photos"))
            ]
    finally:
        engine.dispose()
    return photos


def _restore_photos(rec: Recovered, photos: list[tuple[str, str]], photo_repo: Path) -> None:
    from gis_app.features.photos.service import PhotoStore

    source, target = PhotoStore(Path(photo_repo) / "files"), PhotoStore(rec.photo_dir)
    rec.photo_dir.mkdir(parents=True, exist_ok=True)
    for sha, media_type in photos:
        for src, dst in (
            (source.original(sha, media_type), target.original(sha, media_type)),
            (source.thumbnail(sha), target.thumbnail(sha)),
        ):
            if src.exists():
                _copy_atomic(src, dst)
                rec.photos_copied += 1
            else:
                rec.photos_missing.append(src.relative_to(source.root).as_posix())


def recover_to(
    pgbr: PgBackRest,
    target: datetime,
    home: Path,
    *,
    photo_repo: Path | None,
    dbname: str,
    db_user: str,
    timeout: float = 600,
) -> Recovered:
    """Database and photos as they were at `target`, in the new folder `home` (see the
    module's docstring). The recovered cluster is left running: `stop()` it when done."""
    if target.tzinfo is None:
        raise RecoveryError("恢复时间须带时区，例如 2026-12-05 14:03:00+08")
    home = Path(home)
    if home.exists() and any(home.iterdir()):
        raise RecoveryError(f"{home} 不是空目录：恢复只写入新的位置")
    _owned_dir(home, pgbr.os_user)
    rec = Recovered(home, free_port(57400), pgbr.os_user, dbname, db_user, target)
    _owned_dir(rec.data, pgbr.os_user)
    started = time.monotonic()
    pgbr.run(
        "restore",
        f"--pg1-path={rec.data}",
        "--type=time",
        f"--target={target.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f+00')}",
        "--target-action=promote",
        timeout=timeout,
    )
    rec.timings["restore"] = time.monotonic() - started
    options = (
        f"-c port={rec.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={home} "
        "-c archive_mode=off -c hot_standby=on"
    )
    step = time.monotonic()
    rec.pg_ctl("start", "-w", "-t", str(int(timeout)), "-o", options)
    _wait_promoted(rec.url(), timeout)
    rec.timings["replay"] = time.monotonic() - step
    step = time.monotonic()
    try:
        photos = _check_recovered(rec)
        if photo_repo is not None:
            _restore_photos(rec, photos, photo_repo)
    except BaseException:
        rec.stop()
        raise
    rec.timings["verify"] = time.monotonic() - step
    rec.timings["total"] = time.monotonic() - started
    return rec


def swap_in(rec: Recovered, db_url: str, photo_dir: Path, progress: Any) -> dict[str, Any]:
    """Put the recovered database and photos in place of the app's, the way `gis-app restore`
    does (its archive checks, staging database, and the swap that can be undone): an archive
    of the recovered cluster is written in `rec.home` and restored over the target."""
    from gis_app.features.backup import service as backup

    archive = rec.home / "recovered.tar"
    backup.create_backup(rec.url(), rec.photo_dir, archive, progress)
    try:
        return backup.restore_backup(archive, db_url, photo_dir, replace=True, progress=progress)
    finally:
        archive.unlink(missing_ok=True)
