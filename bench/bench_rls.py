"""What the second wall and the audit trail cost: the same queries as the owner (row-level
security not applied; the services' own street scope only) and as the app's database role
(the services' scope and RLS, as in production); and writes with and without the audit
triggers. Same run, same data; ratios against the baseline.

    .venv/bin/python -m bench.bench_rls [--sites 20000] [--repeat 9]

Uses a database of its own (`<name>_bench_accounts`, dropped and made again), loads the demo
district, prints a Markdown table of medians and ratios, and the plans of the street's list.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bench import report
from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.database import DbScope, apply_scope, sqlalchemy_url
from gis_app.core.db_security import app_role
from gis_app.core.localdb import dbname_of, ensure_database, resolve_url, with_dbname
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.queries import SiteFilter, counts_by_status, list_features

TODAY = date(2026, 6, 15)
STREET = "120102002"


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm the cache
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def in_scope(session: Session, scope: DbScope | None, work: Callable[[], object]) -> Callable:
    """Run `work` in a fresh transaction, as the owner (None) or the app role with `scope`."""

    def run() -> object:
        session.rollback()
        if scope is not None:
            apply_scope(session.connection(), scope)
        try:
            return work()
        finally:
            session.rollback()

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--doc", type=Path, default=report.DOC, help="document to write into")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    table: list[str] = []

    def out(line: str) -> None:
        print(line)
        table.append(line)

    base = resolve_url()
    url = with_dbname(base, dbname_of(base) + "_bench_accounts")
    admin = create_engine(
        sqlalchemy_url(with_dbname(base, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
    ensure_database(url)
    from gis_app.core import database as dbmod

    dbmod.upgrade(url)
    engine = create_engine(sqlalchemy_url(url))
    clock.freeze(f"{TODAY.isoformat()}T10:00:00+08:00")
    from gis_app.demo.loader import load_demo

    role = app_role()
    district = Actor("bench.office", "district_officer")
    street = Actor("bench.street", "street_officer", STREET)
    with Session(engine) as session:
        t0 = time.perf_counter()
        load_demo(session, n_sites=args.sites, seed=1, today=TODAY)
        load_s = time.perf_counter() - t0
        session.execute(text("ANALYZE"))
        session.commit()
        events = session.scalar(select(func.count()).select_from(SiteEvent))
        one_site = session.scalar(
            select(Site.id).join(SiteEvent, SiteEvent.site_id == Site.id).limit(1)
        )
        flt = SiteFilter()

        def count(actor: Actor) -> Callable[[], object]:
            return lambda: counts_by_status(session, flt, TODAY, actor)

        def page(actor: Actor) -> Callable[[], object]:
            return lambda: list_features(session, flt, TODAY, 1000, 0, actor=actor)

        def history() -> object:
            return session.execute(select(SiteEvent.id).where(SiteEvent.site_id == one_site)).all()

        def scope(actor: Actor) -> DbScope:
            return DbScope(actor.role, actor.street_code or "", actor.name, role)

        rows = [
            ("district: counts by status", count(district)),
            ("district: first 1000 features", page(district)),
            ("street: counts by status", count(street)),
            ("street: first 1000 features", page(street)),
        ]
        print(
            f"{args.sites} sites, {events} events; demo load {load_s:.1f} s (audit chain "
            f"included); {platform.processor() or platform.machine()}, median of {args.repeat}"
        )
        out("| query | owner, services' scope only (baseline) | app role + RLS | ratio |")
        out("|---|---:|---:|---:|")
        for name, work in rows:
            actor = district if name.startswith("district") else street
            a = timed(in_scope(session, None, work), args.repeat)
            b = timed(in_scope(session, scope(actor), work), args.repeat)
            out(f"| {name} | {a * 1000:.1f} ms | {b * 1000:.1f} ms | {b / a:.2f} |")
        a = timed(in_scope(session, None, history), args.repeat)
        b = timed(in_scope(session, scope(street), history), args.repeat)
        out(f"| street: one site's events | {a * 1000:.2f} ms | {b * 1000:.2f} ms | {b / a:.2f} |")

        ids = list(session.scalars(select(Site.id).order_by(Site.id).limit(300)))

        def updates() -> None:
            for site_id in ids:  # one transaction each, as the app does
                session.execute(
                    text("UPDATE sites SET note = note || '.' WHERE id = :i"), {"i": site_id}
                )
                session.commit()

        with_audit = timed(updates, 3)
        session.execute(text("ALTER TABLE sites DISABLE TRIGGER audit_row"))
        session.commit()
        without = timed(updates, 3)
        session.execute(text("ALTER TABLE sites ENABLE TRIGGER audit_row"))
        session.commit()
        out(
            f"| 300 site updates, a transaction each | {without * 1000:.0f} ms (no audit) | "
            f"{with_audit * 1000:.0f} ms (audit + chain) | {with_audit / without:.2f} |"
        )
        session.rollback()
        apply_scope(session.connection(), scope(street))
        plan = session.execute(
            text(
                "EXPLAIN SELECT count(*) FROM sites WHERE deleted_at IS NULL "
                "AND status = 'in_progress'"
            )
        ).scalars()
        print("\nplan of a street's count as the app role:\n    " + "\n    ".join(plan))
        session.rollback()
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
    admin.dispose()
    if not args.no_write:
        given = argv if argv is not None else sys.argv[1:]
        command = ("python -m bench.bench_rls " + " ".join(given)).strip()
        write(table, args, events, load_s, command)


def write(
    table: list[str], args: argparse.Namespace, events: int, load_s: float, command: str
) -> None:
    machine = f"{report.machine()}; {report.postgres_version()}"
    body = "\n".join(
        [
            "## Accounts: row-level security and the audit trail",
            "",
            report.meta_line("Row-level security and audit", command, machine),
            "What the second wall and the audit cost. Baseline: the same service queries as "
            "the owner (RLS not applied; the services' own street scope only), measured in the "
            'same run on the same data. "App role + RLS" is production: `SET LOCAL ROLE '
            "gis_app_web`, `app.role/street/user` set per transaction (inside the timing), the "
            "policies' street list as an InitPlan, so a street's rows still come from the "
            "`ix_sites_street_status` index. Writes pay for the audit row and the chain step "
            "at commit.",
            "",
            f"Machine: {machine}, load average {report.load_average()}, "
            f"{date.today().isoformat()}. Command: `{command}` (demo district, "
            f"{args.sites:,} sites, {events:,} events, demo load {load_s:.0f} s with the "
            f"audit chain; medians of {args.repeat}).",
            "",
            *table,
            "",
            "The machine is shared, so single runs vary by ±30 %; the ratios are what to compare.",
        ]
    )
    report.write_section("rls_bench", body, args.doc)


if __name__ == "__main__":
    main()
