"""The to-do list (待办) of every role: what awaits the logged-in user now, each item a link;
shown on the home page and counted in the navigation, and sent as a daily digest."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.todo import pages

    app.register_blueprint(pages.bp)
    pages.init_app(app)
