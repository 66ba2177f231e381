"""融媒体 coverage and the streets' 宣传 publicity work (plan 四(五), 六(三)): the media centre
records its reports linked to sites and streets, a public page lists the published ones; a
street records its publicity work, the office sees it per street and month."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.publicity import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
