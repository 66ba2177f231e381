"""The leading group's levers (领导小组办公室): 通报 of streets that do poorly, with the figures
frozen at issue time and the streets' rectification measures (整改措施) in reply; 专项督查
with their findings, the corrections required and the streets' answers."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.oversight import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    pages.init_app(app)
