"""The local cluster plans for solid-state disks, also when it was made before that setting."""

from __future__ import annotations

from pathlib import Path

from gis_app.core import localdb


def test_an_older_cluster_gets_the_planner_settings_once(tmp_path: Path, monkeypatch) -> None:
    cluster = localdb.LocalCluster(home=tmp_path, owner="nobody")
    cluster.data.mkdir()
    conf = cluster.data / "postgresql.conf"
    conf.write_text("#random_page_cost = 4.0\t\t# same scale as above\nport = 5\n")
    calls: list[list[str]] = []
    monkeypatch.setattr(localdb, "run_as", lambda owner, args, **kw: calls.append(args))

    localdb.ensure_planner_settings(cluster, Path("/usr/lib/postgresql/15/bin"))
    text = conf.read_text()
    assert "\nrandom_page_cost = 1.1\n" in text and "effective_cache_size = 8GB" in text
    assert calls == [["/usr/lib/postgresql/15/bin/pg_ctl", "reload", "-D", str(cluster.data)]]

    localdb.ensure_planner_settings(cluster, Path("/usr/lib/postgresql/15/bin"))
    assert conf.read_text() == text and len(calls) == 1  # set once, not appended again
