"""Load: the app under gunicorn on loopback, driven by locust (bench/locustfile.py).

    python -m bench.load_bench [--users 200] [--run-time 300] [--spawn-rate 10]
                               [--workers 2] [--threads 8] [--sites 1500]

On a bench database of its own (`<app database>_bench_load`, kept between runs) holding the
demo district (1,500 sites with their workflow history) and the demo accounts
(`gis-app demo-accounts`; this run sets fresh passwords for `office` and the street offices
and issues a one-day API token for `office`), the app is started as in production: gunicorn,
connected as its own database role (row-level security on), on 127.0.0.1. Then locust runs
headless with --users concurrent users for --run-time seconds: 3 in 4 are machines with the
bearer token (list pages, bbox windows, site details, a street's GeoJSON export, a few photo
uploads), 1 in 4 office staff logged in through the form (the map page, site pages, list and
bbox calls, photo uploads with the session's CSRF token); see the locustfile.

Why gthread workers: on 2 cores a request spends much of its time waiting for PostgreSQL (on
the same cores) or for the client; threads let a worker overlap those waits without a process
per concurrent request (each worker process holds the app, geopandas and its own connection
pool: ~150 MB), and gthread keeps HTTP keep-alive connections open, which the sync worker
does not (200 users would reconnect for every request). One worker per core, so that Python's
GIL is not the ceiling: --workers 2 --threads 8.

Collected: requests/s, p50, p95, p99 and failures per endpoint, for the reads together and
for everything; server errors (5xx) per endpoint. Goal: read p95 under 800 ms, no server
error. The table goes into docs/operations/performance.md, section "Load".
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report

ROOT = Path(__file__).resolve().parent.parent
KEY = "load"
GOAL_P95_MS = 800
PEAK_LOAD = [0.0]  # the highest 1-minute load average seen during the locust run
DATA_DIR = ROOT / "var" / "bench-load"


#: what profiling under this load found, and what was changed (true of the code, not of a run)
FINDINGS = """What the first runs found, profiled one endpoint at a time (cProfile of the app, the
time of each SQL statement, EXPLAIN ANALYZE as the app's role), and what was changed:
- the list API built the Feature JSON of every row its OFFSET skipped (offset 1,400: 1,500
  features built, 100 sent): the page's ids are now chosen first and only those rows built
  (21 ms → 3 ms in PostgreSQL at offset 700);
- map pages compiled about 66 Jinja templates per request: branca wraps each rendered piece of
  folium's output in a new template (the outlines' GeoJSON, the map's script) only to render it
  unchanged; `layers.site_map` keeps them as text (/map 157 → 63 ms alone, same bytes);
- the detail API and the site page read the same site three or four times per request:
  `sites._find` now takes it from the session's identity map once read (one SELECT);
- a pool of 5 connections for 8 threads opened and closed connections under load, each new
  backend loading its catalog caches (the RLS policies) again: the pool is now 10
  (`GIS_APP_DB_POOL_SIZE`).
Together, in 60-s probes at 200 users: 36 → 55–58 requests/s. What is left is CPU: at 200
users with 1–3 s think time the users ask for about 95 requests/s, and a request costs about
20 ms of CPU on average (measured from /proc during a probe: the app about 12 ms, PostgreSQL
about 6; the site page, about 20 statements and a small map, costs the most), so the 2 cores,
shared with locust and other work, are saturated and the p95 is queueing, about the same for
every endpoint. Caching the street outlines the map pages query each time, or fewer
statements for the site page, would each win a few per cent.
Logins (Argon2id, 64 MiB, by design) take seconds while the users spawn; the figures start
once all are spawned (`--reset-stats`; `--include-ramp-up` counts the ramp too)."""


def say(message: str) -> None:
    print(f"[load_bench] {message}", file=sys.stderr, flush=True)


def bench_url() -> str:
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import dbname_of, ensure_database, resolve_url, with_dbname

    base = os.environ.get("DATABASE_URL") or resolve_url()
    url = with_dbname(base, f"{dbname_of(base)}_bench_load")
    ensure_database(url)
    dbmod.upgrade(url)
    return url


def prepare(url: str, n_sites: int, work: Path) -> dict[str, Any]:
    """Demo district, demo accounts with known passwords, a token; the locustfile's config."""
    from sqlalchemy import select, text

    from bench.map_bench import ensure_sites
    from gis_app import create_app
    from gis_app.core.actor import Actor
    from gis_app.core.database import DbScope
    from gis_app.demo.accounts import create_demo_accounts, demo_account_specs
    from gis_app.features.accounts import service as accounts
    from gis_app.features.ledger.models import Site
    from gis_app.features.streets.models import Street
    from gis_app.http.database import get_db, session

    ensure_sites(url, n_sites, reload=False)
    admin = Actor("cli:load_bench", "district_admin")
    app = create_app({"DATABASE_URL": url, "DB_CONNECT_AS": "owner", "DATA_DIR": str(DATA_DIR)})
    logins = []
    with app.app_context():
        get_db().use_scope(DbScope(admin.role, "", admin.name))
        s = session()
        created = create_demo_accounts(s, DATA_DIR / "demo-accounts.txt")
        if created:
            say(f"{created} demo accounts created (gis-app demo-accounts)")
        for spec in demo_account_specs(s):
            if spec["username"] == "office" or spec["role"] == "street_officer":
                password = secrets.token_urlsafe(12)
                accounts.set_password(s, admin, spec["username"], password)
                logins.append(
                    {
                        "username": spec["username"],
                        "password": password,
                        "street": spec.get("street_code"),
                    }
                )
        _token, token = accounts.create_token(s, admin, "office", "load bench", 1)
        s.commit()
        site_ids = s.scalars(
            select(Site.id).where(Site.deleted_at.is_(None)).order_by(Site.id)
        ).all()
        street_sites: dict[str, list[int]] = {}
        for code, site_id in s.execute(
            select(Street.code, Site.id)
            .join(Site, Site.street_id == Street.id)
            .where(Site.deleted_at.is_(None))
        ):
            street_sites.setdefault(code, []).append(site_id)
        extent = s.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM (SELECT ST_Extent(geom) AS e FROM sites) x"
            )
        ).one()
    app.extensions["gis_db"].engine.dispose()
    # a street office without sites could not open a site page: keep those with sites
    logins = [a for a in logins if not a["street"] or a["street"] in street_sites]
    cfg = {
        "token": token,
        "logins": logins,
        "site_ids": list(site_ids),
        "street_sites": street_sites,
        "extent": list(extent),
        "summary": str(work / "summary.json"),
    }
    (work / "load.json").write_text(json.dumps(cfg), encoding="utf-8")
    return cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn with gthread workers on 127.0.0.1, the app as in production."""

    def __init__(self, url: str, workers: int, threads: int, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "GIS_APP_DATA_DIR": str(DATA_DIR),
            # plain http on 127.0.0.1: locust's client (requests) keeps Secure cookies for https
            "GIS_APP_COOKIE_SECURE": "0",
        }
        self.log = log.open("w")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "--worker-class", "gthread",
                "--workers", str(workers),
                "--threads", str(threads),
                "--bind", f"127.0.0.1:{self.port}",
                "--timeout", "120",
                "--keep-alive", "5",
                "gis_app.wsgi:app",
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {log}") from None
                time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def run_locust(
    base: str, work: Path, users: int, spawn_rate: float, seconds: int, ramp_up: bool
) -> int:
    """Locust headless; the run time counts from the start, the figures (unless `ramp_up`)
    from the moment every user is spawned and logged in (--reset-stats)."""
    command = [
        sys.executable, "-m", "locust",
        "-f", str(ROOT / "bench" / "locustfile.py"),
        "--headless", "--only-summary",
        "--users", str(users), "--spawn-rate", str(spawn_rate),
        "--run-time", f"{seconds}s", "--stop-timeout", "10",
        "--host", base, "--loglevel", "WARNING",
        *([] if ramp_up else ["--reset-stats"]),
    ]  # fmt: skip
    env = {**os.environ, "GIS_LOAD_CONFIG": str(work / "load.json")}
    with (work / "locust.log").open("w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        while proc.poll() is None:  # the machine is shared: note how busy it got
            PEAK_LOAD[0] = max(PEAK_LOAD[0], os.getloadavg()[0])
            time.sleep(5)
    return proc.returncode


def _row(label: str, r: dict[str, Any]) -> str:
    return (
        f"| {label} | {r['requests']:,} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} "
        f"| {r['p99']:.0f} | {r['max']:,} | {r['failures']} | {r['server_errors']} |"
    )


def table(summary: dict[str, Any]) -> str:
    lines = [
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures "
        "| server errors (5xx) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in summary["endpoints"]:
        lines.append(_row(f"`{e['method']} {e['name']}`", e))
    lines.append(_row("**reads (every GET but the login form)**", summary["reads"]))
    lines.append(_row("**all requests**", summary["total"]))
    return "\n".join(lines)


def goal_met(summary: dict[str, Any]) -> bool:
    return summary["reads"]["p95"] < GOAL_P95_MS and summary["total"]["server_errors"] == 0


def write_doc(
    summary: dict[str, Any],
    args: argparse.Namespace,
    doc: Path,
    url: str,
    load_before: str,
    note: str,
) -> None:
    command = (
        f"python -m bench.load_bench --users {args.users} --run-time {args.run_time} "
        f"--spawn-rate {args.spawn_rate:g} --workers {args.workers} --threads {args.threads}"
    )
    machine = report.machine()
    reads = summary["reads"]
    verdict = (
        f"**Goal met**: read p95 {reads['p95']:.0f} ms < {GOAL_P95_MS} ms, no server error."
        if goal_met(summary)
        else f"**Goal missed**: read p95 {reads['p95']:.0f} ms (goal < {GOAL_P95_MS} ms), "
        f"{summary['total']['server_errors']} server errors."
    )
    errors = "".join(
        f"\n- `{e['name']}`: {e['error']} × {e['occurrences']}" for e in summary["errors"][:12]
    )
    body = f"""## Load (gunicorn, locust, {args.users} users)

{report.meta_line("Load", command, machine)}

{args.users} concurrent locust users for {args.run_time} s (spawned at {args.spawn_rate:g}/s) on
loopback against gunicorn (`--worker-class gthread --workers {args.workers} --threads
{args.threads}`), the app as in production (its own database role, row-level security, the
audit triggers), on the demo district ({args.sites:,} sites, demo accounts). 3 in 4 users are
machines with a district officer's bearer token (list pages of 100, bbox windows of about
1 km, site details, a street's GeoJSON export, inspection photo uploads), 1 in 4 office staff
logged in through the form (the district office or a street office: the map page 一张图, site
pages, list and bbox calls, photo uploads with the session's CSRF token); each waits 1–3 s
between tasks. Photo uploads are 1 task in 14 for the machines and 1 in 11 for the staff.
Percentiles are locust's (response times above 100 ms rounded to 10 ms, above 1 s to 100 ms).

Machine: {machine}; {report.postgres_version(url)}. Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.
Load average before the run: {load_before}; highest 1-minute load average during it (its
own processes included): {PEAK_LOAD[0]:.1f}. The machine's 2 cores are shared: PostgreSQL,
gunicorn and locust itself all run on them, and other developers' work may run beside them
(see the load average), so the figures are a floor for a dedicated server. {note}

{table(summary)}

{verdict}{(chr(10) + chr(10) + "Failures:" + errors) if errors else ""}

{FINDINGS}
"""
    report.write_section(KEY, body, doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_bench", description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--run-time", type=int, default=300, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--sites", type=int, default=1500)
    parser.add_argument(
        "--include-ramp-up",
        action="store_true",
        help="count the spawning (and the users' logins) in the figures too",
    )
    parser.add_argument("--note", default="", help="a sentence added to the section")
    parser.add_argument("--doc", default=str(report.DOC.relative_to(ROOT)))
    args = parser.parse_args(argv)
    doc = ROOT / args.doc
    url = bench_url()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        work = Path(tmp)
        prepare(url, args.sites, work)
        load_before = report.load_average()
        ramp = int(args.users / args.spawn_rate) + 1
        say(f"gunicorn gthread {args.workers}×{args.threads} on the bench database")
        server = Gunicorn(url, args.workers, args.threads, work / "gunicorn.log")
        try:
            say(f"locust: {args.users} users for {args.run_time} s against {server.base}")
            code = run_locust(
                server.base,
                work,
                args.users,
                args.spawn_rate,
                args.run_time + (0 if args.include_ramp_up else ramp),
                args.include_ramp_up,
            )
        finally:
            server.stop()
        summary_file = work / "summary.json"
        if not summary_file.exists():
            say("locust wrote no figures; its log:")
            print((work / "locust.log").read_text()[-3000:], file=sys.stderr)
            return 1
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        tracebacks = (work / "gunicorn.log").read_text(errors="replace").count("Traceback")
        note = args.note + (f" The server logged {tracebacks} tracebacks." if tracebacks else "")
        print(table(summary))
        write_doc(summary, args, doc, url, load_before, note.strip())
        say(f"locust exit {code}; figures in {doc}")
        reads = summary["reads"]
        say(
            f"reads p95 {reads['p95']:.0f} ms, {summary['total']['rps']:.1f} req/s, "
            f"server errors {summary['total']['server_errors']}: "
            f"goal {'met' if goal_met(summary) else 'MISSED'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
