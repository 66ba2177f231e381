"""The baseline (总体目标): the streets' lists, the office's review, the frozen district ledger
(全区台帐), and the additions registered after it (新发现 on patrol, late registrations)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.baseline import api

    app.register_blueprint(api.bp)
