"""Patrols (巡查): an area, the sites to visit in it by priority, a route over them, the
findings recorded on the way, and the coverage of each street."""

from __future__ import annotations

from flask import Blueprint, Flask


def register(app: Flask) -> None:
    """One blueprint "patrol" holding the JSON API ("patrol.api.*") and the pages
    ("patrol.pages.*"); the templates are the package's."""
    from gis_app.features.patrol import api, pages

    patrol = Blueprint("patrol", __name__, template_folder="templates")
    patrol.register_blueprint(api.bp)
    patrol.register_blueprint(pages.bp)
    app.register_blueprint(patrol)
