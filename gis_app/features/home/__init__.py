"""The home page after login and the readable API description."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.home import pages

    app.register_blueprint(pages.bp)
