"""The audit trail: every change as an append-only, hash-chained event (written by the
database's triggers), read and verified by the district office."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.audit import pages

    app.register_blueprint(pages.bp)
