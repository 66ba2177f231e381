"""Extension requests (延期申请): a street asks for a new deadline with a reason and a new plan;
the district office approves or rejects; only an approval moves the current deadline."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.extensions import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
