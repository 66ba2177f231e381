"""`gis-app backup` / `gis-app restore`: a round trip that compares every table and photo file.

A source database of its own (demo district with its workflow history, accounts, a token,
photos) is backed up through the CLI and restored into another, empty database and another
photo folder; then every table of every schema (audit included) must have the same rows, every
sequence the same value, every photo file the same sha256, the audit chain must verify (and go
on chaining new writes), and the app's role must see through its policies what it saw before.
Refusals: a changed byte, a file that is no backup, a newer schema, a non-empty target without
--yes — each leaves the target as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from gis_app.cli import cli
from gis_app.core.actor import Actor
from gis_app.core.database import sqlalchemy_url
from gis_app.core.db_security import app_role
from gis_app.core.localdb import dbname_of, with_dbname
from gis_app.features.backup import service as svc
from tests.support.workflow import DZG, LIMITS, image_bytes

pytestmark = pytest.mark.slow

ADMIN = Actor("cli:test", "district_admin")
N_SITES = 300


def _recreate(url: str, drop_only: bool = False) -> None:
    admin = create_engine(
        sqlalchemy_url(with_dbname(url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
        if not drop_only:
            conn.execute(
                text(f"CREATE DATABASE \"{dbname_of(url)}\" TEMPLATE template0 ENCODING 'UTF8'")
            )
    admin.dispose()


def _fill(url: str, photo_dir: Path) -> None:
    """Demo district (sites, steps, extensions, reports, events), accounts, a token, photos."""
    from gis_app.core import clock
    from gis_app.core.database import DbScope, apply_scope
    from gis_app.demo.loader import load_demo
    from gis_app.features.accounts import service as accounts
    from gis_app.features.ledger.models import Site
    from gis_app.features.photos.service import PhotoStore, add_photo

    engine = create_engine(sqlalchemy_url(url))
    clock.freeze("2026-06-15T10:00:00+08:00")
    try:
        with Session(engine) as s:
            load_demo(s, n_sites=N_SITES, seed=7, today=clock.today())
            s.commit()
        with Session(engine) as s:
            apply_scope(s.connection(), DbScope("district_admin", "", "cli:test"))
            accounts.create_user(
                s, ADMIN, "office", "区办", "district_officer", None, "Kq7#mP2@vL9z"
            )
            accounts.create_user(s, ADMIN, "li.dzg", "李", "street_officer", DZG, "Zr4!nB8%tW3x")
            accounts.create_token(s, ADMIN, "office", "交换")
            s.commit()
        store = PhotoStore(photo_dir)
        with Session(engine) as s:
            apply_scope(s.connection(), DbScope("district_admin", "", "cli:test"))
            sites = s.scalars(
                select(Site.id)
                .where(Site.status.in_(("registered", "in_progress")))
                .order_by(Site.id)
                .limit(4)
            ).all()
            for i, site_id in enumerate(sites):
                for kind in ("before", "inspection"):
                    add_photo(
                        s, store, LIMITS, site_id, Actor("区办王", "district_officer"),
                        image_bytes(colour=(20 * i, 90, 200 if kind == "before" else 10)),
                        f"p{i}.jpg", kind,
                    )  # fmt: skip
            s.commit()
    finally:
        clock.freeze(None)
        engine.dispose()


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a hash of the sorted rows of every table (every schema), and every
    sequence's value."""
    engine = create_engine(sqlalchemy_url(url))
    out: dict[str, tuple[int, str]] = {}
    try:
        with engine.connect() as conn:
            tables = svc.table_names(conn.connection.cursor())
            for t in tables:
                n, digest = conn.execute(
                    text(
                        f"SELECT count(*), coalesce(md5(string_agg(r::text, E'\\n' "
                        f"ORDER BY r::text)), '') FROM {t} r"
                    )
                ).one()
                out[t] = (n, digest)
            for (seq,) in conn.execute(
                text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                    "FROM pg_sequences ORDER BY 1"
                )
            ):
                last = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()
                out["seq " + seq] = (int(last[0]), str(last[1]))
    finally:
        engine.dispose()
    return out


def photo_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_cli(args: list[str], url: str, photo_dir: Path):
    app = SimpleNamespace(config={"DATABASE_URL": sqlalchemy_url(url), "PHOTO_DIR": str(photo_dir)})
    return CliRunner().invoke(cli, args, obj={"app": app}, catch_exceptions=False)


def staging_left(url: str) -> list[str]:
    engine = create_engine(sqlalchemy_url(with_dbname(url, "postgres")))
    with engine.connect() as conn:
        names = conn.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
            {"p": dbname_of(url) + "\\_re%"},
        ).scalars()
        found = list(names)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def trip(database_url: str, tmp_path_factory):
    """Source filled and backed up (through the CLI) once; the target database and folder."""
    base = tmp_path_factory.mktemp("backup")
    src_url = with_dbname(database_url, dbname_of(database_url) + "_bk_src")
    dst_url = with_dbname(database_url, dbname_of(database_url) + "_bk_dst")
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import ensure_database

    _recreate(src_url)
    ensure_database(src_url)
    dbmod.upgrade(src_url)
    src_photos = base / "photos-src"
    _fill(src_url, src_photos)
    _recreate(dst_url)  # empty: not even PostGIS; the restore brings everything
    archive = base / "backup.tar"
    result = run_cli(["backup", "--output", str(archive)], src_url, src_photos)
    assert result.exit_code == 0, result.output
    yield SimpleNamespace(
        src_url=src_url,
        dst_url=dst_url,
        src_photos=src_photos,
        dst_photos=base / "elsewhere" / "photos",
        archive=archive,
        base=base,
        source=snapshot(src_url),
    )
    _recreate(src_url, drop_only=True)
    _recreate(dst_url, drop_only=True)


def test_round_trip_keeps_every_table_row_and_photo(trip):
    manifest = svc.read_archive(trip.archive).manifest
    assert manifest["alembic_revisions"] and manifest["counts"]["sites"] == N_SITES
    assert manifest["counts"]["photo_files"] == 16  # 8 originals + 8 thumbnails
    assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())
    assert trip.archive.stat().st_mode & 0o777 == 0o600  # hashes and personal data inside

    result = run_cli(["restore", str(trip.archive)], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 0, result.output
    assert "恢复完成" in result.output

    restored = snapshot(trip.dst_url)
    assert set(restored) == set(trip.source)
    assert any(t.startswith("audit.") for t in restored)
    for table, (n, digest) in trip.source.items():
        assert restored[table] == (n, digest), table
    assert trip.source["public.sites"][0] == N_SITES
    assert trip.source["audit.events"][0] > N_SITES
    assert trip.source["public.photos"][0] == 8
    assert photo_hashes(trip.dst_photos) == photo_hashes(trip.src_photos)
    assert len(photo_hashes(trip.dst_photos)) == 16
    assert staging_left(trip.dst_url) == []


def test_restored_database_verifies_and_its_policies_work(trip):
    """Needs the restore of the test above (same module, in order)."""
    from gis_app.features.audit.service import verify

    # gis-app audit verify, as an operator would run it
    result = CliRunner().invoke(
        cli, ["audit", "verify"], env={"DATABASE_URL": trip.dst_url}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert json.loads(_json_line(result.output))["ok"]

    engine = create_engine(sqlalchemy_url(trip.dst_url))
    try:
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM sites")).scalar()
            in_dzg = conn.execute(
                text(
                    "SELECT count(*) FROM sites s JOIN streets t ON t.id = s.street_id "
                    "WHERE t.code = :c"
                ),
                {"c": DZG},
            ).scalar()
            head_before = conn.execute(text("SELECT seq FROM audit.chain_head")).scalar()
            conn.commit()

            def seen(role: str, street: str = "") -> int:
                with conn.begin():
                    conn.exec_driver_sql(f'SET LOCAL ROLE "{app_role()}"')
                    conn.execute(
                        text(
                            "SELECT set_config('app.role', :r, true), "
                            "set_config('app.street', :s, true), set_config('app.user', 'u', true)"
                        ),
                        {"r": role, "s": street},
                    )
                    return conn.execute(text("SELECT count(*) FROM sites")).scalar()

            assert 0 < in_dzg < total
            assert seen("district_officer") == total
            assert seen("street_officer", DZG) == in_dzg
            assert seen("") == 0  # nothing set: the policies fail closed

            # the app's role writes through its policies; the chain goes on from the head
            with conn.begin():
                conn.exec_driver_sql(f'SET LOCAL ROLE "{app_role()}"')
                conn.execute(
                    text(
                        "SELECT set_config('app.role', 'district_officer', true), "
                        "set_config('app.street', '', true), set_config('app.user', '区办王', true)"
                    )
                )
                changed = conn.execute(
                    text(
                        "UPDATE sites SET note = 'after restore' "
                        "WHERE id = (SELECT min(id) FROM sites)"
                    )
                ).rowcount
            assert changed == 1
            assert conn.execute(text("SELECT seq FROM audit.chain_head")).scalar() > head_before
            report = verify(conn)
            assert report.ok, report.problems
    finally:
        engine.dispose()


def _json_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("{"))


def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy the archive member by member, `change(name, data)` returning the new bytes."""
    with (
        tarfile.open(archive, "r:") as src,
        tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as dst,
    ):
        for m in src:
            data = change(m.name, src.extractfile(m).read())
            info = tarfile.TarInfo(m.name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))


def test_refusals_leave_the_target_as_it_was(trip):
    """Needs the restored target of the tests above: it holds data now."""
    before = snapshot(trip.dst_url)
    photos_before = photo_hashes(trip.dst_photos)

    # a changed byte in the middle of the dump: checksum error, nothing touched
    corrupt = trip.base / "corrupt.tar"
    shutil.copy(trip.archive, corrupt)
    with tarfile.open(corrupt, "r:") as tar:
        member = tar.getmember(svc.DUMP)
        at = member.offset_data + member.size // 2
    with corrupt.open("r+b") as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0xFF]))
    result = run_cli(["restore", str(corrupt), "--yes"], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 1
    assert "database.dump 的校验和与清单不符" in result.output

    # not a backup at all: a text file, and a tar without a manifest
    wrong = trip.base / "notes.tar"
    wrong.write_text("这不是备份")
    result = run_cli(["restore", str(wrong), "--yes"], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 1 and "不是 gis-app 备份文件" in result.output
    bare = trip.base / "bare.tar"
    with tarfile.open(bare, "w") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    result = run_cli(["restore", str(bare), "--yes"], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 1 and "没有 manifest.json" in result.output

    # a dump of a newer schema than this program knows (consistent manifest)
    newer = trip.base / "newer.tar"

    def bump(name: str, data: bytes) -> bytes:
        if name != svc.MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["alembic_revisions"] = ["9999_from_the_future"]
        return json.dumps(manifest).encode()

    _rewrite(trip.archive, newer, bump)
    result = run_cli(["restore", str(newer), "--yes"], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 1 and "备份来自更新的数据库结构" in result.output

    # a member added to a good archive
    extra = trip.base / "extra.tar"
    shutil.copy(trip.archive, extra)
    with tarfile.open(extra, "a") as tar:
        info = tarfile.TarInfo("photos/originals/zz/evil.jpg")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    result = run_cli(["restore", str(extra), "--yes"], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 1 and "清单之外的成员" in result.output

    # a good archive, but the target holds data and --yes is missing
    result = run_cli(["restore", str(trip.archive)], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 1
    assert "目标不是空的" in result.output and "--yes" in result.output

    assert snapshot(trip.dst_url) == before
    assert photo_hashes(trip.dst_photos) == photos_before
    assert staging_left(trip.dst_url) == []


def test_yes_replaces_a_changed_target(trip):
    """The target drifted (a site changed, a photo file removed, a stray file): --yes puts
    back exactly the backup's state."""
    engine = create_engine(sqlalchemy_url(trip.dst_url))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE sites SET address = 'changed' WHERE id IN (SELECT id FROM sites LIMIT 3)")
        )
    engine.dispose()
    first = next(p for p in sorted(trip.dst_photos.rglob("*")) if p.is_file())
    first.unlink()
    (trip.dst_photos / "stray.txt").write_text("x")
    result = run_cli(["restore", str(trip.archive), "--yes"], trip.dst_url, trip.dst_photos)
    assert result.exit_code == 0, result.output
    assert snapshot(trip.dst_url) == trip.source
    assert photo_hashes(trip.dst_photos) == photo_hashes(trip.src_photos)
    assert staging_left(trip.dst_url) == []
    assert not list(trip.dst_photos.parent.glob(".photos.*"))


def test_a_failed_database_swap_puts_the_photos_back(trip, monkeypatch):
    """The photo folder is swapped first; when the databases cannot be swapped (here: made
    to fail), the photos go back and the target is as it was, with no staging left."""
    svc.restore_backup(trip.archive, trip.dst_url, trip.dst_photos, replace=True)
    engine = create_engine(sqlalchemy_url(trip.dst_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE sites SET address = 'kept' WHERE id = 1"))
    engine.dispose()
    before_db, before_photos = snapshot(trip.dst_url), photo_hashes(trip.dst_photos)

    def refuse(db_url, staging_name):
        raise svc.BackupError("无法替换数据库（测试）")

    monkeypatch.setattr(svc, "_swap_databases", refuse)
    with pytest.raises(svc.BackupError):
        svc.restore_backup(trip.archive, trip.dst_url, trip.dst_photos, replace=True)
    assert snapshot(trip.dst_url) == before_db
    assert photo_hashes(trip.dst_photos) == before_photos
    assert staging_left(trip.dst_url) == []
    assert not list(trip.dst_photos.parent.glob(".photos.*"))


def test_a_write_during_the_backup_is_in_neither_the_dump_nor_the_manifest(trip, monkeypatch):
    """The manifest's counts and audit head come from the snapshot pg_dump uses: a commit
    between them (here: just before pg_dump starts) changes neither, and the archive
    restores (the restore compares the restored rows with the manifest)."""
    from gis_app.core.database import DbScope, apply_scope
    from gis_app.features.accounts import service as accounts

    real_run = svc.subprocess.run

    def late_write() -> None:
        engine = create_engine(sqlalchemy_url(trip.src_url))
        with Session(engine) as s:
            apply_scope(s.connection(), DbScope("district_admin", "", "cli:test"))
            accounts.create_user(s, ADMIN, "late.writer", "迟到", "district_officer", None,
                                 "Hq5$wE7^pN2&")  # fmt: skip
            s.commit()
        engine.dispose()

    def run(args, **kwargs):
        if str(args[0]).endswith("pg_dump"):
            late_write()
        return real_run(args, **kwargs)

    monkeypatch.setattr(svc.subprocess, "run", run)
    archive = trip.base / "during.tar"
    result = run_cli(["backup", "--output", str(archive)], trip.src_url, trip.src_photos)
    assert result.exit_code == 0, result.output
    monkeypatch.undo()
    manifest = svc.read_archive(archive).manifest
    assert manifest["counts"]["users"] == trip.source["public.users"][0]
    assert manifest["audit"]["head_seq"] == trip.source["audit.events"][0]  # one event a seq
    third = with_dbname(trip.dst_url, dbname_of(trip.dst_url) + "3")
    _recreate(third)
    try:
        result = run_cli(["restore", str(archive)], third, trip.base / "third" / "photos")
        assert result.exit_code == 0, result.output
        restored = snapshot(third)
        assert restored["public.users"] == trip.source["public.users"]
        assert restored["audit.events"] == trip.source["audit.events"]
        assert snapshot(trip.src_url)["public.users"][0] == trip.source["public.users"][0] + 1
    finally:
        _recreate(third, drop_only=True)


def test_the_tools_get_the_password_by_environment_not_command_line() -> None:
    target, env = svc.tool_target("postgresql+psycopg2://gis:s%40cret@db.example:6543/ledger")
    assert target == "postgresql://gis@db.example:6543/ledger" and env["PGPASSWORD"] == "s@cret"
    target, env = svc.tool_target("postgresql://gisapp@127.0.0.1:55432/gis_app")
    assert target == "postgresql://gisapp@127.0.0.1:55432/gis_app"
