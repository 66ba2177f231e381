"""City scale: a synthetic city of a million sites on one machine, the page queries with and
without their indexes, and the bulk load.

    python -m bench.city_bench [--scale small|full] [--sites N] [--samples K] [--reload]
                               [--no-write] [--doc PATH]

The city (gis_app.demo.city): Tianjin's 16 real district outlines, each cut into 10-15
approximate streets (Hedong keeps its 12), with the demo generator's sites, on a database of
its own (`<app database>_bench_city_<N>`; kept, so that a second run of that size reuses it).

Load: the sites table's secondary indexes are dropped, the sites are generated and copied
district by district (gis_app.core.bulk_load, COPY), the indexes built again (each timed),
step plans added for the sites in progress (one INSERT … SELECT, so that the overdue rule has
late steps to look at), then VACUUM ANALYZE. The load rate is compared, on the same 20,000
generated sites and in the same run (then rolled back), with the demo loader's former
multi-row INSERTs (2,000 rows a statement) and with one INSERT per row.

Queries: the app's own services, called as the pages and the API call them (SiteFilter,
list_features, counts_by_status, map_data.site_points, tiles.site_tile), each over K random
parameters (streets, points drawn from the sites, districts and page offsets, map views of
1400 × 900 px), p50 and p95. Warm cache: every parameter is run once untimed, then timed.
Without index: the same parameters in the same run, each call in a transaction with
`SET LOCAL enable_indexscan, enable_bitmapscan, enable_indexonlyscan = off` (the planner then
has only sequential scans; nothing is dropped, so the indexed and unindexed runs read the same
table). The plan column names the indexes the queries used (EXPLAIN of the captured
statements). Everything runs as the database owner (RLS, when present, does not apply to it)
unless --role (and --set app.role=…, app.street=…) name the app's role and its settings.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from bench import report

RESULTS = Path(__file__).resolve().parent / "results"  # git-ignored: the last load's figures
TODAY = date(2026, 6, 15)
SEED = 20210222
SCALES = {"small": (50_000, 20), "full": (1_000_000, 60)}
HEAVY_SHARE = 4  # the heaviest queries (a whole-city view) run on K / HEAVY_SHARE parameters
VIEW_PX = (1400, 900)
NO_INDEX = (
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_bitmapscan = off",
    "SET LOCAL enable_indexonlyscan = off",
)
BASELINE_ROWS = 20_000
ROW_BY_ROW_ROWS = 5_000


def say(message: str) -> None:
    print(f"[city_bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- database and load


def bench_url(n: int, reset: bool) -> str:
    """`<app database>_bench_city_<n>`: one per size, kept for the next run."""
    from gis_app.core import database as dbmod
    from gis_app.core.database import sqlalchemy_url
    from gis_app.core.localdb import dbname_of, ensure_database, resolve_url, with_dbname

    base = resolve_url()
    url = with_dbname(base, f"{dbname_of(base)}_bench_city_{n}")
    if reset:
        admin = create_engine(
            sqlalchemy_url(with_dbname(base, "postgres")), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
        admin.dispose()
    ensure_database(url)
    dbmod.upgrade(url)
    return url


def engine_for(url: str) -> Engine:
    from gis_app.core.database import sqlalchemy_url

    return create_engine(sqlalchemy_url(url), connect_args={"options": "-c timezone=UTC"})


def loaded_sites(engine: Engine) -> int:
    from gis_app.demo.city_load import CITY_ACTOR
    from gis_app.features.ledger.models import Site

    with Session(engine) as s, s.begin():
        total = s.scalar(select(func.count()).select_from(Site)) or 0
        city = s.scalar(select(func.count()).where(Site.created_by == CITY_ACTOR)) or 0
    return total if total == city else -1


@dataclass
class LoadReport:
    sites: int
    districts: int
    streets: int
    build_city_s: float
    generate_s: float
    copy_s: float
    index_s: dict[str, float]
    steps: int
    steps_s: float
    vacuum_s: float
    table_mb: float
    indexes_mb: float
    baseline: dict[str, float] = field(default_factory=dict)  # rows/s by loader


def secondary_indexes(session: Session) -> list[tuple[str, str]]:
    return [
        (name, definition)
        for name, definition in session.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename = 'sites' AND indexname <> 'sites_pkey' ORDER BY indexname"
            )
        )
    ]


STEPS_SQL = """
INSERT INTO site_steps (district_code, site_id, position, title, due_date, done_at, done_by,
                        evidence_note, created_by, created_at)
SELECT s.district_code, s.id, p.n, '第' || p.n || '步', d.due,
       CASE WHEN d.due < :today AND NOT (p.n = 3 AND s.current_deadline < :today)
            THEN d.due::timestamptz END,
       CASE WHEN d.due < :today AND NOT (p.n = 3 AND s.current_deadline < :today)
            THEN 'city' END,
       '', 'city', s.created_at
FROM sites s
CROSS JOIN generate_series(1, 3) AS p(n)
CROSS JOIN LATERAL (
    SELECT (s.created_at::date + 7)
           + ((s.current_deadline - (s.created_at::date + 7)) * p.n / 3) AS due) d
WHERE s.status = 'in_progress' AND s.current_deadline > s.created_at::date + 7
"""


def load(url: str, n: int) -> LoadReport:
    from gis_app.demo.city import build_city
    from gis_app.demo.city_load import load_city

    t0 = time.perf_counter()
    city = build_city(seed=SEED)
    build_s = time.perf_counter() - t0
    engine = engine_for(url)
    with Session(engine) as s:
        indexes = secondary_indexes(s)
        for name, _ in indexes:
            s.execute(text(f"DROP INDEX {name}"))
        say(f"loading {n:,} sites into {len(city)} districts (COPY, secondary indexes dropped)")
        result = load_city(s, city, n, SEED, TODAY, progress=lambda m: say(f"  {m}"))
        index_s = {}
        for name, definition in indexes:
            t = time.perf_counter()
            s.execute(text(definition))
            index_s[name] = time.perf_counter() - t
            say(f"  index {name}: {index_s[name]:.1f} s")
        t = time.perf_counter()
        steps = s.execute(text(STEPS_SQL), {"today": TODAY}).rowcount
        steps_s = time.perf_counter() - t
        s.commit()
    t = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    vacuum_s = time.perf_counter() - t
    table_mb, indexes_mb = sizes(engine)
    engine.dispose()
    return LoadReport(
        sites=result.sites,
        districts=result.districts,
        streets=result.streets,
        build_city_s=build_s,
        generate_s=result.generate_s,
        copy_s=result.copy_s,
        index_s=index_s,
        steps=steps,
        steps_s=steps_s,
        vacuum_s=vacuum_s,
        table_mb=table_mb,
        indexes_mb=indexes_mb,
    )


def sizes(engine: Engine) -> tuple[float, float]:
    with engine.connect() as conn:
        table, indexes = conn.execute(
            text("SELECT pg_table_size('sites'), pg_indexes_size('sites')")
        ).one()
    return table / 2**20, indexes / 2**20


def load_baselines(url: str) -> dict[str, float]:
    """Rows per second of three loaders on the same generated sites, same table, same run
    (rolled back): COPY, the former demo loader's multi-row INSERTs, one INSERT per row."""
    from gis_app.core.bulk_load import SITE_COLUMNS, copy_sites, copy_value, site_row
    from gis_app.demo.city import build_city
    from gis_app.demo.sites_generator import generate_sites
    from gis_app.features.ledger.importer import insert_sites
    from gis_app.features.streets.models import Street

    district = build_city(seed=SEED, codes=["120102"])[0]
    sites = generate_sites(district.streets, n=BASELINE_ROWS, seed=SEED + 99, today=TODAY)
    for k, site in enumerate(sites):
        site["code"] = f"BASELINE-{k}"
    engine = engine_for(url)
    rates = {}
    with Session(engine) as s:
        street_ids = dict(s.execute(select(Street.code, Street.id)).all())
        rows = [
            site_row(x, x["street_code"][:6], street_ids[x["street_code"]], "bench") for x in sites
        ]

        t = time.perf_counter()
        copy_sites(s, sites, street_ids, "bench")
        rates["COPY (bulk_load.copy_sites: Python formats the text, PostgreSQL writes)"] = len(
            sites
        ) / (time.perf_counter() - t)
        s.rollback()

        # the server's share: the same text formatted beforehand, then copied
        t = time.perf_counter()
        data = "".join("\t".join(copy_value(v) for v in row) + "\n" for row in rows).encode()
        format_s = time.perf_counter() - t
        with s.connection().connection.cursor() as cur:
            t = time.perf_counter()
            cur.copy_expert(f"COPY sites ({', '.join(SITE_COLUMNS)}) FROM STDIN", io.BytesIO(data))
            rates["COPY of text formatted beforehand (PostgreSQL alone)"] = len(rows) / (
                time.perf_counter() - t
            )
        rates["formatting the COPY text alone (Python)"] = len(rows) / format_s
        s.rollback()

        values = [
            {
                **dict(zip(SITE_COLUMNS, row, strict=True)),
                "geom": func.ST_GeomFromEWKT(row[SITE_COLUMNS.index("geom")]),
            }
            for row in rows
        ]
        t = time.perf_counter()
        for start in range(0, len(values), 2000):
            insert_sites(s, values[start : start + 2000])
        rates["multi-row INSERT, 2,000 rows a statement (former demo loader)"] = len(values) / (
            time.perf_counter() - t
        )
        s.rollback()

        cols = ", ".join(SITE_COLUMNS)
        marks = ", ".join("%s" for _ in SITE_COLUMNS)
        with s.connection().connection.cursor() as cur:
            t = time.perf_counter()
            for row in rows[:ROW_BY_ROW_ROWS]:
                cur.execute(f"INSERT INTO sites ({cols}) VALUES ({marks})", row)
            rates["one INSERT per row"] = ROW_BY_ROW_ROWS / (time.perf_counter() - t)
        s.rollback()
    engine.dispose()
    return rates


# ---------------------------------------------------------------- queries


def view_bbox(lon: float, lat: float, z: int) -> tuple[float, float, float, float]:
    """The bbox of a 1400 × 900 px Web Mercator view centred on (lon, lat) at zoom z."""
    w, h = VIEW_PX
    deg_per_px = 360.0 / (256 * 2**z)
    dlat = h / 2 * deg_per_px * math.cos(math.radians(lat))
    return (lon - w / 2 * deg_per_px, lat - dlat, lon + w / 2 * deg_per_px, lat + dlat)


def km_bbox(lon: float, lat: float) -> tuple[float, float, float, float]:
    """1 km × 1 km centred on the point."""
    dlat = 0.5 / 111.32
    dlon = dlat / math.cos(math.radians(lat))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return int((lon + 180.0) / 360.0 * n), int(fy)


@dataclass
class Query:
    name: str
    kind: str  # which parameters: street, point, district, city, center
    run: Callable[[Session, Any], int]  # returns a size: sites matched / drawn, or bytes
    size_label: str
    heavy: bool = False


def queries() -> list[Query]:
    from gis_app.features.ledger.queries import SiteFilter, counts_by_status, list_features
    from gis_app.features.maps import service as map_data
    from gis_app.features.maps import tiles

    def page(flt: Any, offset: int = 0) -> Callable[[Session], int]:
        return lambda s: list_features(s, flt, TODAY, 100, offset).number_matched

    def map_view(z: int) -> Callable[[Session, Any], int]:
        return lambda s, p: map_data.site_points(s, SiteFilter(bbox=view_bbox(*p, z)), TODAY).total

    def tile(z: int) -> Callable[[Session, Any], int]:
        return lambda s, p: len(tiles.site_tile(s, SiteFilter(), TODAY, z, *tile_xy(*p, z)))

    return [
        Query(
            "sites in a street (list API page + numberMatched)",
            "street",
            lambda s, code: page(SiteFilter(streets=[code]))(s),
            "sites matched",
        ),
        Query(
            "a street's counts by status (+ overdue)",
            "street",
            lambda s, code: counts_by_status(s, SiteFilter(streets=[code]), TODAY)["total"],
            "sites counted",
        ),
        Query(
            "sites in a 1 km² bbox (list API page)",
            "point",
            lambda s, p: page(SiteFilter(bbox=km_bbox(*p)))(s),
            "sites matched",
        ),
        Query(
            "sites within 500 m of a point (list API page)",
            "point",
            lambda s, p: page(SiteFilter(near=(p[0], p[1], 500.0)))(s),
            "sites matched",
        ),
        Query(
            "a page of the list API, one district (offset < 2,000)",
            "district",
            lambda s, p: page(SiteFilter(districts=[p[0]]), p[1])(s),
            "sites matched",
        ),
        Query(
            "a page of the list API, whole city (offset < 2,000)",
            "city",
            lambda s, offset: page(SiteFilter(), offset)(s),
            "sites matched",
        ),
        Query("map view z17 (compact array, bbox of the view)", "point", map_view(17), "sites"),
        Query("map view z14 (compact array, bbox of the view)", "point", map_view(14), "sites"),
        Query(
            "map view z11 (compact array, bbox of the view)",
            "center",
            map_view(11),
            "sites",
            heavy=True,
        ),
        Query(
            "the /map page's query today: every site of the database (compact array)",
            "city",
            lambda s, _p: map_data.site_points(s, SiteFilter(), TODAY).total,
            "sites",
            heavy=True,
        ),
        Query("vector tile z17 (one point per site)", "point", tile(17), "bytes"),
        Query("vector tile z14 (one point per site)", "point", tile(14), "bytes"),
        Query("vector tile z11 (grid counts)", "center", tile(11), "bytes"),
    ]


def parameters(engine: Engine, k: int) -> dict[str, list[Any]]:
    """K random parameters of each kind (seeded): streets, points on sites, districts with a
    page offset, city page offsets, and view centres on sites of the six central districts."""
    rng = random.Random(SEED)
    with Session(engine) as s, s.begin():
        streets = s.scalars(text("SELECT code FROM streets ORDER BY code")).all()
        districts = s.scalars(text("SELECT DISTINCT district_code FROM sites ORDER BY 1")).all()
        max_id = s.scalar(text("SELECT max(id) FROM sites"))
        ids = rng.sample(range(1, max_id + 1), min(max_id, 3 * k))
        points = s.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM sites WHERE id = ANY(:ids) ORDER BY id"),
            {"ids": ids},
        ).all()
        central = s.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM sites WHERE district_code = ANY(:d) "
                "AND id = ANY(:ids) ORDER BY id"
            ),
            {"d": ["120101", "120102", "120103", "120104", "120105", "120106"], "ids": ids},
        ).all()
    points = [tuple(p) for p in points]
    rng.shuffle(points)
    central = [tuple(p) for p in central] or points
    return {
        "street": [rng.choice(streets) for _ in range(k)],
        "point": points[:k],
        "district": [(rng.choice(districts), 100 * rng.randrange(20)) for _ in range(k)],
        "city": [100 * rng.randrange(20) for _ in range(k)],
        "center": [central[i % len(central)] for i in range(k)],
    }


# statements run at the start of every measured transaction (--role, --set): the app's role
# and its per-transaction settings, to measure under row-level security
PREPARE: list[tuple[str, dict[str, str]]] = []


def prepare(s: Session, indexed: bool) -> None:
    for statement, params in PREPARE:
        s.execute(text(statement), params)
    if not indexed:
        for statement in NO_INDEX:
            s.execute(text(statement))


@dataclass
class Timing:
    p50: float
    p95: float
    size: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[rank]


def timed_runs(
    engine: Engine, query: Query, params: list[Any], indexed: bool, warm: int | None = None
) -> Timing:
    """Run every parameter once untimed (warm-up: the first `warm` when given), then timed;
    each call in its own transaction, rolled back."""

    def once(s: Session, p: Any) -> tuple[float, int]:
        prepare(s, indexed)
        t = time.perf_counter()
        size = query.run(s, p)
        elapsed = time.perf_counter() - t
        s.rollback()
        return elapsed, size

    with Session(engine) as s, s.begin():
        for p in params[: warm if warm is not None else len(params)]:
            once(s, p)
        results = [once(s, p) for p in params]
    times = [r[0] * 1000 for r in results]
    return Timing(
        percentile(times, 0.5), percentile(times, 0.95), statistics.median(r[1] for r in results)
    )


def plan_of(engine: Engine, query: Query, param: Any, indexed: bool = True) -> str:
    from gis_app.core import query_plans

    with Session(engine) as s:
        prepare(s, indexed)
        plans = query_plans.explain_call(s, lambda: query.run(s, param))
        s.rollback()
    used = sorted({name for p in plans for name in query_plans.indexes_used(p)})
    seq = sorted({name for p in plans for name in query_plans.seq_scanned(p)} - {"streets"})
    parts = [f"`{u}`" for u in used if u not in ("streets_pkey", "uq_streets_code")]
    parts += [f"seq {t}" for t in seq]
    return ", ".join(parts) or "—"


@dataclass
class QueryResult:
    query: Query
    samples: int
    indexed: Timing
    plain: Timing
    plan: str


def measure(engine: Engine, k: int) -> list[QueryResult]:
    params = parameters(engine, k)
    out = []
    for query in queries():
        chosen = params[query.kind][: max(3, k // HEAVY_SHARE) if query.heavy else k]
        if query.kind == "city" and query.heavy:
            chosen = chosen[:3]  # the same query each time: three runs are enough
        plan = plan_of(engine, query, chosen[0])
        indexed = timed_runs(engine, query, chosen, indexed=True)
        plain = timed_runs(engine, query, chosen, indexed=False, warm=min(3, len(chosen)))
        say(
            f"{query.name}: p50 {indexed.p50:.1f} / {plain.p50:.1f} ms without index "
            f"({plain.p50 / indexed.p50:.1f}×), p95 {indexed.p95:.1f} / {plain.p95:.1f} ms; "
            f"{plan}"
        )
        out.append(QueryResult(query, len(chosen), indexed, plain, plan))
    return out


# ---------------------------------------------------------------- report


def _ms(v: float) -> str:
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def _size(v: float, label: str) -> str:
    if label == "bytes":
        return f"{v / 1024:,.1f} KB" if v >= 1024 else f"{v:,.0f} B"
    return f"{v:,.0f}"


def render(
    n: int,
    load_report: LoadReport,
    results: list[QueryResult],
    command: str,
    url: str,
    args_role: str | None = None,
    args_set: list[str] | None = None,
) -> str:
    args_set = args_set or []
    machine = f"{report.machine()}; {report.postgres_version(url)}"
    lines = [
        "## City scale: a million sites on one machine (`bench/city_bench.py`)",
        "",
        report.meta_line("City scale", command, machine),
        f"Measured {date.today().isoformat()} on {machine}, load average "
        f"{report.load_average()} at the end, with `{command}`. The synthetic city: Tianjin's "
        f"16 district outlines cut into approximate streets, {n:,} sites from the demo "
        "generator (gis_app/demo/city.py). Queries are the app's own services; each row is K "
        "random parameters, warm cache (every parameter run once before the timed run), "
        "p50 and p95 in milliseconds, wall time of the service call in Python (rows decoded "
        "included). *Without index*: the same parameters in the same run with "
        "`enable_indexscan`, `enable_bitmapscan` and `enable_indexonlyscan` off (sequential "
        "scans, with PostgreSQL's parallel workers). "
        + (
            f"Run as role `{args_role}` with {', '.join(args_set) or 'no settings'}."
            if args_role
            else "Run as the database owner (row-level security does not apply to it)."
        ),
        "",
        "| query | K | median size | index used | p50 | p95 | no index p50 | no index p95 "
        "| gain p50 | gain p95 |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.query.name} | {r.samples} | {_size(r.indexed.size, r.query.size_label)} "
            f"{'' if r.query.size_label == 'bytes' else r.query.size_label} | {r.plan} "
            f"| {_ms(r.indexed.p50)} | {_ms(r.indexed.p95)} | {_ms(r.plain.p50)} "
            f"| {_ms(r.plain.p95)} | {r.plain.p50 / r.indexed.p50:,.1f}× "
            f"| {r.plain.p95 / r.indexed.p95:,.1f}× |"
        )
    lr = load_report
    total_index = sum(lr.index_s.values())
    lines += [
        "",
        f"Load ({lr.sites:,} sites, {lr.districts} districts, {lr.streets} streets; "
        f"table {lr.table_mb:,.0f} MB, its indexes {lr.indexes_mb:,.0f} MB):",
        "",
        "| step | seconds | rate |",
        "|---|---:|---:|",
        f"| build the city's streets (Voronoi, shapely) | {lr.build_city_s:,.1f} | |",
        f"| generate the sites (demo generator, Python) | {lr.generate_s:,.1f} "
        f"| {lr.sites / lr.generate_s:,.0f} sites/s |",
        f"| COPY into `sites` (text formatting + server), secondary indexes dropped "
        f"| {lr.copy_s:,.1f} | **{lr.sites / lr.copy_s:,.0f} rows/s** |",
    ]
    for name, seconds in lr.index_s.items():
        lines.append(f"| build index `{name}` | {seconds:,.1f} | |")
    lines += [
        f"| all secondary indexes | {total_index:,.1f} | |",
        f"| step plans of the sites in progress (INSERT … SELECT) | {lr.steps_s:,.1f} "
        f"| {lr.steps:,} rows |",
        f"| VACUUM ANALYZE | {lr.vacuum_s:,.1f} | |",
    ]
    if lr.baseline:
        per_row = lr.baseline.get("one INSERT per row") or 1.0
        lines += [
            "",
            f"Loaders compared on the same {BASELINE_ROWS:,} generated sites, into the "
            f"loaded table with its indexes, same run, rolled back (one INSERT per row: "
            f"the first {ROW_BY_ROW_ROWS:,}):",
            "",
            "| loader | rows/s | against one INSERT per row |",
            "|---|---:|---:|",
        ]
        for name, rate in lr.baseline.items():
            lines.append(f"| {name} | {rate:,.0f} | {rate / per_row:,.1f}× |")
    lines += [
        "",
        "What these figures mean for a city, and how the system grows past one machine: "
        "[Scaling](scaling.md).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.city_bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--sites", type=int, help="number of sites (overrides --scale)")
    parser.add_argument("--samples", type=int, help="parameters per query (overrides --scale)")
    parser.add_argument("--reload", action="store_true", help="build the city again")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--doc", type=Path, default=report.DOC, help="document to write into")
    parser.add_argument(
        "--role", help="run the queries as this database role (SET LOCAL ROLE), e.g. the app's"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for each transaction, e.g. app.role=district (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.role:
        PREPARE.append((f'SET LOCAL ROLE "{args.role.replace(chr(34), "")}"', {}))
    for item in args.set:
        name, _, value = item.partition("=")
        PREPARE.append(("SELECT set_config(:name, :value, true)", {"name": name, "value": value}))
    n, k = SCALES[args.scale]
    n = args.sites or n
    k = args.samples or k

    url = bench_url(n, reset=False)
    engine = engine_for(url)
    have = loaded_sites(engine)
    saved = RESULTS / f"city-load-{n}.json"
    if args.reload or have != n or not saved.exists():
        engine.dispose()
        say(f"building the city with {n:,} sites (found {have:,})")
        url = bench_url(n, reset=True)
        load_report = load(url, n)
        engine = engine_for(url)
        say("load rates: COPY against INSERTs, same rows")
        load_report.baseline = load_baselines(url)
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(asdict(load_report), indent=1), encoding="utf-8")
    else:
        say(f"{n:,} city sites already loaded (--reload to rebuild); load figures from {saved}")
        load_report = LoadReport(**json.loads(saved.read_text(encoding="utf-8")))
    results = measure(engine, k)
    engine.dispose()
    given = argv if argv is not None else sys.argv[1:]
    command = ("python -m bench.city_bench " + " ".join(given)).strip()
    body = render(n, load_report, results, command, url, args.role, args.set)
    print(body)
    if not args.no_write:
        report.write_section("city_bench", body, args.doc)
        say(f"written to {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
