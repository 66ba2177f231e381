"""Attach the accounts feature's pages: user management and the audit trail."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from gis_app.actor import ROLES
    from gis_app.web import admin, audit_pages

    app.register_blueprint(admin.bp)
    app.register_blueprint(audit_pages.bp)
    app.jinja_env.globals.update(role_labels=ROLES, street_name=street_name)


def street_name(code: str | None) -> str:
    """A street's name for page chrome (its code when unknown)."""
    from sqlalchemy import select

    from gis_app.db import session
    from gis_app.models import Street

    if not code:
        return ""
    return session().scalar(select(Street.name).where(Street.code == code)) or code
