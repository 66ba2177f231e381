"""Acting as the app's database role inside a test's transaction (row-level security)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from gis_app.core.db_security import app_role


@contextmanager
def as_app(connection, role: str = "", street: str = "", user: str = "") -> Iterator[None]:
    """Run as the app's database role with these settings, in a savepoint undone after."""
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql(f'SET LOCAL ROLE "{app_role()}"')
        connection.execute(
            text(
                "SELECT set_config('app.role', :r, true), set_config('app.street', :s, true),"
                " set_config('app.user', :u, true)"
            ),
            {"r": role, "s": street, "u": user},
        )
        yield
    finally:
        savepoint.rollback()
