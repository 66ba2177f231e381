"""Point-in-time recovery with pgBackRest: a cluster archiving its WAL into an encrypted
repository, a full base backup, sites and photos written, a moment T noted, more written;
recovered to T in a fresh place, the database and the photo files are exactly those of T and
the audit chain verifies there. The figures (recovery time, recovery point) are printed."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.cli import cli
from gis_app.core.actor import Actor
from gis_app.core.database import sqlalchemy_url
from gis_app.core.localdb import SERVICE_USER
from gis_app.features.ledger.service import create_site
from gis_app.features.ops import pitr
from gis_app.features.photos import service as photos
from tests.support.faults import scratch_cluster
from tests.support.sites import site_payload
from tests.support.workflow import image_bytes

pytestmark = pytest.mark.slow
STANZA = "gis-app"
OFFICE = Actor("pitr.office", "district_officer")
LIMITS = photos.PhotoLimits(max_bytes=20 * 1024 * 1024, max_pixels=60_000_000)


def _own(path: Path, user: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


def _write(engine, store, prefix: str, n: int, colour0: int) -> set[str]:
    codes = set()
    with Session(engine) as s, s.begin():
        for i in range(n):
            code = f"{prefix}-{i:03d}"
            site = create_site(s, site_payload(code=code), OFFICE)
            data = image_bytes(colour=(colour0 + i * 7, 40, 90), size=(96, 64))
            photos.add_photo(s, store, LIMITS, site.id, OFFICE, data, f"{code}.jpg", "before")
            codes.add(code)
    return codes


def _photo_files(engine) -> set[str]:
    store = photos.PhotoStore("/")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sha256, media_type FROM photos")).all()
    out = set()
    for sha, media in rows:
        out.add(store.original(sha, media).relative_to("/").as_posix())
        out.add(store.thumbnail(sha).relative_to("/").as_posix())
    return out


def _files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_recover_database_and_photos_to_a_moment(tmp_path):
    owner = SERVICE_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    base = _own(Path(tempfile.mkdtemp(prefix="gis-pitr-", dir="/tmp")), owner)
    conf = base / "pgbackrest.conf"
    # archiving from the first start (the repository's configuration follows: until it is
    # there, PostgreSQL keeps the finished WAL segments and tries again)
    try:
        with scratch_cluster(pitr.archive_settings(conf, STANZA)) as cluster:
            _pitr_round_trip(cluster, base, conf, tmp_path)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _pitr_round_trip(cluster, base: Path, conf: Path, tmp_path: Path) -> None:
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import ensure_database
    from gis_app.demo.loader import STREETS_FILE, ensure_district_outline
    from gis_app.features.streets.service import import_streets

    conf.write_text(
        pitr.config_text(
            stanza=STANZA,
            repo=_own(base / "repo", cluster.owner),
            cipher_pass=secrets.token_urlsafe(32),
            pg_data=cluster.data,
            pg_port=cluster.port,
            pg_socket=cluster.home,
            pg_user=cluster.owner,
            log_dir=_own(base / "log", cluster.owner),
            lock_dir=_own(base / "lock", cluster.owner),
            spool_dir=_own(base / "spool", cluster.owner),
        )
    )
    os.chmod(conf, 0o644)
    url = cluster.url()
    ensure_database(url)
    dbmod.upgrade(url)
    engine = create_engine(sqlalchemy_url(url))
    with Session(engine) as s, s.begin():
        ensure_district_outline(s)
        import_streets(s, STREETS_FILE, approximate=True)
    pgbr = pitr.PgBackRest(conf, STANZA, cluster.owner)
    pgbr.create_stanza()
    started = time.monotonic()
    pgbr.backup("full")
    backup_s = time.monotonic() - started
    info = pgbr.info()
    assert info[0]["cipher"] == "aes-256-cbc" and len(info[0]["backup"]) == 1
    # pgBackRest keeps a backup's stop time in whole seconds and wants it before the target:
    # T in the same second as the backup's end finds no backup set
    time.sleep(1.1)

    photo_dir, photo_repo = tmp_path / "photos", tmp_path / "photo-repo"
    store = photos.PhotoStore(photo_dir)
    before = _write(engine, store, "PITR-A", 4, 20)
    files_at_t = _photo_files(engine)
    pitr.sync_photos(photo_dir, photo_repo)
    with engine.connect() as conn:
        target = conn.execute(text("SELECT clock_timestamp()")).scalar()
        events_at_t = conn.execute(text("SELECT count(*) FROM audit.events")).scalar()
    time.sleep(0.3)
    after = _write(engine, store, "PITR-B", 3, 160)
    assert len(_photo_files(engine)) > len(files_at_t)
    synced = pitr.sync_photos(photo_dir, photo_repo)
    assert synced["copied"] == 6 and synced["files"] == 14  # 3 new originals + thumbs
    pgbr.run("check")  # closes the current WAL segment and waits for it in the repository
    engine.dispose()

    # gis-app recover --to T --swap --yes: recovered in a fresh place, checked there,
    # then put in place of the live database and photo folder (which hold A and B)
    result = CliRunner().invoke(
        cli,
        ["recover", "--to", target.isoformat(), "--into", str(cluster.home / "recovered"),
         "--swap", "--yes"],
        env={
            "DATABASE_URL": url,
            "GIS_APP_PHOTO_DIR": str(photo_dir),
            "GIS_APP_PGBACKREST_CONFIG": str(conf),
            "GIS_APP_PGBACKREST_STANZA": STANZA,
            "GIS_APP_PGBACKREST_USER": cluster.owner,
            "GIS_APP_PHOTO_BACKUP_DIR": str(photo_repo),
        },
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["audit_chain"]["ok"] and report["audit_chain"]["checked"] == events_at_t
    assert report["counts"] == {"sites": 4, "photos": 4, "audit.events": events_at_t}
    assert report["photos_missing"] == [] and report["swapped_in"]

    live = create_engine(sqlalchemy_url(url))
    with live.connect() as conn:
        codes = set(conn.execute(text("SELECT code FROM sites")).scalars())
        events = conn.execute(text("SELECT count(*) FROM audit.events")).scalar()
    assert codes == before and not codes & after
    assert events == events_at_t
    assert _files_under(photo_dir) == files_at_t == _photo_files(live)
    assert pitr.manifest_at(photo_repo, target)["files"].keys() == files_at_t
    live.dispose()
    print(
        f"\n[pitr] full backup {backup_s:.1f} s; recover to T: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in report["seconds"].items())
    )


def test_recover_refuses_a_time_without_zone_and_an_unconfirmed_swap():
    runner = CliRunner()
    naive = runner.invoke(cli, ["recover", "--to", "2026-12-05 14:03"])
    assert naive.exit_code == 1 and "须带时区" in naive.stderr
    bad = runner.invoke(cli, ["recover", "--to", "yesterday"])
    assert bad.exit_code == 1 and "--to 应为带时区的时间" in bad.stderr
    unconfirmed = runner.invoke(cli, ["recover", "--to", "2026-12-05 14:03+08", "--swap"])
    assert unconfirmed.exit_code == 1 and "--yes" in unconfirmed.stderr
