"""The audit trail: every change recorded by the database with who, before and after; the
hash chain appended at commit, one transaction after another (no fork under parallel
writers); `gis-app audit verify` naming a changed or deleted event; the office's pages.

The chain needs real commits, so those tests run in a database of their own (`scratch_db`,
migrated afresh), and never touch the shared test database."""

from __future__ import annotations

import re
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from gis_app.features.audit import service as audit

WRITERS = 6
TRANSACTIONS = 15


def _write(engine: Engine, who: str, n: int) -> None:
    """`n` transactions by `who`, each inserting and updating an audited row."""
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


def test_parallel_writers_make_one_unbroken_chain(scratch_db) -> None:
    _url, engine = scratch_db
    with engine.connect() as conn:
        start = conn.execute(text("SELECT seq FROM audit.chain_head")).scalar_one()
    errors: list[BaseException] = []

    def run(who: str) -> None:
        try:
            _write(engine, who, TRANSACTIONS)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"writer{i}",)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        report = audit.verify(conn)
        forks = conn.execute(
            text("SELECT count(*) - count(DISTINCT prev_hash) FROM audit.events")
        ).scalar_one()
        per_xact = conn.execute(
            text(
                "SELECT bool_and(max_seq - min_seq + 1 = n) FROM (SELECT xact, min(seq) AS "
                "min_seq, max(seq) AS max_seq, count(*) AS n FROM audit.events GROUP BY xact) x"
            )
        ).scalar_one()
    added = WRITERS * TRANSACTIONS * 2  # an insert and an update each
    assert report.ok, report.problems
    assert report.head_seq - start == added and report.checked == report.head_seq
    assert forks == 0  # no two events hang on the same predecessor
    assert per_xact  # a transaction's events are contiguous in the chain
    print(f"\n[audit] {WRITERS} parallel writers, {added} events: chain intact, 0 forks")


@pytest.mark.parametrize(
    ("tamper", "kind", "which"),
    [
        ("UPDATE audit.events SET after = jsonb_set(after, '{rows}', '9') WHERE seq = 5",
         "changed", 5),
        ("UPDATE audit.events SET actor = 'nobody' WHERE seq = 3", "changed", 3),
        ("DELETE FROM audit.events WHERE seq = 7", "missing", 7),
        ("DELETE FROM audit.events WHERE seq >= (SELECT seq FROM audit.chain_head) - 1",
         "missing", None),
        ("UPDATE audit.events SET hash = encode(sha256(convert_to('x', 'UTF8')), 'hex') "
         "WHERE seq = 4", "changed", 4),
        ("INSERT INTO audit.events (actor, app_role, table_name, action) "
         "VALUES ('ghost', '', 'sites', 'delete')", "outside_chain", None),
    ],
)  # fmt: skip
def test_verify_names_the_tampered_event(scratch_db, tamper, kind, which) -> None:
    _url, engine = scratch_db
    with engine.connect() as conn:
        head = conn.execute(text("SELECT seq FROM audit.chain_head")).scalar_one()
    if head < 10:
        _write(engine, "seed", 6)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            # the ghost is written past the chain's trigger, as a forger with the owner's
            # rights would
            conn.execute(text("ALTER TABLE audit.events DISABLE TRIGGER chain"))
            conn.execute(text(tamper))  # the owner (a superuser here) tampers
            report = audit.verify(conn)
        finally:
            trans.rollback()
        assert not report.ok
        problem = report.problems[0]
        assert problem.kind == kind, problem
        if which is not None:
            assert problem.seq == which, problem
        assert audit.verify(conn).ok  # rolled back: intact again


def test_a_forger_who_rehashes_is_caught_by_the_next_event(scratch_db) -> None:
    """Changing an event and recomputing its own hash correctly still breaks the link the
    next event holds."""
    _url, engine = scratch_db
    _write(engine, "forge-seed", 3)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            seq = conn.execute(text("SELECT seq FROM audit.chain_head")).scalar_one() - 2
            row = conn.execute(
                text(
                    "SELECT prev_hash, to_char(at AT TIME ZONE 'UTC', "
                    '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS at_text, app_role, table_name,'
                    " coalesce(row_id, '') AS row_id, coalesce(site_id::text, '') AS site_id,"
                    " action, coalesce(before::text, '') AS b, coalesce(after::text, '') AS a"
                    " FROM audit.events WHERE seq = :s"
                ),
                {"s": seq},
            ).one()
            values = ["forger", row.app_role, row.table_name, row.row_id, row.site_id]
            forged = audit.event_hash(
                row.prev_hash, seq, row.at_text, [*values, row.action, row.b, row.a]
            )
            conn.execute(
                text("UPDATE audit.events SET actor = 'forger', hash = :h WHERE seq = :s"),
                {"h": forged, "s": seq},
            )
            report = audit.verify(conn)
        finally:
            trans.rollback()
    assert [(p.kind, p.seq) for p in report.problems] == [("changed", seq)]
    assert "记录的前一哈希" in report.problems[0].message


def test_cli_verify_reports_ok_and_failure(scratch_db) -> None:
    from gis_app import create_app
    from gis_app.cli import cli

    url, engine = scratch_db
    _write(engine, "cli-seed", 2)
    app = create_app({"DATABASE_URL": url, "DB_CONNECT_AS": "owner"})
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"], obj={"app": app})
    assert ok.exit_code == 0, ok.output
    assert '"ok": true' in ok.output and "审计链完好" in ok.output
    with engine.begin() as conn:
        original = conn.execute(text("SELECT actor FROM audit.events WHERE seq = 2")).scalar()
        conn.execute(text("UPDATE audit.events SET actor = 'x' WHERE seq = 2"))
    try:
        bad = runner.invoke(cli, ["audit", "verify"], obj={"app": app})
        assert bad.exit_code == 1
        assert "第 2 号审计事件被改动" in bad.output
    finally:
        with engine.begin() as conn:  # put it back for the other tests of the module
            conn.execute(text("UPDATE audit.events SET actor = :a WHERE seq = 2"), {"a": original})
    with engine.connect() as conn:
        assert audit.verify(conn).ok
    app.extensions["gis_db"].engine.dispose()


def test_every_app_table_is_audited(connection) -> None:
    """A table added later without the audit trigger is caught here (sessions and login
    attempts are left out on purpose: short-lived plumbing). Bulk reference data may be
    audited per statement instead of per row (`audit_statement_*`, e.g. roads: 0013_roads)."""
    tables = set(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
    ) - {
        "spatial_ref_sys",
        "alembic_version",
        "user_sessions",
        "login_attempts",
        "tile_versions",
        "site_cells",
        "site_cell_squares",
    }
    audited = set(
        connection.execute(
            text(
                """
                SELECT c.relname FROM pg_class c
                WHERE EXISTS (SELECT 1 FROM pg_trigger t
                              WHERE t.tgrelid = c.oid AND t.tgname = 'audit_row')
                   OR (SELECT count(*) FROM pg_trigger t
                       WHERE t.tgrelid = c.oid AND t.tgname IN (
                         'audit_statement_insert', 'audit_statement_update',
                         'audit_statement_delete')) = 3
                """
            )
        ).scalars()
    )
    assert tables - audited == set()


def test_office_reads_a_site_and_a_user_trail(client, auth, db_session) -> None:
    from tests.support.workflow import DZG, make_site

    site = make_site(db_session)
    street = auth.headers("街道李", "street_officer", DZG)
    moved = client.post(
        f"/api/v1/sites/{site.id}/transitions", json={"to": "in_progress"}, headers=street
    )
    assert moved.status_code == 200
    auth.login(client, "区办王", "district_officer")
    page = client.get(f"/audit/sites/{site.id}").get_data(as_text=True)
    assert f"点位 {site.code} 的审计记录" in page
    assert page.count('data-table="sites"') >= 2 and 'data-table="site_events"' in page
    assert "in_progress" in page and "街道李" in page and "（待入链）" in page
    user_page = client.get("/audit/users/街道李").get_data(as_text=True)
    assert 'data-action="update"' in user_page and f"点位 {site.id}" in user_page
    search = client.get(f"/audit/?site={site.code}").get_data(as_text=True)
    assert f"点位 {site.code} 的审计记录" in search
    auth.login(client, "街道李", "street_officer", "120102002")
    assert client.get(f"/audit/sites/{site.id}").status_code == 403


def test_a_large_transaction_is_chained_by_primary_key_lookups(scratch_db) -> None:
    """One transaction of 4,000 events joins the chain whole; the per-event check at commit
    reads the event by its primary key (the partial index of unchained events holds every
    event of a large transaction, which made each check read them all: quadratic)."""
    _url, engine = scratch_db
    with engine.connect() as conn:
        start = conn.execute(text("SELECT seq FROM audit.chain_head")).scalar_one()
        body = conn.execute(
            text("SELECT pg_get_functiondef('audit.chain()'::regprocedure)")
        ).scalar_one()
    lookup = r"SELECT e\.seq INTO chained FROM audit\.events e WHERE e\.id = NEW\.id"
    assert re.search(lookup, body), "audit.chain() must look its event up by primary key"
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.user', 'bulk', true)"))
        conn.execute(
            text(
                "INSERT INTO import_batches (district_code, filename, sha256, file_format, rows,"
                " actor) SELECT '120102', 'bulk-' || i || '.csv', repeat('0', 64), 'csv', 1,"
                " 'bulk' FROM generate_series(1, 2000) AS i"
            )
        )
        conn.execute(text("UPDATE import_batches SET rows = 2 WHERE actor = 'bulk'"))
        plan = (
            conn.execute(
                text("EXPLAIN SELECT e.seq FROM audit.events e WHERE e.id = :i"), {"i": start + 1}
            )
            .scalars()
            .all()
        )
    assert any("events_pkey" in line for line in plan), plan
    with engine.connect() as conn:
        report = audit.verify(conn)
        unchained = conn.execute(
            text("SELECT count(*) FROM audit.events WHERE seq IS NULL")
        ).scalar_one()
    assert report.ok, report.problems
    assert report.head_seq - start == 4000 and unchained == 0
