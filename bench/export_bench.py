"""Export speed and memory: this project's streamed export over HTTP against the usual routes.

    python -m bench.export_bench [--scales 10000,100000] [--repeat 3] [--write]

On a database of its own (`<app db>_bench` on the same server), for each scale:

- the GeoJSON export over HTTP (`GET /exports/sites.geojson` from gunicorn, one sync worker),
  read to the end by the client;
- `geopandas.read_postgis(sql).to_json()` with the same selection (in a subprocess, for its
  peak memory);
- `ogr2ogr -f GeoJSON /vsistdout/ PG:... -sql ...` reading the same selection;
- PostgreSQL alone building the same feature texts (`COPY (...) TO STDOUT`), the floor;
- the other formats over HTTP, once each.

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


def postgres_route(url: str, feature_sql: str, repeat: int) -> Result:
    """PostgreSQL building the feature texts and sending them, nothing else (the floor)."""
    import psycopg2

    result = Result("PostgreSQL alone (COPY feature texts)")
    for _ in range(repeat):
        conn = psycopg2.connect(_pg_conninfo(url), options="-c timezone=Asia/Shanghai")
        try:

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


# ---------------------------------------------------------------- report


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = _kib(os.getpid(), "VmRSS")  # touch /proc to fail early off Linux
    del mem
    total = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    pg = subprocess.run(["pg_config", "--version"], capture_output=True, text=True).stdout.strip()
    gdal = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores, {total / 1024 / 1024:.0f} GiB; "
        f"Python {platform.python_version()}; {pg or 'PostgreSQL'}; {gdal}"
    )


def render(
    results: dict[int, list[Result]],
    others: dict[int, list[Result]],
    loads: str,
    load_average: tuple[float, float],
    command: str = "python -m bench.export_bench --write",
) -> str:
    from bench import report

    lines = [
        SECTION,
        "",
        report.meta_line("Exports", command, machine()),
        f"Measured {datetime.now().strftime('%Y-%m-%d')} on {machine()}; the machine is "
        f"shared: load average {load_average[0]:.1f} at the start, {load_average[1]:.1f} at "
        "the end (2 cores), so absolute times are noisy; the ratios are from the same run.",
        f"Command: `{command}` (bench/export_bench.py); the demo "
        f"district with N sites on a database of its own{loads}. Times: best of the runs, to the "
        "last byte. Server memory: peak resident set of the gunicorn worker (one sync worker, "
        "started afresh per export), and its growth over the idle worker.",
        "",
        "GeoJSON, the same selection (live sites with their street, every agency field):",
        "",
        "| sites | route | seconds | vs geopandas | vs ogr2ogr | size MB | peak MiB | growth MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, rows in sorted(results.items()):
        gpd = next(r for r in rows if r.route.startswith("geopandas"))
        ogr = next(r for r in rows if r.route.startswith("ogr2ogr"))
        for r in rows:
            peak = f"{r.peak_mib:.0f}" if r.peak_mib is not None else ""
            growth = f"{r.growth_mib:.0f}" if r.growth_mib is not None else ""
            lines.append(
                f"| {n:,} | {r.route} | {r.best:.2f} | {gpd.best / r.best:.1f}× | "
                f"{ogr.best / r.best:.1f}× | {r.size_mb:.1f} | {peak} | {growth} |"
            )
    lines += [
        "",
        "`PostgreSQL alone` is COPY of the same feature texts, where PostgreSQL may use "
        "parallel workers; the export reads them through a cursor (bound parameters, first "
        "bytes at once, constant memory), which PostgreSQL runs without parallel workers.",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="10000,100000", help="site counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(OTHER_FORMATS))
    parser.add_argument(
        "--write", action="store_true", help="update docs/operations/performance.md"
    )
    parser.add_argument("--doc", type=Path, default=DOC, help="document to write into")
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s]
    formats = [f for f in args.formats.split(",") if f]

    load_start = os.getloadavg()[1]
    url = bench_url()
    rows_sql, feature_sql = selection_sql()
    results: dict[int, list[Result]] = {}
    others: dict[int, list[Result]] = {}
    load_notes = []
    for n in scales:
        seconds = load(url, n)
        if seconds:
            load_notes.append(f"{n:,} loaded in {seconds:.0f} s")
        print(f"[bench] {n:,} sites", file=sys.stderr)
        rows = [
            http_export(url, "/exports/sites.geojson", args.repeat),
            geopandas_route(url, rows_sql, args.repeat),
            ogr2ogr_route(url, rows_sql, args.repeat),
            postgres_route(url, feature_sql, args.repeat),
        ]
        for r in rows:
            print(f"  {r.route}: {r.best:.2f} s", file=sys.stderr)
        results[n] = rows
        others[n] = []
        for fmt in formats:
            r = http_export(url, f"/exports/sites.{fmt}", 1)
            print(f"  {r.route}: {r.best:.2f} s, peak {r.peak_mib:.0f} MiB", file=sys.stderr)
            others[n].append(r)
    loads = f" ({'; '.join(load_notes)})" if load_notes else ""
    given = argv if argv is not None else sys.argv[1:]
    command = ("python -m bench.export_bench " + " ".join(given)).strip()
    section = render(results, others, loads, (load_start, os.getloadavg()[1]), command)
    print(section)
    if args.write:
        write_section(section, args.doc)
        print(f"[bench] written to {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
