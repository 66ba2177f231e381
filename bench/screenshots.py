"""Screenshots of the map pages for the README, taken in headless Chromium with no internet.

    python -m bench.screenshots [--street 120102002]

Uses the app's database (DATABASE_URL or the project-local one) with the demo district in it
(`make run` loads it; the patrol pages plan a patrol of 大直沽 there), and writes
docs/screenshots/*.png. Chinese text needs a CJK font for Chromium: `apt-get install
fonts-noto-cjk` (the pages themselves do not: users' machines have one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

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
    from gis_app.core.localdb import resolve_url

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
            page = _open(browser, blocked, login, base + path, viewport)
            if page is None:
                return 1
            page.wait_for_function(DRAWN, timeout=30_000)
            drawn = page.evaluate("window.gisSites.stats.drawn")
            if not drawn:
                print("错误：地图上没有点位；请先运行 `gis-app load-demo`", file=sys.stderr)
                return 1
            page.screenshot(path=str(OUT / name))
            print(f"{OUT.relative_to(ROOT) / name}: {path}, {drawn} sites", file=sys.stderr)
            page.context.close()
        if patrol_pages(browser, base, login, blocked) != 0:
            return 1
    if blocked:
        print(f"错误：页面请求了外部地址：{blocked[:3]}", file=sys.stderr)
        return 1
    return 0


#: a patrol of 大直沽's open sites around its middle, as a street office would plan it
PATROL = {
    "title": "大直沽 日常巡查",
    "area": {"kind": "street", "street": "120102002"},
    "priorities": ["new", "overdue", "due_soon", "in_progress", "rebound_check"],
    "cap": 12,
}


def patrol_pages(browser: Any, base: str, login: dict[str, str], blocked: list[str]) -> int:
    """The patrol route page on a phone, and its printable sheet."""
    import json
    import urllib.request

    request = urllib.request.Request(
        base + "/api/v1/patrols",
        data=json.dumps(PATROL).encode(),
        headers={**login, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        patrol = json.load(answer)
    if not patrol.get("created"):
        print(f"错误：巡查计划未生成：{patrol.get('message')}", file=sys.stderr)
        return 1
    shots = [
        ("patrol-route-phone.png", f"/patrols/{patrol['id']}", {"width": 390, "height": 844}),
        ("patrol-sheet.png", f"/patrols/{patrol['id']}/sheet", {"width": 900, "height": 1100}),
    ]
    for name, path, viewport in shots:
        page = _open(browser, blocked, login, base + path, viewport)
        if page is None:
            return 1
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUT / name))
        stops = len(patrol["stops"])
        print(f"{OUT.relative_to(ROOT) / name}: {path}, {stops} stops", file=sys.stderr)
        page.context.close()
    return 0


def _open(
    browser: Any, blocked: list[str], login: dict[str, str], url: str, viewport: dict[str, int]
) -> Any:
    """The page at `url` in a fresh offline context (a phone's below 500 px), logged in;
    None (and the reason printed) unless it answered 200."""
    context = offline_context(
        browser, blocked, viewport=viewport, locale="zh-CN", is_mobile=viewport["width"] < 500
    )
    context.set_extra_http_headers(login)
    page = context.new_page()
    response = page.goto(url)
    if response is None or response.status != 200:
        print(f"错误：{url} 返回 {response and response.status}", file=sys.stderr)
        context.close()
        return None
    return page


if __name__ == "__main__":
    sys.exit(main())
