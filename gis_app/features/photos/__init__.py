"""Photos: before / after / inspection photos of a site, checked to be images, stored once by
content hash, with their EXIF time and position kept as evidence."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.photos import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
