"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, g

from gis_app.core import clock, codes
from gis_app.http.access import policy_of
from gis_app.http.actor import page_actor
from layers import palette


def may_open(endpoint: str) -> bool:
    """Whether the logged-in user's role may call `endpoint` (its declared policy): the nav
    shows only the links that lead somewhere for that role."""
    actor = g.get("actor")
    policy = policy_of(current_app, endpoint)
    return actor is not None and policy is not None and policy.admits(actor.role)


def iso_local(value: str | None) -> str:
    """An ISO time (as the API documents carry it), shown in Asia/Shanghai."""
    return clock.fmt_local(datetime.fromisoformat(value)) if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = clock.fmt_local
    app.jinja_env.filters["iso_local"] = iso_local
    app.jinja_env.filters["status_label"] = lambda c: codes.label(codes.STATUSES, c)
    app.jinja_env.filters["disposition_label"] = lambda c: codes.label(codes.DISPOSITIONS, c)
    app.jinja_env.filters["kind_label"] = lambda c: codes.label(codes.KINDS, c)
    app.jinja_env.filters["source_label"] = lambda c: codes.label(codes.SOURCES, c)
    app.jinja_env.globals.update(
        codes=codes,
        palette=palette.palette,
        legend=palette.legend,
        status_style=palette.status_style,
        district_name=app.config["DISTRICT_NAME"],
        today=clock.today,
        may_open=may_open,
        current_actor=page_actor,
    )
