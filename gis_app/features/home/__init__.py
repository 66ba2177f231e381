"""The home page after login, the entry of the JSON API, its OpenAPI document and its
readable description."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.home import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
