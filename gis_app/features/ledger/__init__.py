"""The ledger (台帐): sites (点位) with their fields, history and street scope; the JSON API
of streets and sites, the ledger import, and a site's page."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.core import deadlines
    from gis_app.features.ledger import api, form_pages, import_pages, list_pages, pages

    deadlines.configure(int(app.config.get("REGISTRATION_DAYS", 3)))
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(import_pages.bp)
    app.register_blueprint(form_pages.bp)
    app.register_blueprint(list_pages.bp)
    app.jinja_env.globals.update(site_timeline=pages.site_timeline, staff_name=pages.staff_name)
