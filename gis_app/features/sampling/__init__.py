"""Spot checks (抽查): reproducible samples of closed sites, spread over space and stratified by
street, assigned to inspectors; a failed check reopens the site."""

from __future__ import annotations

from flask import Blueprint, Flask


def register(app: Flask) -> None:
    """One parent blueprint `sampling` (its templates) holding the JSON API (`sampling.api.*`,
    under /api/v1) and the pages (`sampling.pages.*`, under /sampling)."""
    from gis_app.features.sampling import api, pages

    bp = Blueprint("sampling", __name__, template_folder="templates")
    bp.register_blueprint(api.bp)
    bp.register_blueprint(pages.bp)
    app.register_blueprint(bp)
