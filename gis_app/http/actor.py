"""The acting user of a request, as services see it: set by `gis_app.http.auth.authenticate`
from the logged-in user's session or the bearer token; there is no other way in."""

from __future__ import annotations

from flask import g

from gis_app.core.actor import Actor
from gis_app.core.errors import Unauthorized


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized("请先登录", None)
    return actor


def page_actor() -> Actor | None:
    """The actor for page chrome (nav): None on the login page and error pages before login."""
    return g.get("actor")
