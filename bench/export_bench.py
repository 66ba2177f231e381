"""Export speed and memory: this project's streamed export over HTTP against the usual routes.

    python -m bench.export_bench [--scales 10000,100000] [--repeat 3] [--write]

On a database of its own (`<app db>_bench` on the same server), for each scale:

- the GeoJSON export over HTTP (`GET /exports/sites.geojson` from gunicorn, one sync worker),
  read to the end by the client;
- `geopandas.read_postgis(sql).to_json()` with the same selection (in a subprocess, for its
  peak memory);
- `ogr2ogr -f GeoJSON /vsistdout/ PG:... -sql ...` reading the same selection;
- PostgreSQL alone building the same feature texts (`COPY (...) TO STDOUT`), the floor: as
  the tables' owner (the baseline of issue 20: HTTP within 1.2× of it), and under the request's
  role and row-level security scope (a district officer), as the export itself runs;
- the other formats over HTTP, once each;
- with --xlsx-baseline, the .xlsx written in-process by this project's writer (PostgreSQL
  builds the sheet rows) and by openpyxl's write-only mode (the writer before issue 20, kept in
  tests/support/xlsx_openpyxl.py), same selection, same run.

`--database-url URL` measures a database built elsewhere (e.g. the map bench's million
sites) without loading anything into it (the only write: the bench account's bearer token);
`--geojson-only` leaves out geopandas and ogr2ogr (at 1,000,000 sites geopandas alone needs
gigabytes); `--formats ""` the other formats over HTTP.

Times are the best of --repeat runs (wall clock, to the last byte). Memory is the peak resident
set (VmHWM) of the gunicorn worker, started afresh for each export, and its growth over the
idle worker. With --write the table replaces the "Exports" section of
docs/operations/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.dialects.postgresql import psycopg2 as _pg_psycopg2
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "operations" / "performance.md"
SECTION = "## Exports (GeoJSON and the GIS formats)"
TODAY = date(2026, 6, 15)
SEED = 20210222
OTHER_FORMATS = ("csv", "gpkg", "shp", "kml", "xlsx")
# the baselines' sessions render times in Beijing time too (libpq reads PGTZ)
BEIJING = {**os.environ, "PGTZ": "Asia/Shanghai"}


# ---------------------------------------------------------------- database


def bench_url() -> str:
    from gis_app.core.localdb import dbname_of, ensure_database, resolve_url, with_dbname

    base = os.environ.get("DATABASE_URL") or resolve_url()
    url = with_dbname(base, dbname_of(base) + "_bench")
    ensure_database(url)
    from gis_app.core import database as dbmod

    dbmod.upgrade(url)
    return url


def load(url: str, n: int) -> float:
    """The demo district with n sites (kept when already there); seconds spent loading."""
    from gis_app.core.database import sqlalchemy_url
    from gis_app.demo.loader import load_demo
    from gis_app.features.ledger.models import Site

    engine = create_engine(sqlalchemy_url(url))
    with Session(engine) as session:
        have = session.scalar(select(func.count()).select_from(Site))
        if have == n:
            print(f"[bench] {n:,} sites already loaded", file=sys.stderr)
            return 0.0
        started = time.perf_counter()
        load_demo(session, n_sites=n, seed=SEED, today=TODAY, replace=True)
        session.execute(text("ANALYZE sites"))
        session.commit()
    engine.dispose()
    return time.perf_counter() - started


def selection_sql() -> tuple[str, str]:
    """The export's selection as plain SQL: (columns with the geometry, feature texts)."""
    from gis_app.features.exchange.export.fields import fields_for
    from gis_app.features.exchange.export.source import RowStyle, site_source
    from gis_app.features.ledger.queries import SiteFilter

    src = site_source(SiteFilter(), TODAY)
    fields = fields_for("sites")
    # what pandas' JSON writer takes as it is: numbers as float, dates and times as text
    rows = src.rows(fields, "en", RowStyle(times="text", dates="text", numbers="float"), "geom")
    features = src.features(fields, "en")
    dialect = _pg_psycopg2.dialect()
    compile_args = {"literal_binds": True}
    rows_sql = str(rows.compile(dialect=dialect, compile_kwargs=compile_args))
    # the geometry itself (GeoAlchemy2 would send EWKB bytes), as both readers expect
    rows_sql = rows_sql.replace("ST_AsEWKB(f._geom) AS geom", "f._geom AS geom")
    return (
        rows_sql,
        str(features.compile(dialect=dialect, compile_kwargs=compile_args)),
    )


# ---------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kib(pid: int, key: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1))


class Server:
    """gunicorn with one sync worker, as `gis-app serve` runs it but alone on the machine."""

    def __init__(self, url: str) -> None:
        from bench.browser import auth_headers, bench_token

        self.headers = auth_headers(bench_token(url))  # a district officer's bearer token
        self.port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "GIS_APP_FROZEN_NOW": TODAY.isoformat()}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "600",
                "gis_app.wsgi:app",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = urllib.request.Request(f"{self.base}/ogc/conformance", headers=self.headers)
                with urllib.request.urlopen(ready, timeout=5) as r:
                    r.read()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        self.worker = int(children.split()[0])
        self.idle_kib = _kib(self.worker, "VmRSS")

    def peak_kib(self) -> int:
        return _kib(self.worker, "VmHWM")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def fetch(url: str, headers: dict[str, str]) -> tuple[float, int]:
    """Seconds to the last byte, and the bytes read."""
    started = time.perf_counter()
    size = 0
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=600
    ) as response:
        while chunk := response.read(1 << 20):
            size += len(chunk)
    return time.perf_counter() - started, size


# ---------------------------------------------------------------- the routes


@dataclass
class Result:
    route: str
    seconds: list[float] = field(default_factory=list)
    peak_mib: float | None = None
    growth_mib: float | None = None
    size_mb: float | None = None

    @property
    def best(self) -> float:
        return min(self.seconds)


def http_export(url: str, path: str, repeat: int) -> Result:
    server = Server(url)
    try:
        result = Result(f"HTTP {path}")
        for _ in range(repeat):
            seconds, size = fetch(server.base + path, server.headers)
            result.seconds.append(seconds)
            result.size_mb = size / 1e6
        result.peak_mib = server.peak_kib() / 1024
        result.growth_mib = (server.peak_kib() - server.idle_kib) / 1024
    finally:
        server.stop()
    return result


GEOPANDAS_ROUTE = """
import json, resource, sys, time
import geopandas as gpd
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
started = time.perf_counter()
with engine.connect() as conn:
    frame = gpd.read_postgis(text(sys.argv[2]), conn, geom_col="geom")
body = frame.to_json()
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak, "size": len(body.encode())}))
"""


def geopandas_route(url: str, sql: str, repeat: int) -> Result:
    from gis_app.core.database import sqlalchemy_url

    result = Result("geopandas read_postgis().to_json()")
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", GEOPANDAS_ROUTE, sqlalchemy_url(url), sql],
            env=BEIJING,
            capture_output=True,
            check=False,
            text=True,
        )
        if out.returncode:
            raise RuntimeError(out.stderr)
        data = json.loads(out.stdout)
        result.seconds.append(data["seconds"])
        result.peak_mib = data["peak_kib"] / 1024
        result.size_mb = data["size"] / 1e6
    return result


def _pg_conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    parts = [f"host={u.host}", f"port={u.port}", f"dbname={u.database}", f"user={u.username}"]
    if u.password:
        parts.append(f"password={u.password}")
    if u.query.get("passfile"):  # the local cluster's (gis_app.core.localdb)
        parts.append(f"passfile={u.query['passfile']}")
    return " ".join(parts)


def ogr2ogr_route(url: str, sql: str, repeat: int) -> Result:
    result = Result("ogr2ogr PG → GeoJSON")
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run(
            [
                "ogr2ogr",
                "-f",
                "GeoJSON",
                "/vsistdout/",
                f"PG:{_pg_conninfo(url)}",
                "-sql",
                sql,
                "-lco",
                "RFC7946=YES",
            ],
            env=BEIJING,
            capture_output=True,
            check=True,
        )
        result.seconds.append(time.perf_counter() - started)
        result.size_mb = len(out.stdout) / 1e6
    return result


#: the request's role and scope, as the app sets them for a district officer (core.database)
REQUEST_SCOPE = (
    "SET ROLE {role}",
    "SELECT set_config('app.role', 'district_officer', false), "
    "set_config('app.street', '', false), set_config('app.user', 'bench.office', false)",
)


def postgres_route(url: str, feature_sql: str, repeat: int, as_request: bool = False) -> Result:
    """PostgreSQL building the feature texts and sending them, nothing else (the floor); as
    the owner, or (`as_request`) under the request's role and row-level security scope."""
    import psycopg2

    from gis_app.core.db_security import app_role

    name = "request's role" if as_request else "owner"
    result = Result(f"PostgreSQL alone, {name} (COPY feature texts)")
    for _ in range(repeat):
        conn = psycopg2.connect(_pg_conninfo(url), options="-c timezone=Asia/Shanghai")
        try:
            if as_request:
                with conn.cursor() as cur:
                    for statement in REQUEST_SCOPE:
                        cur.execute(statement.format(role=app_role()))

            class Sink:
                size = 0

                def write(self, data: bytes) -> None:
                    Sink.size += len(data)

            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.copy_expert(f"COPY ({feature_sql}) TO STDOUT", Sink())
            result.seconds.append(time.perf_counter() - started)
            result.size_mb = Sink.size / 1e6
        finally:
            conn.close()
    return result


def xlsx_routes(url: str, repeat: int) -> list[Result]:
    """The .xlsx of every site written in-process, this project's writer against openpyxl's
    write-only mode (the writer before issue 20), the same selection, one after the other."""
    import tempfile

    from gis_app.core.database import sqlalchemy_url
    from gis_app.features.exchange.export.fields import fields_for
    from gis_app.features.exchange.export.source import site_source
    from gis_app.features.exchange.export.xlsx import write_xlsx
    from gis_app.features.ledger.queries import SiteFilter, late_step_sites
    from tests.support.xlsx_openpyxl import write_xlsx_openpyxl

    engine = create_engine(sqlalchemy_url(url))
    results = []
    writers = (
        ("xlsx: PostgreSQL writes the rows (in-process)", write_xlsx),
        ("xlsx: openpyxl write-only (in-process, before)", write_xlsx_openpyxl),
    )
    with tempfile.TemporaryDirectory() as folder:
        for route, writer in writers:
            result = Result(route)
            for _ in range(repeat):
                path = Path(folder) / "sites.xlsx"
                with Session(engine) as session:
                    started = time.perf_counter()
                    src = site_source(
                        SiteFilter(), TODAY, late_sites=late_step_sites(session, TODAY)
                    )
                    writer(session, src, fields_for("sites"), "zh", path)
                    result.seconds.append(time.perf_counter() - started)
                result.size_mb = path.stat().st_size / 1e6
            results.append(result)
    engine.dispose()
    return results


# ---------------------------------------------------------------- report


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    total = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    pg = subprocess.run(["pg_config", "--version"], capture_output=True, text=True).stdout.strip()
    gdal = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores, {total / 1024 / 1024:.0f} GiB; "
        f"Python {platform.python_version()}; {pg or 'PostgreSQL'}; {gdal}"
    )


def _ratio(r: Result, base: Result | None) -> str:
    return f"{r.best / base.best:.2f}×" if base is not None else ""


def _find(rows: list[Result], start: str) -> Result | None:
    return next((r for r in rows if r.route.startswith(start)), None)


def render(
    results: dict[int, list[Result]],
    others: dict[int, list[Result]],
    loads: str,
    load_average: dict[int, tuple[float, float]],
    command: str = "python -m bench.export_bench --write",
    xlsx: dict[int, list[Result]] | None = None,
) -> str:
    from bench import report

    lines = [
        SECTION,
        "",
        report.meta_line("Exports", command, machine()),
        f"Measured {datetime.now().strftime('%Y-%m-%d')} on {machine()}. The machine is "
        "shared, so absolute times are noisy; the ratios are from the same run. Load average "
        "(1 min) at the start and the end of each size: "
        + "; ".join(f"{n:,} sites {a:.1f} → {b:.1f}" for n, (a, b) in sorted(load_average.items()))
        + ".",
        f"Command: `{command}` (bench/export_bench.py); the demo "
        f"district with N sites on a database of its own{loads}. Times: best of the runs, to the "
        "last byte. Server memory: peak resident set of the gunicorn worker (one sync worker, "
        "started afresh per export), and its growth over the idle worker.",
        "",
        "GeoJSON, the same selection (live sites with their street, every agency field); "
        "÷ PG = seconds over PostgreSQL alone as the owner (the issue's baseline):",
        "",
        "| sites | route | seconds | ÷ PG | vs geopandas | vs ogr2ogr | size MB | peak MiB "
        "| growth MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, rows in sorted(results.items()):
        gpd = _find(rows, "geopandas")
        ogr = _find(rows, "ogr2ogr")
        floor = _find(rows, "PostgreSQL alone, owner")
        for r in rows:
            peak = f"{r.peak_mib:.0f}" if r.peak_mib is not None else ""
            growth = f"{r.growth_mib:.0f}" if r.growth_mib is not None else ""
            vs_gpd = f"{gpd.best / r.best:.1f}×" if gpd is not None else ""
            vs_ogr = f"{ogr.best / r.best:.1f}×" if ogr is not None else ""
            lines.append(
                f"| {n:,} | {r.route} | {r.best:.2f} | {_ratio(r, floor)} | {vs_gpd} | "
                f"{vs_ogr} | {r.size_mb:.1f} | {peak} | {growth} |"
            )
    lines += [
        "",
        "`PostgreSQL alone` is COPY of the same feature texts to a client that only counts "
        "the bytes; as the owner, row-level security does not apply and PostgreSQL may use "
        "parallel workers; under the request's role (SET ROLE and the district officer's "
        "scope) the policies apply as in the export. The export reads the late steps' sites "
        "first and puts them into the query as an array, which lets PostgreSQL use parallel "
        "workers under row-level security too (ledger.queries.overdue_expr).",
    ]
    if xlsx:
        lines += [
            "",
            ".xlsx of every site (Chinese), written in-process by each writer in the same run:",
            "",
            "| sites | writer | seconds | vs openpyxl | size MB |",
            "|---:|---|---:|---:|---:|",
        ]
        for n, rows in sorted(xlsx.items()):
            before = _find(rows, "xlsx: openpyxl")
            for r in rows:
                speed = f"{before.best / r.best:.1f}× faster" if before is not None else ""
                lines.append(f"| {n:,} | {r.route} | {r.best:.2f} | {speed} | {r.size_mb:.1f} |")
    if any(others.values()):
        lines += [
            "",
            "The other formats over HTTP (one run each; GeoPackage, Shapefile, KML and .xlsx are "
            "written to a temporary file batch by batch, then sent):",
            "",
            "| sites | export | seconds | size MB | peak MiB | growth MiB |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for n, rows in sorted(others.items()):
            for r in rows:
                lines.append(
                    f"| {n:,} | {r.route} | {r.best:.2f} | {r.size_mb:.1f} | {r.peak_mib:.0f} | "
                    f"{r.growth_mib:.0f} |"
                )
    lines.append("")
    return "\n".join(lines)


def write_section(section: str, doc: Path = DOC) -> None:
    """Replace (or add) this benchmark's section of the document."""
    from bench import report

    report.write_section("export_bench", section, doc)


def _count(url: str) -> int:
    from gis_app.core.database import sqlalchemy_url
    from gis_app.features.ledger.models import Site

    engine = create_engine(sqlalchemy_url(url))
    with Session(engine) as session:
        n = session.scalar(select(func.count()).select_from(Site).where(Site.deleted_at.is_(None)))
    engine.dispose()
    return int(n or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="10000,100000", help="site counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(OTHER_FORMATS))
    parser.add_argument(
        "--database-url", help="measure this database as it is (nothing loaded into it)"
    )
    parser.add_argument("--geojson-only", action="store_true", help="no geopandas, no ogr2ogr")
    parser.add_argument(
        "--xlsx-baseline", action="store_true", help="the .xlsx writers in-process, new and old"
    )
    parser.add_argument(
        "--write", action="store_true", help="update docs/operations/performance.md"
    )
    parser.add_argument("--doc", type=Path, default=DOC, help="document to write into")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]

    if args.database_url:
        url = args.database_url
        scales = [_count(url)]
    else:
        url = bench_url()
        scales = [int(s) for s in args.scales.split(",") if s]
    rows_sql, feature_sql = selection_sql()
    results: dict[int, list[Result]] = {}
    others: dict[int, list[Result]] = {}
    xlsx: dict[int, list[Result]] = {}
    loads_seen: dict[int, tuple[float, float]] = {}
    load_notes = []
    for n in scales:
        if not args.database_url:
            seconds = load(url, n)
            if seconds:
                load_notes.append(f"{n:,} loaded in {seconds:.0f} s")
        start_load = os.getloadavg()[0]
        print(f"[bench] {n:,} sites, load average {start_load:.1f}", file=sys.stderr)
        rows = [
            postgres_route(url, feature_sql, args.repeat),
            http_export(url, "/exports/sites.geojson?lang=en", args.repeat),
            postgres_route(url, feature_sql, args.repeat, as_request=True),
        ]
        if not args.geojson_only:
            rows += [
                geopandas_route(url, rows_sql, args.repeat),
                ogr2ogr_route(url, rows_sql, args.repeat),
            ]
        for r in rows:
            print(f"  {r.route}: {r.best:.2f} s", file=sys.stderr)
        results[n] = rows
        if args.xlsx_baseline:
            xlsx[n] = xlsx_routes(url, 1)
            for r in xlsx[n]:
                print(f"  {r.route}: {r.best:.2f} s", file=sys.stderr)
        others[n] = []
        for fmt in formats:
            r = http_export(url, f"/exports/sites.{fmt}", 1)
            print(f"  {r.route}: {r.best:.2f} s, peak {r.peak_mib:.0f} MiB", file=sys.stderr)
            others[n].append(r)
        loads_seen[n] = (start_load, os.getloadavg()[0])
    loads = f" ({'; '.join(load_notes)})" if load_notes else ""
    given = argv if argv is not None else sys.argv[1:]
    command = ("python -m bench.export_bench " + " ".join(given)).strip()
    section = render(results, others, loads, loads_seen, command, xlsx)
    print(section)
    if args.write:
        write_section(section, args.doc)
        print(f"[bench] written to {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
