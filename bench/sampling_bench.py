"""Spot-check sampling at district to city scale: time to draw and spatial balance vs SRS.

Frames of 1,000 / 10,000 / 100,000 / 1,000,000 points with the demo district's geometry
(Hedong's 12 approximate streets, the demo generator's hotspots and background), projected
to EPSG:4547. No database: the draw itself works on arrays (the app adds the frame query
and the inserts). For each frame, n is the GB/T 2828.1 level II sample size.

- time: median wall time of a draw (LPM, GRTS, SRS) over --repeats runs;
- balance: Stevens & Olsen's Voronoi variance averaged over --draws draws of each method
  (--draws-1m at 1,000,000, where each draw and each balance take seconds), and its ratio
  to the simple random samples' mean measured in the same run;
- anchors: 2,000 uniform random points, n = 100 (the reference figures the requirements quoted).

    .venv/bin/python -m bench.sampling_bench            # the full table (about 15 min)
    .venv/bin/python -m bench.sampling_bench --quick    # 1k and 10k only, 20 draws
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np

from bench import report
from gis_app.demo.loader import STREETS_FILE
from gis_app.demo.sites_generator import inner_geometries, sample_points, street_hotspots
from gis_app.features.sampling.balance import balance
from gis_app.features.sampling.design import DRAWERS
from gis_app.features.sampling.gbt2828 import sample_size
from gis_app.features.sampling.projection import to_metric

METHODS = ("lpm", "grts", "srs")


def demo_frame(n: int, seed: int = 1) -> np.ndarray:
    """n points like the demo district's sites, in metres (EPSG:4547)."""
    streets = gpd.read_file(STREETS_FILE)
    rng = np.random.default_rng(seed)
    inner = inner_geometries(streets)
    lon, lat, _ = sample_points(inner, street_hotspots(streets, inner, rng), n, rng)
    return to_metric(lon, lat)


def time_draws(xy: np.ndarray, n: int, repeats: int) -> dict[str, float]:
    out = {}
    for method in METHODS:
        rng = np.random.default_rng(42)
        DRAWERS[method](xy, n, rng)  # warm up (imports, thread pools, page faults)
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            DRAWERS[method](xy, n, rng)
            runs.append(time.perf_counter() - start)
        out[method] = statistics.median(runs)
    return out


def mean_balance(xy: np.ndarray, n: int, draws: int) -> dict[str, float]:
    prob = np.full(len(xy), n / len(xy))
    out = {}
    for method in METHODS:
        rng = np.random.default_rng(7)
        values = [balance(xy, prob, DRAWERS[method](xy, n, rng)).variance for _ in range(draws)]
        out[method] = float(np.mean(values))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--draws-1m", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1k and 10k, 20 draws")
    parser.add_argument("--timing-only", action="store_true", help="skip the balance")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--doc", type=Path, default=report.DOC, help="document to write into")
    args = parser.parse_args(argv)
    out: list[str] = []

    def emit(line: str = "", flush: bool = False) -> None:
        print(line, flush=flush)
        out.append(line)

    sizes = [int(s) for s in args.sizes.split(",")]
    draws = args.draws
    if args.quick:
        sizes, draws = [1000, 10000], 20

    emit(f"# sampling bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    emit(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    emit()
    emit(
        "| frame N | n (GB/T II) | draws | LPM ms | GRTS ms | SRS ms | balance LPM | GRTS |"
        " SRS | LPM / SRS | GRTS / SRS |"
    )
    emit("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        xy = demo_frame(size)
        n = sample_size(size, "II")[1]
        k = 0 if args.timing_only else (args.draws_1m if size >= 1_000_000 else draws)
        t = time_draws(xy, n, max(1, args.repeats if size < 1_000_000 else 3))
        cells = "| — | — | — | — | — |"
        if k:
            b = mean_balance(xy, n, k)
            cells = (
                f"| {b['lpm']:.3f} | {b['grts']:.3f} | {b['srs']:.3f} | "
                f"{b['lpm'] / b['srs']:.2f} | {b['grts'] / b['srs']:.2f} |"
            )
        emit(
            f"| {size:,} | {n} | {k} | {t['lpm'] * 1e3:.1f} | {t['grts'] * 1e3:.1f} | "
            f"{t['srs'] * 1e3:.2f} " + cells,
            flush=True,
        )

    if not args.timing_only:
        anchors(draws, emit)
    if not args.no_write:
        given = argv if argv is not None else sys.argv[1:]
        write(out, ("python -m bench.sampling_bench " + " ".join(given)).strip(), args.doc)


def anchors(draws: int, emit: Callable[..., None]) -> None:
    emit()
    emit("Anchor: 2,000 uniform random points, n = 100")
    xy = np.random.default_rng(3).random((2000, 2)) * 10_000.0
    b = mean_balance(xy, 100, draws)
    emit(
        f"balance over {draws} draws: LPM {b['lpm']:.3f}, GRTS {b['grts']:.3f}, "
        f"SRS {b['srs']:.3f}; LPM / SRS {b['lpm'] / b['srs']:.2f}, "
        f"GRTS / SRS {b['grts'] / b['srs']:.2f}"
    )


def write(out: list[str], command: str, doc: Path) -> None:
    machine = f"{report.machine()}, numpy {np.__version__}"
    lines = [line for line in out if not line.startswith("# ")]
    body = "\n".join(
        [
            "## Spot-check sampling: latest run (`bench/sampling_bench.py`)",
            "",
            report.meta_line("Spot-check sampling", command, machine),
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}, load average "
            f"{report.load_average()}, with `{command}`. Times in ms (median of the runs); "
            "balance = Stevens & Olsen's Voronoi variance, mean over the draws (lower is "
            "better); ratios against simple random samples of the same run. The analysis "
            "of these figures is in the section above.",
            "",
            *lines,
        ]
    )
    report.write_section("sampling_bench", body, doc)


if __name__ == "__main__":
    main()
