"""一张图: the district map, the street maps, their printable versions, the site popups and the
vector tiles of the sites."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.maps import pages, tiles_api

    app.register_blueprint(pages.bp)
    app.register_blueprint(tiles_api.bp)
