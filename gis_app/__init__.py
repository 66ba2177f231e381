"""违建治理一张图: a Flask + PostGIS application for a district's illegal-construction ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: settings -> database -> http -> each feature's `register(app)`.

    The settings come from the environment (gis_app.settings), validated first: a bad value
    raises SettingsError naming it before anything is set up; `test_config` then overrides
    any key. Its imports are made here, not at the top: `python -m gis_app.core.localdb`
    imports this package to bring the database up before the app's dependencies are
    installed."""
    from flask import Flask

    from gis_app.core import clock
    from gis_app.core.localdb import PROJECT_ROOT
    from gis_app.features import FEATURES, feature
    from gis_app.http import errors, security, templating
    from gis_app.http.database import Database
    from gis_app.settings import load_settings

    settings = load_settings()
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        static_url_path="/static",
        template_folder=str(Path(__file__).parent / "templates"),
    )
    app.config.update(settings.flask_config())
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    clock.freeze(app.config["FROZEN_NOW"] or None)

    Database().init_app(app)
    errors.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    for name in FEATURES:  # accounts before the others: it authenticates every request
        register = getattr(feature(name), "register", None)
        if register is not None:
            register(app)
    return app
