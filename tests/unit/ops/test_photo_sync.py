"""The photo copy beside pgBackRest: only new files are copied, each run writes a manifest of
what the store held, and the manifest of a moment is the last one written before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gis_app.features.ops import pitr


def _put(root, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_incremental_copy_and_manifests(tmp_path):
    store, repo = tmp_path / "photos", tmp_path / "repo"
    t0 = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    _put(store, "originals/ab/ab12.jpg", b"one")
    _put(store, "thumbs/ab/ab12.jpg", b"t-one")
    _put(store, "originals/ab/.upload-x", b"half written")  # a temporary file: not copied
    first = pitr.sync_photos(store, repo, now=t0)
    assert (first["copied"], first["files"]) == (2, 2)
    _put(store, "originals/cd/cd34.png", b"two")
    second = pitr.sync_photos(store, repo, now=t0 + timedelta(minutes=5))
    assert (second["copied"], second["files"]) == (1, 3)
    again = pitr.sync_photos(store, repo, now=t0 + timedelta(minutes=10))
    assert again["copied"] == 0
    assert (repo / "files" / "originals/cd/cd34.png").read_bytes() == b"two"
    assert not (repo / "files" / "originals/ab/.upload-x").exists()
    assert pitr.manifest_at(repo, t0 - timedelta(seconds=1)) is None
    at_t1 = pitr.manifest_at(repo, t0 + timedelta(minutes=1))
    assert set(at_t1["files"]) == {"originals/ab/ab12.jpg", "thumbs/ab/ab12.jpg"}
    assert len(pitr.manifest_at(repo, t0 + timedelta(hours=1))["files"]) == 3


def test_the_pgbackrest_configuration_is_encrypted_with_retention(tmp_path):
    text = pitr.config_text(
        stanza="gis-app", repo=tmp_path / "repo", cipher_pass="secret", pg_data=tmp_path / "d",
        pg_port=5432, pg_socket=tmp_path, pg_user="postgres", log_dir=tmp_path,
        lock_dir=tmp_path, spool_dir=tmp_path, retention_full=3,
    )  # fmt: skip
    assert "repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=secret\n" in text
    assert "repo1-retention-full=3\n" in text and "[gis-app]\n" in text
    archive = pitr.archive_settings(tmp_path / "pgbackrest.conf", "gis-app")
    assert "archive_mode = on" in archive and "--stanza=gis-app archive-push %p" in archive
