"""Step plans (分步治理方案): a site's steps, each with a due date and, once done, its evidence."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.plans import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
