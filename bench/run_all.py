"""Every benchmark of the project, one after the other: `make bench` (SCALE=small|full).

    python -m bench.run_all [--scale small|full] [--only city,map] [--list]

Each bench runs in a process of its own (niced: the machine is shared), with the arguments of
its scale from BENCHES, and writes its own section: of docs/operations/performance.md at full
scale, of bench/results/performance-small.md at small scale (a quick run must not replace the
figures of a full one). A bench that fails is reported and the others still run; the exit status is
non-zero when any failed. Add a bench by adding a line to BENCHES.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
SMALL_DOC = ROOT / "bench" / "results" / "performance-small.md"


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    small: tuple[str, ...]
    full: tuple[str, ...]
    about: str


BENCHES: tuple[Bench, ...] = (
    Bench(
        "overdue",
        "bench.bench_overdue_steps",
        ("--sites", "5000", "--repeat", "5"),
        ("--sites", "20000", "--repeat", "15"),
        "the overdue rule with step plans against the deadline-only rule",
    ),
    Bench(
        "rls",
        "bench.bench_rls",
        ("--sites", "3000", "--repeat", "3"),
        ("--sites", "20000", "--repeat", "9"),
        "row-level security and the audit trail against the owner's queries",
    ),
    Bench(
        "sampling",
        "bench.sampling_bench",
        ("--quick",),
        (),
        "spot-check draws: time and spatial balance against simple random samples",
    ),
    Bench(
        "export",
        "bench.export_bench",
        ("--scales", "10000", "--repeat", "1", "--formats", "csv,gpkg", "--write"),
        ("--write",),
        "exports over HTTP against geopandas, ogr2ogr and PostgreSQL alone",
    ),
    Bench(
        "map",
        "bench.map_bench",
        ("--sizes", "1500,5000", "--repeat", "3"),
        (),
        "the map page against a plain folium page, in headless Chromium",
    ),
    Bench(
        "city",
        "bench.city_bench",
        ("--scale", "small"),
        ("--scale", "full"),
        "a city of a million sites: load rate, page queries with and without their indexes",
    ),
    Bench(
        "patrol",
        "bench.patrol_bench",
        ("--quick",),
        (),
        "patrol route tours: fast-tsp against nearest neighbour, 2-opt and LKH-3",
    ),
    Bench(
        "load",
        "bench.load_bench",
        ("--users", "50", "--run-time", "30", "--spawn-rate", "10"),
        ("--users", "200", "--run-time", "300", "--spawn-rate", "10"),
        "gunicorn under locust: 200 users on the map, list, bbox, detail, export and uploads",
    ),
)


def run(bench: Bench, scale: str, doc: Path) -> tuple[bool, float]:
    args = [*(bench.small if scale == "small" else bench.full)]
    if doc != report.DOC:
        args += ["--doc", str(doc.relative_to(ROOT))]
    command = ["nice", "-n", "10", sys.executable, "-m", bench.module, *args]
    print(f"[bench] {bench.name}: {' '.join(command[3:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, check=False)
    return result.returncode == 0, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--scale", choices=("small", "full"), default="full")
    parser.add_argument("--only", default="", help="comma-separated bench names")
    parser.add_argument("--list", action="store_true", help="list the benches and stop")
    args = parser.parse_args(argv)
    if args.list:
        for b in BENCHES:
            print(f"{b.name:9} {b.module:28} {b.about}")
        return 0
    chosen = [b for b in BENCHES if not args.only or b.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown bench: {', '.join(sorted(unknown))} (see --list)")
    doc = report.DOC if args.scale == "full" else SMALL_DOC
    if doc == SMALL_DOC and not doc.exists():
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(report.refresh_index(report.HEADER + "\n"), encoding="utf-8")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    outcome = []
    for bench in chosen:
        ok, seconds = run(bench, args.scale, doc)
        outcome.append((bench.name, ok, seconds))
    print("\n[bench] summary", file=sys.stderr)
    for name, ok, seconds in outcome:
        status = "ok" if ok else "FAILED"
        print(f"[bench]   {name:9} {status:6} {seconds:7.0f} s", file=sys.stderr)
    print(f"[bench] figures in {doc.relative_to(ROOT)}", file=sys.stderr)
    return 0 if all(ok for _, ok, _ in outcome) else 1


if __name__ == "__main__":
    sys.exit(main())
