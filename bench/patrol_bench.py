"""Patrol routes: tour length and time of the route solver against simple orders and LKH-3.

Random instances of 50, 200 and 1,000 stops, uniform inside the demo district's outline
(layers/data/hedong-district.geojson), plus a start point; closed tours (back to the start),
geodesic distances on WGS84. In one run, per instance:

- the app's planner (`plan_route`, fast-tsp with its default budget; its time includes the
  distance matrix) and fast-tsp with a quarter-second budget;
- a nearest-neighbour order from the start, and that order improved by 2-opt until no move
  improves it (numpy, best move per city);
- the reference: the best tour of a long LKH-3 run (elkai, many runs; installed only for the
  bench, `pip install -e '.[bench]'`; LKH-3's licence is non-commercial, so the app does not
  use it). Without elkai the reference is the best tour of a long fast-tsp run, labelled so.

Gaps are (length / reference − 1). A second table times the planner on a road network: a
synthetic street grid (100 m blocks) over the district, snapping, Dijkstra matrix, solver and
the legs' paths, as `plan_route` does after reading the roads.

    .venv/bin/python -m bench.patrol_bench            # 5 instances per size, long reference
    .venv/bin/python -m bench.patrol_bench --quick    # 2 instances per size, shorter reference
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from bench import report
from gis_app.demo.loader import OUTLINE_FILE
from gis_app.features.patrol.roads_graph import RoadNetwork
from gis_app.features.patrol.routing import (
    default_time_limit,
    geodesic_matrix,
    plan_route,
    solve_tour,
)

SIZES = (50, 200, 1000)


def random_points(n: int, seed: int) -> np.ndarray:
    """n + 1 uniform random (lon, lat) points inside the district outline (row 0: start)."""
    outline = gpd.read_file(OUTLINE_FILE).geometry.union_all()
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = outline.bounds
    out = np.empty((0, 2))
    while len(out) < n + 1:
        cand = np.column_stack((rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)))
        inside = shapely.contains_xy(outline, cand[:, 0], cand[:, 1])
        out = np.vstack((out, cand[inside]))
    return out[: n + 1]


def pct(values: list[float]) -> str:
    mean, top = (round(v, 4) + 0.0 for v in (statistics.mean(values), max(values)))
    return f"{mean:.2%} (max {top:.2%})"


def sec(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}"


def tour_length(dist: np.ndarray, tour: list[int]) -> float:
    t = np.asarray(tour)
    return float(dist[t, np.roll(t, -1)].sum())


def nearest_neighbour(dist: np.ndarray) -> list[int]:
    n = len(dist)
    seen = np.zeros(n, dtype=bool)
    tour = [0]
    seen[0] = True
    for _ in range(n - 1):
        row = np.where(seen, np.inf, dist[tour[-1]])
        nxt = int(row.argmin())
        tour.append(nxt)
        seen[nxt] = True
    return tour


def two_opt(dist: np.ndarray, tour: list[int]) -> list[int]:
    """2-opt until no improving move: for each i, the best j (vectorised), applied at once."""
    t = np.asarray(tour)
    n = len(t)
    improved = True
    while improved:
        improved = False
        for i in range(n - 2):
            a, b = t[i], t[i + 1]
            c = t[i + 2 :]
            d = np.r_[t[i + 3 :], t[:1]]
            if i == 0:  # the edge (t[n-1], t[0]) shares t[0] with (a, b)
                c, d = c[:-1], d[:-1]
            delta = dist[a, c] + dist[b, d] - dist[a, b] - dist[c, d]
            k = int(delta.argmin()) if len(delta) else -1
            if k >= 0 and delta[k] < -1e-9:
                j = i + 2 + k
                t[i + 1 : j + 1] = t[i + 1 : j + 1][::-1].copy()
                improved = True
    return t.tolist()


def reference(dist: np.ndarray, runs: int, seconds: float) -> tuple[list[int], str]:
    """The best tour of a long run: LKH-3 (elkai) when installed, else fast-tsp."""
    try:
        import elkai
    except ImportError:
        import fast_tsp

        ints = np.rint(dist * 60000 / dist.max()).astype(np.int64)
        return fast_tsp.find_tour(ints, duration_seconds=seconds), (
            f"fast-tsp, {seconds:.0f} s run (elkai not installed)"
        )
    ints = np.rint(dist * 10).astype(int).tolist()  # decimetres
    tour = elkai.DistanceMatrix(ints).solve_tsp(runs=runs)
    if len(tour) > len(dist):
        tour = tour[:-1]
    return tour, f"LKH-3 (elkai), {runs} runs"


def fast_tsp_short(dist: np.ndarray, seconds: float) -> tuple[list[int], float]:
    started = time.perf_counter()
    order, _ = solve_tour(dist, open_end=None, time_limit_s=seconds)
    return order, time.perf_counter() - started


def grid_lines(step_m: float = 100.0, vertex_m: float | None = None) -> list[shapely.LineString]:
    """A street grid with `step_m` blocks over the district's bounding box (shared vertices at
    the crossings), with a shape vertex every `vertex_m` along the streets as in OSM data."""
    outline = gpd.read_file(OUTLINE_FILE).geometry.union_all()
    x0, y0, x1, y1 = outline.bounds
    lat = np.radians((y0 + y1) / 2)
    xs = np.arange(x0, x1 + 1e-9, step_m / (111_320 * np.cos(lat)))
    ys = np.arange(y0, y1 + 1e-9, step_m / 110_540)
    rows = [shapely.LineString([(x, y) for x in xs]) for y in ys]
    cols = [shapely.LineString([(x, y) for y in ys]) for x in xs]
    lines = rows + cols
    if vertex_m:
        lines = list(shapely.segmentize(lines, vertex_m / 111_000))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50, help="LKH-3 runs (fewer at 1,000)")
    parser.add_argument("--quick", action="store_true", help="2 instances, 10 LKH-3 runs")
    parser.add_argument("--part", choices=("all", "tours", "roads"), default="all")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--doc", type=Path, default=report.DOC, help="document to write into")
    args = parser.parse_args(argv)
    if args.quick:
        args.instances, args.runs = 2, 10
    sizes = [int(s) for s in args.sizes.split(",")]
    given = argv if argv is not None else sys.argv[1:]
    command = ("python -m bench.patrol_bench " + " ".join(given)).strip()
    if args.part in ("all", "tours"):
        out = tours(sizes, args.instances, args.runs)
        if not args.no_write:
            write_tours(out, command, args.doc)
    if args.part in ("all", "roads"):
        out = roads(sizes)
        if not args.no_write:
            write_roads(out, command, args.doc)


def _emitter(out: list[str]):
    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    return emit


def tours(sizes: list[int], instances: int, runs_default: int) -> list[str]:
    """Tour lengths and times on random instances; the table's lines."""
    out: list[str] = []
    emit = _emitter(out)
    emit(
        "| stops | instances | reference | reference s | planner gap | planner s "
        "| fast-tsp 0.25 s gap | nearest neighbour gap | NN + 2-opt gap | 2-opt s | matrix s |"
    )
    emit("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        rows: dict[str, list[float]] = {}
        label = ""
        for k in range(instances):
            pts = random_points(n, seed=1000 * n + k)
            started = time.perf_counter()
            dist = geodesic_matrix(pts)
            rows.setdefault("matrix_s", []).append(time.perf_counter() - started)
            runs = runs_default if n < 1000 else max(3, runs_default // 5)
            started = time.perf_counter()
            ref_tour, label = reference(dist, runs, seconds=30.0 if n < 1000 else 60.0)
            rows.setdefault("ref_s", []).append(time.perf_counter() - started)
            ref = tour_length(dist, ref_tour)
            route = plan_route(None, tuple(pts[0]), [tuple(p) for p in pts[1:]])
            rows.setdefault("planner", []).append(route.total_m / ref - 1)
            rows.setdefault("planner_s", []).append(route.seconds)
            short, _ = fast_tsp_short(dist, 0.25)
            rows.setdefault("short", []).append(tour_length(dist, short) / ref - 1)
            nn = nearest_neighbour(dist)
            rows.setdefault("nn", []).append(tour_length(dist, nn) / ref - 1)
            started = time.perf_counter()
            opt = two_opt(dist, nn)
            rows.setdefault("2opt_s", []).append(time.perf_counter() - started)
            rows.setdefault("2opt", []).append(tour_length(dist, opt) / ref - 1)
            print(
                f"[patrol] n={n} #{k}: ref {ref:,.0f} m, planner {rows['planner'][-1]:+.2%} "
                f"in {route.seconds:.2f} s, NN {rows['nn'][-1]:+.1%}, "
                f"2-opt {rows['2opt'][-1]:+.1%}",
                file=sys.stderr,
                flush=True,
            )

        r = rows
        emit(
            f"| {n:,} | {instances} | {label} | {sec(r['ref_s'])} | {pct(r['planner'])} "
            f"| {sec(r['planner_s'])} | {pct(r['short'])} | {pct(r['nn'])} "
            f"| {pct(r['2opt'])} | {sec(r['2opt_s'])} | {sec(r['matrix_s'])} |"
        )

    return out


NETWORKS = (
    ("100 m blocks, a vertex every 25 m", 100.0, 25.0),
    ("50 m blocks, a vertex every 12.5 m", 50.0, 12.5),
)


def roads(sizes: list[int]) -> list[str]:
    """Planning on a road network (synthetic street grids): time of each step."""
    out: list[str] = []
    emit = _emitter(out)
    emit(
        "| network | road vertices | stops | graph nodes | graph + snap s | matrix s "
        "| solver s | paths s | total s |"
    )
    emit("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, block, vertex in NETWORKS:
        lines = grid_lines(block, vertex)
        n_vertices = len(shapely.get_coordinates(lines))
        for n in sizes:
            pts = random_points(n, seed=7 + n)
            t0 = time.perf_counter()
            net = RoadNetwork(lines, pts)
            t1 = time.perf_counter()
            dist = net.matrix()
            t2 = time.perf_counter()
            order, _ = solve_tour(dist, open_end=None, time_limit_s=default_time_limit(n))
            t3 = time.perf_counter()
            net.paths(list(zip(order, [*order[1:], order[0]], strict=True)))
            t4 = time.perf_counter()
            emit(
                f"| {label} | {n_vertices:,} | {n:,} | {net.graph.shape[0]:,} | {t1 - t0:.2f} "
                f"| {t2 - t1:.2f} | {t3 - t2:.2f} | {t4 - t3:.2f} | {t4 - t0:.2f} |"
            )
    return out


def _machine() -> str:
    import fast_tsp

    return f"{report.machine()}, fast-tsp {fast_tsp.__version__}"


def write_tours(out: list[str], command: str, doc: Path) -> None:
    try:
        import elkai  # noqa: F401

        ref = "LKH-3 via elkai 2.0.1 (bench extra only)"
    except ImportError:
        ref = "elkai not installed: reference = best tour of a long fast-tsp run"
    machine = _machine()
    body = "\n".join(
        [
            "## Patrol routes (`bench/patrol_bench.py`)",
            "",
            report.meta_line("Patrol routes", command, machine),
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}, load average "
            f"{report.load_average()} (the machine is shared; the bench runs niced), with "
            f"`{command}`. Random stops uniform inside the demo district's outline plus a "
            "start point, closed tours, geodesic distances (WGS84). Gap = tour length / "
            f"reference − 1, mean over the instances (max in brackets); reference: {ref}. "
            "Planner = `plan_route` with its default budget (fast-tsp, n / 400 s within "
            "0.2–1 s, wall clock); its time includes the distance matrix and building the "
            "legs. NN = nearest-neighbour order from the start; 2-opt runs until no move "
            "improves. Times in seconds, medians.",
            "",
            *out,
        ]
    )
    report.write_section("patrol_bench", body, doc)


def write_roads(out: list[str], command: str, doc: Path) -> None:
    machine = _machine()
    body = "\n".join(
        [
            "## Patrol routes on a road network (`bench/patrol_bench.py --part roads`)",
            "",
            report.meta_line("Patrol routes on roads", command, machine),
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}, load average "
            f"{report.load_average()}, with `{command}`. Synthetic street grids over the "
            "district's bounding box (lines shared at every crossing, shape vertices along "
            "them as in OpenStreetMap data), random stops inside the outline. The steps of "
            "`plan_route` after reading the lines: the graph (degree-2 vertices contracted "
            "into chains) with the points snapped onto it, the Dijkstra matrix, the solver "
            "(default budget), and the legs' paths. Graph nodes = junctions, dead ends and "
            "snapped points.",
            "",
            *out,
        ]
    )
    report.write_section("patrol_roads", body, doc)


if __name__ == "__main__":
    main()
