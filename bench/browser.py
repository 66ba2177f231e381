"""Headless Debian Chromium for the benches and screenshots, with the internet blocked.

Every request that does not go to 127.0.0.1 is aborted and recorded, as on a district intranet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser (playwright's Browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def offline_context(browser: Any, blocked: list[str], **kwargs: Any) -> Any:
    """A fresh context (empty cache) where only 127.0.0.1 is reachable."""
    context = browser.new_context(**kwargs)

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", route)
    return context


@contextmanager
def serve(wsgi_app: Any) -> Iterator[str]:
    """Serve a WSGI app on a free port of 127.0.0.1 in a thread; yields its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _serve_forever(factory: str, kwargs: dict[str, Any], ready: Any) -> None:
    """Child process: build the WSGI app by `module:function(**kwargs)` and serve it."""
    import importlib

    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kw: Any) -> None:
            pass

    module, _, name = factory.partition(":")
    wsgi_app = getattr(importlib.import_module(module), name)(**kwargs)
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler)
    ready.put(server.server_port)
    server.serve_forever()


@contextmanager
def serve_in_process(factory: str, **kwargs: Any) -> Iterator[str]:
    """Serve `module:function(**kwargs)` (returning a WSGI app) from a process of its own, so
    that the server does not share an interpreter with the browser driver; yields its URL."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    process = ctx.Process(target=_serve_forever, args=(factory, kwargs, ready), daemon=True)
    process.start()
    try:
        port = ready.get(timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(timeout=10)


@contextmanager
def serve_gunicorn(
    factory: str, workers: int = 2, threads: int = 4, **kwargs: Any
) -> Iterator[str]:
    """Serve `module:function(**kwargs)` with gunicorn as `gis-app serve` does (2 worker
    processes of 4 threads): both cores run Python, where one process's threads share one.
    kwargs are literals (gunicorn reads the call with ast.literal_eval). Yields its URL; the
    server's log goes to a file, printed if it does not start."""
    import socket
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    call = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        args = [str(gunicorn), "--workers", str(workers), "--threads", str(threads)]
        args += ["--bind", f"127.0.0.1:{port}", "--timeout", "600", f"{factory}({call})"]
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError as exc:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        message = "gunicorn did not start:\n" + log.read()[-3000:]
                        raise RuntimeError(message) from exc
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


# ---------------------------------------------------------------- the app, logged in


def bench_app(url: str, **config: Any) -> Any:
    """The app on a bench database as it runs in production: connected as its own database
    role (row-level security applies), the owner's URL for migrations and commands."""
    from gis_app import create_app
    from gis_app.settings import app_database_url

    return create_app({"DATABASE_URL": url, "APP_DATABASE_URL": app_database_url(url), **config})


def bench_token(url: str, username: str = "bench.office") -> str:
    """A bearer token (valid one day) of a district officer on the bench database; the
    account is made on the first run. Benches send it as `Authorization: Bearer …`."""
    import secrets

    from sqlalchemy import select

    from gis_app import create_app
    from gis_app.core.actor import Actor
    from gis_app.core.database import DbScope
    from gis_app.features.accounts import service as accounts
    from gis_app.features.accounts.models import User
    from gis_app.http.database import get_db, session

    admin = Actor("bench", "district_admin")
    app = create_app({"DATABASE_URL": url, "DB_CONNECT_AS": "owner"})
    with app.app_context():
        get_db().use_scope(DbScope(admin.role, "", admin.name))
        s = session()
        if s.scalar(select(User.id).where(User.username == username)) is None:
            password = secrets.token_urlsafe(24)
            accounts.create_user(s, admin, username, "基准测试", "district_officer", None, password)
        _token, secret = accounts.create_token(s, admin, username, "bench", expires_days=1)
        s.commit()  # services only flush: outside a request nothing commits for them
    app.extensions["gis_db"].engine.dispose()
    return secret


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
