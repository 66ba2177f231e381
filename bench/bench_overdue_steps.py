"""What the step plans cost the overdue rule: counts and a page of the site list with the
foundation's deadline-only expression (baseline) and with the step-aware one, same run.

    .venv/bin/python -m bench.bench_overdue_steps [--sites 20000] [--repeat 7]

Uses a database of its own (`<name>_bench_workflow`, dropped and made again), loads the demo
district with its workflow history (step plans included), and prints a Markdown table of medians
and ratios against the baseline.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import and_, create_engine, func, literal, text
from sqlalchemy.orm import Session

from bench import report
from gis_app.core import clock
from gis_app.core.database import sqlalchemy_url
from gis_app.core.localdb import dbname_of, ensure_database, resolve_url, with_dbname
from gis_app.features.ledger import queries as site_query
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import SiteFilter, base_select, feature_expr

TODAY = date(2026, 6, 15)


def deadline_only(today: date):
    return and_(
        Site.status != "closed",
        Site.current_deadline.is_not(None),
        Site.current_deadline < literal(today),
    )


def timed(fn, repeat: int) -> float:
    fn()  # warm the cache
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--doc", type=Path, default=report.DOC, help="document to write into")
    args = parser.parse_args(argv)

    base = resolve_url()
    url = with_dbname(base, dbname_of(base) + "_bench_workflow")
    admin = create_engine(
        sqlalchemy_url(with_dbname(base, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
    admin.dispose()
    ensure_database(url)
    from gis_app.core import database as dbmod

    dbmod.upgrade(url)
    engine = create_engine(sqlalchemy_url(url))
    clock.freeze(f"{TODAY.isoformat()}T10:00:00+08:00")
    from gis_app.demo.loader import load_demo

    with Session(engine) as session, session.begin():
        t0 = time.perf_counter()
        load_demo(session, n_sites=args.sites, seed=1, today=TODAY)
        load_s = time.perf_counter() - t0
        session.execute(text("ANALYZE"))
        steps = session.scalar(text("SELECT count(*) FROM site_steps"))
        flt = SiteFilter()
        conds = flt.conditions(TODAY)

        def count_with(expr):
            return lambda: session.execute(
                base_select([func.count()]).where(*conds, expr)
            ).scalar_one()

        def page_with(expr):
            return lambda: session.execute(
                base_select([feature_expr(TODAY), expr])
                .where(*conds, expr)
                .order_by(Site.id)
                .limit(1000)
            ).all()

        rows = [
            ("count overdue sites", count_with(deadline_only(TODAY)),
             count_with(site_query.overdue_expr(TODAY))),
            ("first 1000 overdue features", page_with(deadline_only(TODAY)),
             page_with(site_query.overdue_expr(TODAY))),
        ]  # fmt: skip
        header = (
            f"{args.sites} sites, {steps} steps; demo load {load_s:.1f} s; "
            f"{platform.processor() or platform.machine()}, median of {args.repeat}"
        )
        lines = [
            "| query | deadline only (baseline) | with step plans | ratio |",
            "|---|---:|---:|---:|",
        ]
        for name, before, after in rows:
            a, b = timed(before, args.repeat), timed(after, args.repeat)
            lines.append(f"| {name} | {a * 1000:.1f} ms | {b * 1000:.1f} ms | {b / a:.2f} |")
        print(header)
        print("\n".join(lines))
    engine.dispose()
    admin = create_engine(
        sqlalchemy_url(with_dbname(base, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
    admin.dispose()
    if not args.no_write:
        given = argv if argv is not None else sys.argv[1:]
        command = ("python -m bench.bench_overdue_steps " + " ".join(given)).strip()
        write(lines, args, steps, command)


def write(table: list[str], args: argparse.Namespace, steps: int, command: str) -> None:
    machine = f"{report.machine()}; {report.postgres_version()}"
    body = "\n".join(
        [
            "## Workflow: the overdue rule with step plans",
            "",
            report.meta_line("Overdue rule", command, machine),
            "A site is 逾期 when its current deadline **or a step of its plan not yet done** "
            "has passed. The step part is an uncorrelated `site_id IN (late open steps)` "
            "(PostgreSQL hashes it once) over a partial index `site_steps (due_date, site_id) "
            "WHERE done_at IS NULL`. Baseline: the foundation's deadline-only expression, "
            "measured in the same run on the same data.",
            "",
            f"Machine: {machine}, load average {report.load_average()}, "
            f"{date.today().isoformat()}. Command: `{command}` (demo district, "
            f"{args.sites:,} sites, {steps:,} steps; medians of {args.repeat}).",
            "",
            *table,
            "",
            "Earlier runs on the same machine, while tuning (2026-11-28): a correlated "
            "`EXISTS` per site cost 3.0× on the count; the uncorrelated `IN` with an index led "
            "by `site_id` 2.3×; with the index led by `due_date`, 1.5× in a noisy run and "
            "1.04× in a quiet one. The machine is shared, so single runs vary by ±30 %; the "
            "ratios are what to compare. At city scale the hash of the late steps is built "
            "once per query whatever the selection (about 20 ms for the 36,000 late steps of "
            "the million-site city, see the city section).",
        ]
    )
    report.write_section("overdue_bench", body, args.doc)


if __name__ == "__main__":
    main()
