"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from flask import Flask

from gis_app import clock, codes
from layers import palette


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = clock.fmt_local
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
    )
