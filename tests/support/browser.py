"""Helpers of the browser tests: a tab that fails on console errors and outside requests, and
logging in through the real login page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: the committed users of the live server (password: tests.support.accounts.PASSWORD)
OFFICE = "browser.office"


@dataclass
class Tab:
    """A page in a fresh context; records console errors, failed and outside requests."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """What went wrong so far, Content-Security-Policy violations included (recorded by
        the page itself, on top of Chromium's console errors about them)."""
        found = list(self.errors)
        if not self.page.is_closed():
            for v in self.page.evaluate("() => window.__cspViolations || []"):
                found.append(f"CSP violation: {v}")
        return found


def log_in(tab: Tab, base_url: str, username: str) -> None:
    """Log in through the login page as a person does (its form and CSRF token)."""
    from tests.support.accounts import PASSWORD

    page = tab.page
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login" not in page.url, page.content()[:500]


def closing_bodies(app: Any) -> Any:
    """The app with each response body closed as soon as it is sent, or when the client went
    away. Werkzeug's server closes a body only after draining the socket, and a dropped
    connection (Chromium cancelling its favicon request) makes that drain raise first: the
    static file stayed open, its ResourceWarning came out of the server thread at garbage
    collection and, under `filterwarnings = error`, failed whichever test was running."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wrapped


@contextmanager
def serve(app: Any, threaded: bool = False, quiet: bool = False) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 in a thread; its URL while it runs. Single-threaded
    by default (it shares the test's transaction); `quiet`: no log line per request."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    handler = QuietHandler if quiet else None
    server = make_server(
        "127.0.0.1", 0, closing_bodies(app), threaded=threaded, request_handler=handler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
