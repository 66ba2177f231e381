"""Patrols (巡查): an area, the sites to visit in it by priority, a route over them, the
findings recorded on the way, and the coverage of each street."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.patrol import web
    from gis_app.http import openapi_legacy

    app.register_blueprint(web.bp)
    openapi_legacy.add_paths(app, web.openapi_paths)
