"""The other bureaus' views: civil affairs (hardship), housing (renovation works), police
(obstruction) — each sees only the fields its task needs."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.bureaus import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
