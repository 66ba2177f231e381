"""Accounts: users and roles, logins, server-side sessions and API tokens; the pages to log
in, change one's password and (district administrator) manage users."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Authentication first: every request is authenticated before any other hook."""
    from gis_app.core.actor import ROLES
    from gis_app.features.accounts import admin_pages, pages, service
    from gis_app.http import auth

    auth.init_app(app, service.IDENTITIES)
    app.register_blueprint(pages.bp)
    app.register_blueprint(admin_pages.bp)
    app.jinja_env.globals.update(role_labels=ROLES, street_name=pages.street_name)
