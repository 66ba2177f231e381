"""Screenshots of the map pages for the README, taken in headless Chromium with no internet.

    python -m bench.screenshots [--street 120102002]

Uses the app's database (DATABASE_URL or the project-local one) with the demo district in it
(`make run` loads it), and writes docs/screenshots/*.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.browser import chromium, offline_context, serve

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
# a function: Playwright would poll an expression with eval, which the pages' CSP forbids
DRAWN = "() => window.gisSites && window.gisSites.stats.firstDrawnAt !== null"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screenshots", description=__doc__)
    parser.add_argument("--street", default="120102002", help="street code of the street map")
    parser.add_argument("--frozen-now", default="", help="freeze the clock (as GIS_APP_FROZEN_NOW)")
    args = parser.parse_args(argv)
    from bench.browser import auth_headers, bench_app, bench_token
    from gis_app.localdb import resolve_url

    url = resolve_url()
    app = bench_app(url, FROZEN_NOW=args.frozen_now)
    login = auth_headers(bench_token(url))  # a district officer's token: every site
    pages = [
        ("district-map.png", "/map", {"width": 1400, "height": 860}),
        ("street-map.png", f"/map/street/{args.street}", {"width": 1400, "height": 860}),
        (
            "street-map-print.png",
            f"/map/street/{args.street}/print",
            {"width": 1180, "height": 820},
        ),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with chromium() as browser, serve(app.wsgi_app) as base:
        for name, path, viewport in pages:
            context = offline_context(browser, blocked, viewport=viewport, locale="zh-CN")
            context.set_extra_http_headers(login)
            page = context.new_page()
            response = page.goto(base + path)
            if response is None or response.status != 200:
                print(f"错误：{path} 返回 {response and response.status}", file=sys.stderr)
                return 1
            page.wait_for_function(DRAWN, timeout=30_000)
            drawn = page.evaluate("window.gisSites.stats.drawn")
            if not drawn:
                print("错误：地图上没有点位；请先运行 `gis-app load-demo`", file=sys.stderr)
                return 1
            page.screenshot(path=str(OUT / name))
            print(f"{OUT.relative_to(ROOT) / name}: {path}, {drawn} sites", file=sys.stderr)
            context.close()
    if blocked:
        print(f"错误：页面请求了外部地址：{blocked[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
