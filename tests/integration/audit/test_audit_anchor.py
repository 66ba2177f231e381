"""The audit chain's reach (issue 16, point 9): its head anchored outside the database.

Two forgeries the chain alone does not show — deleting the last events and moving the head
back, and changing an event then recomputing every hash after it — are found against a head
recorded before (`verify(anchor=…)`, `gis-app audit verify --head`, the anchors file that
`gis-app daily` appends to, keyed with an HMAC the database never holds).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gis_app.features.audit import service as audit

pytestmark = pytest.mark.slow
ROW = text(
    "SELECT prev_hash, to_char(at AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS at_text, actor, app_role, table_name,'
    " coalesce(row_id, '') AS row_id, coalesce(site_id::text, '') AS site_id,"
    " action, coalesce(before::text, '') AS b, coalesce(after::text, '') AS a"
    " FROM audit.events WHERE seq = :s"
)


def _write(engine, who: str, n: int) -> None:
    """`n` committed transactions by `who`, each inserting and updating an audited row."""
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.user', :u, true)"), {"u": who})
            batch = conn.execute(
                text(
                    "INSERT INTO import_batches (district_code, filename, sha256, file_format,"
                    " rows, actor) VALUES ('120102', :f, repeat('0', 64), 'csv', 1, :u)"
                    " RETURNING id"
                ),
                {"f": f"{who}-{i}.csv", "u": who},
            ).scalar_one()
            conn.execute(text("UPDATE import_batches SET rows = 2 WHERE id = :i"), {"i": batch})


def _head(conn) -> audit.Anchor:
    head = conn.execute(text("SELECT seq, hash FROM audit.chain_head")).one()
    return audit.Anchor(int(head.seq), head.hash)


def _rehash_from(conn, seq: int) -> None:
    """Recompute every hash from `seq` on, and the head: a chain whole again."""
    prev = conn.execute(text("SELECT prev_hash FROM audit.events WHERE seq = :s"), {"s": seq})
    prev = prev.scalar_one()
    last = conn.execute(text("SELECT max(seq) FROM audit.events")).scalar_one()
    for s in range(seq, last + 1):
        r = conn.execute(ROW, {"s": s}).one()
        values = [r.actor, r.app_role, r.table_name, r.row_id, r.site_id, r.action, r.b, r.a]
        digest = audit.event_hash(prev, s, r.at_text, values)
        conn.execute(
            text("UPDATE audit.events SET prev_hash = :p, hash = :h WHERE seq = :s"),
            {"p": prev, "h": digest, "s": s},
        )
        prev = digest
    conn.execute(text("UPDATE audit.chain_head SET seq = :s, hash = :h"), {"s": last, "h": prev})


def test_cutting_the_tail_and_moving_the_head_back_is_found(scratch_db) -> None:
    _url, engine = scratch_db
    _write(engine, "anchor-seed", 4)
    with engine.connect() as conn:
        anchor = _head(conn)
        conn.rollback()  # the read ends its transaction: the forgery gets its own
        trans = conn.begin()
        try:
            conn.execute(text("ALTER TABLE audit.events DISABLE TRIGGER USER"))
            conn.execute(text("DELETE FROM audit.events WHERE seq > :s"), {"s": anchor.seq - 3})
            conn.execute(
                text(
                    "UPDATE audit.chain_head SET seq = e.seq, hash = e.hash "
                    "FROM audit.events e WHERE e.seq = :s"
                ),
                {"s": anchor.seq - 3},
            )
            assert audit.verify(conn).ok  # the chain alone looks whole
            report = audit.verify(conn, anchor=anchor)
            by_hash = audit.verify(conn, anchor=audit.Anchor(None, anchor.hash))
        finally:
            trans.rollback()
    assert [p.kind for p in report.problems] == ["anchor"]
    assert [p.kind for p in by_hash.problems] == ["anchor"]
    assert "链头被移回" in report.problems[0].message


def test_changing_an_event_and_rehashing_the_rest_is_found(scratch_db) -> None:
    _url, engine = scratch_db
    _write(engine, "anchor-seed2", 3)
    with engine.connect() as conn:
        anchor = _head(conn)
        conn.rollback()  # the read ends its transaction: the forgery gets its own
        trans = conn.begin()
        try:
            conn.execute(text("ALTER TABLE audit.events DISABLE TRIGGER USER"))
            target = anchor.seq - 4
            conn.execute(
                text("UPDATE audit.events SET actor = 'forger' WHERE seq = :s"), {"s": target}
            )
            _rehash_from(conn, target)
            assert audit.verify(conn).ok  # rehashed: the chain alone looks whole
            report = audit.verify(conn, anchor=anchor)
        finally:
            trans.rollback()
    assert [(p.kind, p.seq) for p in report.problems] == [("anchor", anchor.seq)]
    assert "重算" in report.problems[0].message


def test_the_anchors_file_is_keyed_and_linked(scratch_db, tmp_path) -> None:
    _url, engine = scratch_db
    key = audit.anchor_key("a secret the database never holds")
    path = tmp_path / "heads.log"
    with engine.connect() as conn:
        first = audit.append_anchor(conn, path, key)
    _write(engine, "anchor-seed3", 1)
    with engine.connect() as conn:
        second = audit.append_anchor(conn, path, key)
    assert [a for _, a in audit.read_anchors(path, key)] == [first, second]
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="校验码不符"):
        audit.read_anchors(path, audit.anchor_key("another key"))
    lines = path.read_text().splitlines()
    forged = lines[1].split()
    forged[1] = str(first.seq)  # the head moved back in the file too: its MAC no longer fits
    path.write_text(lines[0] + "\n" + " ".join(forged) + "\n")
    with pytest.raises(ValueError, match="第 2 行"):
        audit.read_anchors(path, key)
    path.write_text(lines[1] + "\n")  # the first line removed
    with pytest.raises(ValueError, match="第 1 行"):
        audit.read_anchors(path, key)


def test_cli_verify_takes_a_head_and_daily_records_one(scratch_db, tmp_path) -> None:
    from gis_app import create_app
    from gis_app.cli import cli

    url, engine = scratch_db
    _write(engine, "anchor-cli", 1)
    heads = tmp_path / "heads.log"
    app = create_app({"DATABASE_URL": url, "DB_CONNECT_AS": "owner", "AUDIT_HEAD_FILE": str(heads)})
    runner = CliRunner()
    daily = runner.invoke(cli, ["daily"], obj={"app": app})
    assert daily.exit_code == 0, daily.output
    assert len(heads.read_text().splitlines()) == 1
    ok = runner.invoke(cli, ["audit", "verify"], obj={"app": app})
    assert ok.exit_code == 0, ok.output
    assert "对照链头" in ok.stderr
    with engine.connect() as conn:
        head = _head(conn)
    given = runner.invoke(cli, ["audit", "verify", "--head", f"{head.seq}:{head.hash}"],
                          obj={"app": app})  # fmt: skip
    assert given.exit_code == 0, given.output
    unknown = runner.invoke(cli, ["audit", "verify", "--head", "f" * 64], obj={"app": app})
    assert unknown.exit_code == 1 and "已不在链中" in unknown.stderr
    bad = runner.invoke(cli, ["audit", "verify", "--head", "nope"], obj={"app": app})
    assert bad.exit_code == 1


def test_a_row_changed_past_the_triggers_is_found(scratch_db) -> None:
    _url, engine = scratch_db
    _write(engine, "rows-seed", 2)
    with engine.connect() as conn:
        assert audit.unaudited_rows(conn) == []
        conn.rollback()
        trans = conn.begin()
        try:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            batch = conn.execute(text("SELECT max(id) FROM import_batches")).scalar_one()
            conn.execute(text("UPDATE import_batches SET rows = 99 WHERE id = :i"), {"i": batch})
            conn.execute(text("SET LOCAL session_replication_role = origin"))
            found = audit.unaudited_rows(conn)
            assert audit.verify(conn).ok  # the chain itself is whole
        finally:
            trans.rollback()
    assert [p.kind for p in found] == ["unaudited"]
    assert f"import_batches）{batch}" in found[0].message
