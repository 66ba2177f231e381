"""The test database's committed state, and the app served live on 127.0.0.1 for tests that
need real commits (browsers, concurrent clients)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text

FROZEN_NOW = "2026-06-15T10:00:00+08:00"


# what stays committed in the test database between tests: the district and its 12 streets
KEEP_TABLES = ("districts", "streets", "spatial_ref_sys", "alembic_version")


def clear_ledger(engine: Engine) -> None:
    """Delete every committed row but the district and its streets (after live-server tests).

    A transaction the app left open would block this for ever: fail after 30 s instead."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        tables = (
            conn.execute(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = 'public' AND NOT (tablename = ANY(:keep))"
                ),
                {"keep": list(KEEP_TABLES)},
            )
            .scalars()
            .all()
        )
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@contextmanager
def serve_app(
    database_url: str, engine: Engine, wrap: Callable[[Any], Any] | None = None
) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 in a thread (real commits); its URL while it runs.

    Every committed row but the streets is deleted when it stops.
    """
    from gis_app import create_app
    from gis_app.settings import app_database_url
    from tests.support.browser import serve

    # as in production: the app connects as its own database role (row-level security)
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "APP_DATABASE_URL": app_database_url(database_url),
            "TESTING": True,
            "FROZEN_NOW": FROZEN_NOW,
        }
    )
    if wrap is not None:
        app.wsgi_app = wrap(app.wsgi_app)
    try:
        with serve(app, threaded=True, quiet=True) as url:
            yield url
    finally:
        app.extensions["gis_db"].engine.dispose()
        clear_ledger(engine)
