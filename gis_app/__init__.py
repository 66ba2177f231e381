"""违建治理一张图: a Flask + PostGIS application for a district's illegal-construction ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: configuration, database, blueprints, error handlers."""
    from flask import Flask

    from gis_app import clock
    from gis_app.config import load_config
    from gis_app.db import Database
    from gis_app.localdb import PROJECT_ROOT

    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        static_url_path="/static",
        template_folder=str(Path(__file__).parent / "templates"),
    )
    app.config.update(load_config())
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    clock.freeze(app.config.get("FROZEN_NOW") or None)

    Database().init_app(app)

    from gis_app.web import (
        api,
        auth,
        errors,
        exports,
        maps,
        ogc,
        pages,
        site_pages,
        template_helpers,
        workflow_setup,
    )

    errors.init_app(app)
    auth.init_app(app)  # first: every request is authenticated before any other hook
    template_helpers.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    workflow_setup.init_app(app)
    app.register_blueprint(exports.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(maps.bp)
    app.register_blueprint(site_pages.bp)
    from gis_app.web import sampling  # spot checks: API and pages

    app.register_blueprint(sampling.bp)
    from gis_app.web import tiles  # vector tiles of the sites (city scale)

    app.register_blueprint(tiles.bp)
    from gis_app.web import patrol  # patrols: API and pages

    app.register_blueprint(patrol.bp)
    from gis_app.web import accounts_setup

    accounts_setup.init_app(app)
    return app
