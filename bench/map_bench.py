"""Map pages at district and city scale: build time, page weight, time until the sites are drawn.

    python -m bench.map_bench [--sizes 1500,5000,20000,100000] [--repeat 5]

For each size N the demo district is loaded with N sites into a bench database of its own
(`<app database>_bench_<N>`, never the app's or the tests'; kept, so that the next run reuses
it unless --reload), then, in the same run:

* ours:  GET /map of the app (compact site arrays drawn on a canvas, see layers/site_map.py);
* plain: a folium page with one folium.Marker (with a popup) per site, built from the same rows,
         with folium's CDN links replaced by the same local Leaflet files (no internet here) and
         a five-line stand-in for the jQuery `$(html)` its popups call.

Measured:
* build: wall time to produce the page (database query included), median of --repeat runs;
* weight: bytes of the HTML document (the part that grows with N; the static files are the
  same for both and cached), and for ours also the gzip-compressed bytes the app sends;
* drawn: milliseconds from navigation start until the sites are drawn, in headless Debian
  Chromium with every request outside 127.0.0.1 blocked, in a fresh context (empty cache).
  Ours: `stats.firstDrawnAt` that the site layer sets (performance.now()) at the end of its
  first complete canvas draw, which must hold all N sites. Plain: the first animation frame at
  which the document holds N `.leaflet-marker-icon` elements (polled every frame in the page).
  A plain page not drawn within --timeout seconds is reported as "> timeout".

The table is written into docs/operations/performance.md between the map_bench markers.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "operations" / "performance.md"
REFERENCE_DAY = date(2026, 6, 15)
SEED = 20210222
DEFAULT_SIZES = (1500, 5000, 20000, 100000)


def say(message: str) -> None:
    print(f"[map_bench] {message}", file=sys.stderr, flush=True)


def bench_url(n: int) -> str:
    """`<app database>_bench_<n>`: one per size, so that a second run reuses the loaded sites."""
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import dbname_of, ensure_database, resolve_url, with_dbname

    base = resolve_url()
    url = with_dbname(base, f"{dbname_of(base)}_bench_{n}")
    ensure_database(url)
    dbmod.upgrade(url)
    return url


def ensure_sites(url: str, n: int, reload: bool) -> None:
    """Load the demo district with n sites unless the bench database holds exactly them (as
    the owner of the tables, as `gis-app load-demo` does)."""
    from sqlalchemy import create_engine, func, select, text
    from sqlalchemy.orm import Session

    from gis_app.core.database import sqlalchemy_url
    from gis_app.demo.loader import DEMO_ACTOR, load_demo
    from gis_app.features.ledger.models import Site

    engine = create_engine(sqlalchemy_url(url))
    with Session(engine) as s:
        demo = s.scalar(select(func.count()).where(Site.created_by == DEMO_ACTOR))
        total = s.scalar(select(func.count()).select_from(Site))
        if not reload and demo == total == n:
            say(f"{n:,} demo sites already in the bench database (--reload to rebuild)")
            return
        t0 = time.perf_counter()
        load_demo(
            s, n_sites=n, seed=SEED, today=REFERENCE_DAY, replace=True, progress=lambda m: None
        )
        s.execute(text("ANALYZE sites"))
        s.commit()
        say(f"{n:,} sites loaded in {time.perf_counter() - t0:.1f} s")
    engine.dispose()


JQUERY_STANDIN = """<script>
window.$ = function (html) {
  var t = document.createElement('template');
  t.innerHTML = html.trim();
  return [t.content.firstChild];
};
</script>"""


def bench_wsgi(url: str, plain_file: str) -> Callable[..., Any]:
    """The app on the bench database, plus the plain page at /bench/plain (server process)."""
    from bench.browser import bench_app

    app = bench_app(url, FROZEN_NOW=REFERENCE_DAY.isoformat())
    plain = Path(plain_file).read_bytes()

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == "/bench/plain":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [plain]
        return app.wsgi_app(environ, start_response)

    return dispatch


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def plain_folium_page(session: Any, leaflet_js: str, leaflet_css: str) -> str:
    """The baseline: one folium Marker with a popup per site, as a plain folium page does it."""
    import folium
    from sqlalchemy import text

    rows = session.execute(
        text(
            "SELECT code, address, status, disposition, current_deadline, "
            "ST_X(geom), ST_Y(geom) FROM sites WHERE deleted_at IS NULL ORDER BY id"
        )
    ).all()
    m = folium.Map(location=[39.12, 117.25], zoom_start=13, tiles=None)
    m.default_js = [("leaflet", leaflet_js)]  # the same local Leaflet as ours: no CDN here
    m.default_css = [("leaflet_css", leaflet_css)]
    # folium's popups parse their HTML with jQuery's $(…), fetched from a CDN that cannot be
    # reached here; this stand-in does the same parsing with a <template> element
    m.get_root().header.add_child(folium.Element(JQUERY_STANDIN), name="jquery_standin")
    for code, address, status, disposition, deadline, lon, lat in rows:
        folium.Marker(
            [lat, lon],
            popup=folium.Popup(f"{code}<br>{address}<br>{status} {disposition} {deadline}"),
        ).add_to(m)
    return m.get_root().render()


def measure_size(
    n: int,
    repeat: int,
    timeout_s: float,
    browser: Any,
    plain_page: bool = True,
    reload: bool = False,
) -> dict[str, Any]:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from bench.browser import (
        auth_headers,
        bench_app,
        bench_token,
        offline_context,
        serve_in_process,
    )
    from gis_app.core import clock
    from gis_app.core.database import sqlalchemy_url

    url = bench_url(n)
    ensure_sites(url, n, reload)
    app = bench_app(url, FROZEN_NOW=REFERENCE_DAY.isoformat())
    clock.freeze(REFERENCE_DAY.isoformat())
    client = app.test_client()
    login = auth_headers(bench_token(url))  # a district officer: every site on the map

    def ours() -> Any:
        return client.get("/map", headers={**login, "Accept-Encoding": "gzip"})

    client.get("/map", headers=login)  # warm-up: imports, templates, connection pool
    ours_build, response = median_time(ours, repeat)
    assert response.status_code == 200, response.status_code
    sent = response.get_data()
    html = gzip.decompress(sent) if response.headers.get("Content-Encoding") == "gzip" else sent

    with app.test_request_context():
        from flask import url_for

        js = url_for("static", filename="vendor/leaflet/leaflet.js")
        css = url_for("static", filename="vendor/leaflet/leaflet.css")

        owner = create_engine(sqlalchemy_url(url))

        def plain() -> str:
            with Session(owner) as s, s.begin():
                return plain_folium_page(s, js, css)

        if plain_page:
            plain_runs = max(1, repeat // 2) if n <= 20000 else 1
            plain_build, plain_html = median_time(plain, plain_runs)
        else:
            plain_build, plain_html = None, ""
    plain_bytes = plain_html.encode()
    plain_file = Path(tempfile.mkdtemp(prefix="map_bench_")) / "plain.html"
    plain_file.write_bytes(plain_bytes)

    blocked: list[str] = []
    ours_drawn: list[float] = []
    plain_drawn: float | None = None
    with serve_in_process(
        "bench.map_bench:bench_wsgi", url=url, plain_file=str(plain_file)
    ) as base:
        warm = urllib.request.Request(base + "/map", headers=login)
        with urllib.request.urlopen(warm, timeout=300) as warm_up:
            warm_up.read()  # the server process's first request imports and connects
        for _ in range(repeat):
            context = offline_context(browser, blocked, viewport={"width": 1400, "height": 900})
            context.set_extra_http_headers(login)
            page = context.new_page()
            page.goto(base + "/map", wait_until="commit")
            handle = page.wait_for_function(
                """n => window.gisSites && window.gisSites.stats.firstDrawnAt !== null
                     && window.gisSites.stats.drawn === n && window.gisSites.stats.firstDrawnAt""",
                arg=n,
                timeout=60_000,
            )
            ours_drawn.append(float(handle.json_value()))
            say(f"  ours drawn at {ours_drawn[-1]:.0f} ms")
            context.close()
        context = offline_context(browser, blocked, viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(timeout_s * 1000)
        try:
            if not plain_page:
                raise LookupError("plain page skipped")
            page.goto(base + "/bench/plain", wait_until="commit", timeout=timeout_s * 1000)
            handle = page.wait_for_function(
                """n => document.querySelectorAll('.leaflet-marker-icon').length >= n
                     && performance.now()""",
                arg=n,
                polling="raf",
                timeout=timeout_s * 1000,
            )
            plain_drawn = float(handle.json_value())
        except Exception as exc:  # playwright's TimeoutError, or the tab giving up
            say(f"plain page at {n:,}: not drawn within {timeout_s:.0f} s ({type(exc).__name__})")
        finally:
            context.close()
    plain_file.unlink()
    plain_file.parent.rmdir()
    owner.dispose()
    if blocked:
        raise RuntimeError(f"pages asked for outside addresses: {sorted(set(blocked))[:5]}")
    app.extensions["gis_db"].engine.dispose()
    return {
        "n": n,
        "ours_build_ms": ours_build * 1000,
        "ours_html": len(html),
        "ours_sent": len(sent),
        "ours_drawn_ms": statistics.median(ours_drawn),
        "plain_build_ms": plain_build * 1000 if plain_build is not None else None,
        "plain_html": len(plain_bytes),
        "plain_drawn_ms": plain_drawn,
        "timeout_s": timeout_s,
    }


def _kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


def _ms(v: float | None, timeout_s: float) -> str:
    if v is None:
        return f"> {timeout_s:,.0f} s"
    return f"{v:,.0f} ms" if v < 10_000 else f"{v / 1000:,.1f} s"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not a:
        return "—"
    return f"{b / a:,.0f}×"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| sites | build: ours | build: plain | ratio | HTML: ours (gzip sent) | HTML: plain "
        "| ratio | drawn: ours | drawn: plain | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['n']:,} | {r['ours_build_ms']:,.0f} ms | {_ms(r['plain_build_ms'], 0)} "
            f"| {_ratio(r['ours_build_ms'], r['plain_build_ms'])} "
            f"| {_kb(r['ours_html'])} ({_kb(r['ours_sent'])}) | {_kb(r['plain_html'])} "
            f"| {_ratio(r['ours_html'], r['plain_html'])} "
            f"| {_ms(r['ours_drawn_ms'], r['timeout_s'])} "
            f"| {_ms(r['plain_drawn_ms'], r['timeout_s'])} "
            f"| {_ratio(r['ours_drawn_ms'], r['plain_drawn_ms'])} |"
        )
    return "\n".join(lines)


def write_doc(results: list[dict[str, Any]], command: str, load: str, doc: Path = DOC) -> None:
    import folium

    from bench import report

    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"folium {folium.__version__}, {_chromium_version()}"
    )
    body = "\n".join(
        [
            "## Map pages (`bench/map_bench.py`)",
            "",
            report.meta_line("Map pages", command, machine),
            f"Measured {date.today().isoformat()} on {machine}, with `{command}`. "
            "Ours is `/map` (compact site arrays on a canvas layer); plain is a folium page "
            "with one `folium.Marker` and popup per site built from the same rows in the same "
            "run. Build = time to produce the HTML, database query included (median); HTML = "
            "the document's bytes (static files are the same for both and cached; ours is also "
            "sent gzip-compressed, in brackets); drawn = ms from navigation start until every "
            "site is drawn in headless Chromium with the internet blocked (ours: end of the "
            "canvas layer's first draw; plain: first frame with N marker elements).",
            "",
            table(results),
            "",
            f"The machine is shared with other work (load average {load}), so single figures "
            "move from run to run; the ratios against the plain page measured in the same run "
            "are what to compare. Targets: district map with 5,000 sites built in under 0.3 s "
            "and under 1 MB; 100,000 sites drawn within 3 s.",
        ]
    )
    report.write_section("map_bench", body, doc)


def _chromium_version() -> str:
    import subprocess

    from bench.browser import CHROMIUM

    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "Chromium"
    except OSError:
        return "Chromium"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.map_bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in DEFAULT_SIZES),
        help="comma-separated site counts",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for the plain page")
    parser.add_argument("--no-write", action="store_true", help="print only, leave the doc")
    parser.add_argument("--reload", action="store_true", help="load the demo sites again")
    parser.add_argument("--doc", type=Path, default=DOC, help="document to write into")
    parser.add_argument(
        "--ours-only",
        action="store_true",
        help="skip the plain page (quick checks; implies --no-write)",
    )
    args = parser.parse_args(argv)
    sizes = [int(v.replace("_", "")) for v in args.sizes.split(",") if v.strip()]
    from bench.browser import chromium

    say(f"sizes {sizes}")
    load_before = os.getloadavg()[0]
    results = []
    with chromium() as browser:
        for n in sizes:
            say(f"--- {n:,} sites")
            r = measure_size(
                n,
                args.repeat,
                args.timeout,
                browser,
                plain_page=not args.ours_only,
                reload=args.reload,
            )
            say(
                f"ours {r['ours_build_ms']:.0f} ms {_kb(r['ours_html'])} "
                f"drawn {r['ours_drawn_ms']:.0f} ms | plain {_ms(r['plain_build_ms'], 0)} "
                f"{_kb(r['plain_html'])} drawn {_ms(r['plain_drawn_ms'], args.timeout)}"
            )
            results.append(r)
    print(table(results))
    if not (args.no_write or args.ours_only):
        given = argv if argv is not None else sys.argv[1:]
        load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        write_doc(results, ("python -m bench.map_bench " + " ".join(given)).strip(), load, args.doc)
        say(f"written to {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
