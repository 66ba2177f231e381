"""Reporting: monthly progress reports (月报), statistics and the ranking of streets, the
dashboard, the .xlsx summaries and the daily reminder run."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.reporting import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
