"""The public page's database scope: whoever asks (logged in or not), the query runs as the
`public_page` pseudo-role, which row-level security lets read the published coverage and
nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g

from gis_app.core.database import DbScope
from gis_app.http.auth import scope_for
from gis_app.http.database import get_db

PUBLIC_PAGE = "public_page"


@contextmanager
def as_public() -> Iterator[None]:
    """Run the block in the public page's scope, then act as the request's actor again."""
    db = get_db()
    db.use_scope(DbScope(PUBLIC_PAGE, db_role=db.set_role))
    try:
        yield
    finally:
        db.use_scope(scope_for(g.get("actor")))
