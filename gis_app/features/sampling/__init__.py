"""Spot checks (抽查): reproducible samples of closed sites, spread over space and stratified by
street, assigned to inspectors; a failed check reopens the site."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.sampling import web
    from gis_app.http import openapi_legacy

    app.register_blueprint(web.bp)
    openapi_legacy.add_paths(app, web.openapi_paths)
