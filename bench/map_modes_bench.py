"""The map's two modes against each other: every site in the page (the array mode, the baseline:
today's page) and vector tiles above a threshold (GIS_APP_MAP_TILE_THRESHOLD).

    python -m bench.map_modes_bench [--sizes 1500,20000] [--threshold 1000] [--views 30]

For each size N the demo district with N sites (bench database `<app db>_bench_<N>`, shared with
bench/map_bench.py), the app served as `gis-app serve` does (gunicorn, 2 workers of 4 threads;
`--server werkzeug`: one threaded process, as the runs before), and in the same run, each mode in
a fresh headless Chromium context (empty cache, 1400 × 900):

* first draw: ms from navigation start until the first view is complete (array: the canvas
  holds every site; tiles: every tile of the view is drawn, or the view's sites fetched);
* bytes: everything transferred for the first view (document, scripts, data, tiles);
* tour: a scripted tour of --views views (pans and zooms between zoom 12 and 16 over the
  district, the same for both modes); each view timed from setView until it is complete;
  median and p95; in tile mode also until its tiles are drawn (`drawn`: every site of the
  view shown, before the view's sites are fetched as an array where few are in view). Each
  mode's first page also tours other views first (`first tour`: the server just started, its
  database connections new); the tour measured is the second, as on a running server. The
  slowest views are printed with their tiles, bytes and waits (queued: for a connection of
  the browser; server: for the first byte);
* memory: the tab's JS heap after the tour (Chrome DevTools Performance.getMetrics);
* tiles (tile mode): server time per tile at z15, z14 and z11 over the district, built (first
  request) and revalidated (If-None-Match, 304), p50 and p95.

The machine may be shared: compare the modes' ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
import urllib.request
from typing import Any

from bench.map_bench import bench_url, ensure_sites, say

VIEWPORT = {"width": 1400, "height": 900}
#: the first point zoom, the issue's two, and the tiles the map asks at zoom 14 and 11 (512 px)
TILE_ZOOMS = (15, 14, 13, 11, 10)


#: the modes a run may compare: the page's array (today's page), the tiles with their low zooms
#: summed from the map's cell counts (site_cells), and the tiles counting every site (the tile
#: mode before those counts)
MODES = ("array", "tiles", "tiles-sites")


def bench_wsgi(
    url: str, threshold: int, cells: bool = True, cache: bool = True, today: str | None = None
) -> Any:
    from bench.browser import bench_app

    if not cells:
        from gis_app.features.maps import cells as cell_counts

        cell_counts.access = lambda *_args: None  # type: ignore[assignment]
    config: dict[str, Any] = {"MAP_TILE_THRESHOLD": threshold}
    if not cache:
        config["TILE_CACHE_MB"] = 0
    if today:
        config["FROZEN_NOW"] = f"{today}T10:00:00+08:00"
    return bench_app(url, **config)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def tour_views(
    bounds: tuple[float, float, float, float], n: int, seed: int = 20
) -> list[list[float]]:
    """n views [lat, lon, zoom]: zooms 12-16, centres inside the district's bounds."""
    west, south, east, north = bounds
    rnd = random.Random(seed)
    return [
        [rnd.uniform(south, north), rnd.uniform(west, east), rnd.choice([12, 13, 14, 15, 16])]
        for _ in range(n)
    ]


TOUR_JS = """async ([views, tiled]) => {
  const map = window.gisMap, times = [], drawn = [], detail = [];
  performance.setResourceTimingBufferSize(100000);
  const longest = (entries, f) => Math.round(Math.max(0, ...entries.map(f)));
  const busy = [];  // the page's long tasks (over 50 ms of its main thread)
  new PerformanceObserver(list => busy.push(...list.getEntries())).observe({type: 'longtask'});
  for (const [lat, lon, zoom] of views) {
    const t0 = performance.now();
    let drawnAt = null;
    const done = new Promise(resolve => {
      if (tiled) {
        window.gisTiles.once('drawn', () => { drawnAt = performance.now(); });
        window.gisTiles.once('settled', () => resolve());
      } else map.once('moveend', () => requestAnimationFrame(() => resolve()));
    });
    map.setView([lat, lon], zoom, {animate: false});
    await Promise.race([done, new Promise(r => setTimeout(r, 20000))]);
    const t1 = performance.now();
    times.push(t1 - t0);
    drawn.push((drawnAt === null ? t1 : drawnAt) - t0);
    const asked = performance.getEntriesByType('resource').filter(e => e.startTime >= t0);
    const tiles = asked.filter(e => e.name.includes('/tiles/'));
    detail.push({i: detail.length, zoom, lat, lon, tiles: tiles.length,
                 other: asked.length - tiles.length,
                 kb: Math.round(asked.reduce((s, e) => s + e.encodedBodySize, 0) / 1024),
                 slowest: Math.round(Math.max(0, ...tiles.map(e => e.duration))),
                 // when the first tile was asked and the last one came, after the move
                 first: Math.round(Math.min(...tiles.map(e => e.startTime)) - t0),
                 last: Math.round(Math.max(...tiles.map(e => e.responseEnd)) - t0),
                 // the longest wait for a connection and for the server's first byte
                 queued: longest(tiles, e => e.requestStart - e.startTime),
                 server: longest(tiles, e => e.responseStart - e.requestStart),
                 connects: tiles.filter(e => e.connectEnd > e.connectStart).length,
                 busy: Math.round(busy.filter(e => e.startTime >= t0)
                                      .reduce((s, e) => s + e.duration, 0))});
  }
  return [times, drawn, detail];
}"""

READY_JS = """() => window.gisSites && window.gisSites.stats.firstDrawnAt !== null
  && (!window.gisTiles || window.gisTiles.stats.settledAt !== null)
  && window.gisSites.stats.firstDrawnAt"""


def measure_mode(browser: Any, base: str, login: dict[str, str], views: list, tiled: bool) -> dict:
    from bench.browser import offline_context

    blocked: list[str] = []
    context = offline_context(browser, blocked, viewport=VIEWPORT)
    context.set_extra_http_headers(login)
    page = context.new_page()
    transferred = [0]
    page.on("requestfinished", lambda r: transferred.__setitem__(0, transferred[0] + _size(r)))
    page.goto(base + "/map", wait_until="commit")
    first = float(page.wait_for_function(READY_JS, timeout=120_000).json_value())
    page.wait_for_timeout(200)
    first_bytes = transferred[0]
    # the tour starts once the page is done loading (no request for 500 ms): a pan is timed
    # from the map's state, not from the tail of the page's own loading
    page.wait_for_load_state("networkidle")
    mode = page.evaluate("() => window.gisTiles ? 'tiles' : 'sites'")
    assert mode == ("tiles" if tiled else "sites"), mode
    times, drawn, detail = page.evaluate(TOUR_JS, [views, tiled])
    for ms, view in sorted(zip(drawn, detail, strict=True), key=lambda p: -p[0])[:5]:
        say(f"  slow view: drawn {ms:.0f} ms {view}")
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    context.close()
    return {
        "first_ms": first,
        "bytes": first_bytes,
        "tour_p50": statistics.median(times),
        "tour_p95": p95(times),
        # tile mode: every site of the view drawn from the tiles (points or counts), before
        # the view's sites are fetched as an array (at most viewSites in view)
        "drawn_p50": statistics.median(drawn),
        "drawn_p95": p95(drawn),
        "heap_mb": metrics.get("JSHeapUsedSize", 0) / 2**20,
        "blocked": blocked,
    }


def _size(request: Any) -> int:
    try:
        sizes = request.sizes()
        return int(sizes["responseBodySize"] + sizes["responseHeadersSize"])
    except Exception:  # a request the browser cancelled
        return 0


def tile_addresses(url: str, bounds: tuple, z: int, sample: int) -> list[tuple[int, int]]:
    """Every tile over the bounds at zoom z, or, when there are more than `sample`, the tiles
    of `sample` random sites (a city: most tiles over its bounding box are empty)."""
    from sqlalchemy import create_engine, text

    from gis_app.core.database import sqlalchemy_url

    west, south, east, north = bounds
    n = 2**z

    def tx(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def ty(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    every = [(x, y) for x in range(tx(west), tx(east) + 1) for y in range(ty(north), ty(south) + 1)]
    if len(every) <= sample:
        return every
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        points = conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM sites"
                " TABLESAMPLE BERNOULLI (1) REPEATABLE (20) LIMIT 5000"
            )
        ).all()
    engine.dispose()
    rnd, chosen = random.Random(z), []
    for lon, lat in rnd.sample(points, len(points)):
        if (tx(lon), ty(lat)) not in chosen:
            chosen.append((tx(lon), ty(lat)))
        if len(chosen) == sample:
            break
    return chosen


def tile_times(base: str, login: dict[str, str], tiles: list, z: int) -> dict[str, float]:
    """Server time per tile at zoom z: each asked once untimed (PostgreSQL's cache warm), then
    built again (timed; the server keeps no tile in memory) and revalidated (304)."""
    built, again, sizes = [], [], []
    for x, y in tiles:
        url = f"{base}/tiles/sites/{z}/{x}/{y}.mvt"
        with urllib.request.urlopen(urllib.request.Request(url, headers=login)) as r:
            r.read()
    for x, y in tiles:
        url = f"{base}/tiles/sites/{z}/{x}/{y}.mvt"
        t0 = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, headers=login)) as r:
            body, etag = r.read(), r.headers["ETag"]
        built.append(time.perf_counter() - t0)
        sizes.append(len(body))
        t0 = time.perf_counter()
        request = urllib.request.Request(url, headers={**login, "If-None-Match": etag})
        try:
            urllib.request.urlopen(request).read()
        except urllib.error.HTTPError as exc:
            assert exc.code == 304, exc.code
        again.append(time.perf_counter() - t0)
    return {
        "tiles": len(built),
        "built_p50": statistics.median(built) * 1000,
        "built_p95": p95(built) * 1000,
        "again_p95": p95(again) * 1000,
        "kb_max": max(sizes) / 1024,
    }


def district_bounds(url: str) -> tuple[float, float, float, float]:
    from sqlalchemy import create_engine, text

    from gis_app.core.database import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                " (SELECT ST_Extent(geom) AS e FROM sites) s"
            )
        ).one()
    engine.dispose()
    return tuple(float(v) for v in row)  # type: ignore[return-value]


def count_cells(url: str, today: str | None) -> float:
    """Count every square of the map's cell counts (what `gis-app daily` does each night);
    seconds."""
    from datetime import date

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from gis_app.core.database import sqlalchemy_url
    from gis_app.features.maps import count_map_cells

    engine = create_engine(sqlalchemy_url(url))
    with Session(engine) as s:
        s.execute(text("SELECT set_config('app.role', 'district_admin', true)"))
        t0 = time.perf_counter()
        squares = count_map_cells(s, date.fromisoformat(today) if today else date.today())
        s.commit()
        seconds = time.perf_counter() - t0
    engine.dispose()
    say(f"cell counts: {squares} squares counted in {seconds:.1f} s")
    return seconds


def site_total(url: str) -> int:
    from sqlalchemy import create_engine, text

    from gis_app.core.database import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        n = int(conn.execute(text("SELECT count(*) FROM sites WHERE deleted_at IS NULL")).scalar())
    engine.dispose()
    return n


def run(
    sizes: list[int],
    threshold: int,
    n_views: int,
    dbname: str | None = None,
    modes: tuple[str, ...] = ("array", "tiles"),
    today: str | None = None,
    sample: int = 60,
    gunicorn: bool = True,
) -> list[dict[str, Any]]:
    from bench.browser import (
        auth_headers,
        bench_token,
        chromium,
        serve_gunicorn,
        serve_in_process,
    )

    results = []
    with chromium() as browser:
        for n in sizes:
            if dbname is None:
                url = bench_url(n)
                ensure_sites(url, n, False)
            else:
                url = _named(dbname)
                n = site_total(url)
            login = auth_headers(bench_token(url))
            bounds = district_bounds(url)
            views = tour_views(bounds, n_views)
            cold_views = tour_views(bounds, n_views, seed=21)
            row: dict[str, Any] = {"n": n, "modes": modes}
            for label in modes:
                tiled = label != "array"
                server = {
                    "url": url,
                    "threshold": threshold if tiled else 10**9,
                    "cells": label != "tiles-sites",
                    "today": today,
                }
                if label == "tiles":
                    row["count_s"] = count_cells(url, today)
                serving = serve_gunicorn if gunicorn else serve_in_process
                with serving("bench.map_modes_bench:bench_wsgi", **server) as base:
                    with urllib.request.urlopen(
                        urllib.request.Request(base + "/map", headers=login), timeout=600
                    ) as warm:
                        warm.read()  # imports, connections
                    # a first tour of other views on the server just started: its pool's
                    # connections are new (PostgreSQL loads PostGIS and the row-level
                    # security policies in each) and its statements not yet built; then
                    # the measured tour, as on a server that has been running
                    cold = measure_mode(browser, base, login, cold_views, tiled)
                    row[label] = measure_mode(browser, base, login, views, tiled)
                    # the first draw and its bytes: the first page, as in the runs before
                    row[label]["first_ms"], row[label]["bytes"] = cold["first_ms"], cold["bytes"]
                    row[label]["cold_drawn_p95"] = cold["drawn_p95"]
                    row[label]["cold_tour_p95"] = cold["tour_p95"]
                    say(f"{n:,} {label}: {row[label]}")
                if not tiled:
                    continue
                with serve_in_process(
                    "bench.map_modes_bench:bench_wsgi", **server, cache=False
                ) as base:
                    for z in TILE_ZOOMS:
                        addresses = tile_addresses(url, bounds, z, sample)
                        row[f"{label} z{z}"] = tile_times(base, login, addresses, z)
                        say(f"{n:,} {label} z{z} {row[f'{label} z{z}']}")
            results.append(row)
    return results


def _named(dbname: str) -> str:
    """A database already holding the demo district (e.g. the export bench's)."""
    from gis_app.core.localdb import resolve_url, with_dbname

    return with_dbname(resolve_url(), dbname)


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| sites | mode | first draw ms | bytes first view | tour p50 ms | tour p95 ms "
        "| drawn p50 ms | drawn p95 ms | first tour: drawn p95, p95 ms | JS heap MiB "
        "| first draw vs first mode |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        first = r[r["modes"][0]]["first_ms"]
        for label in r["modes"]:
            m = r[label]
            lines.append(
                f"| {r['n']:,} | {label} | {m['first_ms']:.0f} | {m['bytes'] / 1024:,.0f} KB "
                f"| {m['tour_p50']:.0f} | {m['tour_p95']:.0f} "
                f"| {m['drawn_p50']:.0f} | {m['drawn_p95']:.0f} "
                f"| {m['cold_drawn_p95']:.0f}, {m['cold_tour_p95']:.0f} | {m['heap_mb']:.1f} "
                f"| {m['first_ms'] / first:.2f}× |"
            )
    lines += [
        "",
        "| sites | mode | zoom | tiles | built p50 ms | built p95 ms | 304 p95 ms | largest KB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for label in r["modes"]:
            for z in TILE_ZOOMS:
                t = r.get(f"{label} z{z}")
                if t is None:
                    continue
                lines.append(
                    f"| {r['n']:,} | {label} | {z} | {t['tiles']} | {t['built_p50']:.0f} "
                    f"| {t['built_p95']:.0f} | {t['again_p95']:.0f} | {t['kb_max']:.1f} |"
                )
    for r in results:
        if "count_s" in r:
            lines.append(f"\nCounting every square of {r['n']:,} sites: {r['count_s']:.1f} s.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1500,20000")
    parser.add_argument("--threshold", type=int, default=1000, help="the tile mode's threshold")
    parser.add_argument("--views", type=int, default=30)
    parser.add_argument("--database", help="use this database (one size) instead of loading one")
    parser.add_argument("--modes", default="array,tiles", help=f"of {', '.join(MODES)}")
    parser.add_argument("--today", help="the app's day (YYYY-MM-DD), e.g. the city's 2026-06-15")
    parser.add_argument("--tile-sample", type=int, default=60, help="tiles timed per zoom")
    parser.add_argument(
        "--server",
        choices=("gunicorn", "werkzeug"),
        default="gunicorn",
        help="the pages and tiles of the browser runs: gunicorn as `gis-app serve` (2 workers,"
        " 4 threads), or one threaded werkzeug process (the runs before 2026-12-06's second)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    modes = tuple(m for m in args.modes.split(",") if m)
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: of {', '.join(MODES)}")
    results = run(
        sizes,
        args.threshold,
        args.views,
        args.database,
        modes,
        args.today,
        args.tile_sample,
        args.server == "gunicorn",
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
