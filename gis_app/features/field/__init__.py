"""Field work without signal: the field pages as an installable web app (manifest, icons, a
service worker serving the app's own files and the pages taken along), and the phone's
offline queue that sends the acts recorded without signal once it is back (static/js)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.field import pages

    app.register_blueprint(pages.bp)
    app.jinja_env.globals.update(field_version=pages.version, offline_basemap=pages.offline_basemap)
