"""A live app on committed demo data, and headless Chromium with the internet blocked.

The server runs in a thread (werkzeug) on a free port of 127.0.0.1 against the test database,
as the app's own database role (row-level security applies). Its demo data and its users are
committed (a browser cannot share a test's transaction) and removed again after the module:
the other tests expect no committed sites, only the 12 demo streets.

Every test logs in through the real login page (`log_in`); a tab fails on any console error
or warning, any Content-Security-Policy violation, any failed or outside request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.browser import OFFICE, Tab
from tests.support.live import serve_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_SITES = 600
DEMO_DAY = date(2026, 6, 15)


@dataclass
class LiveServer:
    url: str
    engine: Any

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()


@pytest.fixture(scope="module")
def live_server(database_url: str, engine, demo_streets) -> Iterator[LiveServer]:
    from gis_app.demo.loader import load_demo
    from tests.support.accounts import Accounts

    with Session(engine) as s, s.begin():
        load_demo(s, n_sites=DEMO_SITES, seed=7, today=DEMO_DAY)
    with serve_app(database_url, engine) as url:
        with engine.begin() as conn:
            Accounts(conn).user(OFFICE, "district_officer", display_name="区办（浏览器）")
        yield LiveServer(url, engine)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def tab(chromium) -> Iterator[Tab]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    found = Tab(page)

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            found.errors.append(f"outside request blocked: {url}")
            route.abort()

    context.route("**/*", route)
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')"
        " + ' at ' + e.sourceFile + ':' + e.lineNumber));"
    )

    def console(message: Any) -> None:
        # the tests' own pixel reads (getImageData) make Chromium suggest willReadFrequently
        if message.type in ("error", "warning") and "willReadFrequently" not in message.text:
            found.errors.append(f"console {message.type}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: found.errors.append(f"page error: {e}"))

    def failed(request: Any) -> None:
        # the browser cancels what is still loading when the page navigates away (a favicon,
        # typically): net::ERR_ABORTED is that, not a failure of the app
        if request.failure != "net::ERR_ABORTED":
            found.errors.append(f"request failed: {request.url} ({request.failure})")

    page.on("requestfailed", failed)
    page.on(
        "response",
        lambda r: found.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    yield found
    context.close()
