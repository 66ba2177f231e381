"""The acting user of a request.

Until accounts exist, the name, role and street come from the X-Actor, X-Role and X-Street
headers; without them, in dev mode (config DEV_IDENTITY), from the "当前身份" selector kept in
the signed session cookie, so that the whole workflow can be walked through in a browser as a
street officer, the district office or a bureau. Default: a district officer. Accounts replace
this module (this function, the selector blueprint and its template) in one place.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, request, session, url_for

from gis_app.actor import ROLES, STREET_ROLES, Actor
from gis_app.errors import ValidationError

MAX_ACTOR = 64
DEFAULT_PAGE_NAME = "网页用户"
bp = Blueprint("identity", __name__)


def _printable(raw: str) -> str:
    return "".join(ch for ch in raw.strip() if ch.isprintable())[:MAX_ACTOR]


def current_actor() -> Actor:
    if request.headers.get("X-Actor") or request.headers.get("X-Role"):
        name = _printable(request.headers.get("X-Actor") or "") or "api"
        role = (request.headers.get("X-Role") or "district_officer").strip()
        if role not in ROLES:
            raise ValidationError(f"未知角色：{role}", "X-Role")
        street = (request.headers.get("X-Street") or "").strip() or None
        return Actor(name, role, street)
    chosen = session.get("identity") if current_app.config.get("DEV_IDENTITY") else None
    if isinstance(chosen, dict) and chosen.get("role") in ROLES:
        return Actor(chosen.get("name") or DEFAULT_PAGE_NAME, chosen["role"], chosen.get("street"))
    default_name = "api" if request.path.startswith("/api/") else DEFAULT_PAGE_NAME
    return Actor(default_name, "district_officer", None)


def page_actor() -> Actor:
    """The actor for page chrome (nav, selector): never fails, even on an error page."""
    try:
        return current_actor()
    except ValidationError:
        return Actor(DEFAULT_PAGE_NAME, "district_officer", None)


def identity_choices() -> dict[str, Any]:
    """What the selector offers (the streets come from the database; none if it is down)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from gis_app.db import session as db_session
    from gis_app.models import Street

    try:
        streets = db_session().execute(select(Street.code, Street.name).order_by(Street.code)).all()
    except SQLAlchemyError:
        db_session().rollback()
        streets = []
    return {
        "enabled": bool(current_app.config.get("DEV_IDENTITY")),
        "actor": page_actor(),
        "roles": ROLES,
        "street_roles": STREET_ROLES,
        "streets": [{"code": c, "name": n} for c, n in streets],
    }


def _local_target(raw: str | None) -> str:
    target = raw or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@bp.post("/identity")
def choose_identity() -> Response:
    """Switch the dev identity (role, street, name) kept in the session cookie."""
    if not current_app.config.get("DEV_IDENTITY"):
        raise ValidationError("身份切换仅在开发演示模式下可用", "role")
    role = (request.form.get("role") or "").strip()
    if role not in ROLES:
        raise ValidationError(f"未知角色：{role!r}", "role")
    street = (request.form.get("street") or "").strip() or None
    if role in STREET_ROLES and not street:
        raise ValidationError("街道用户须选择所属街道", "street")
    if role not in STREET_ROLES:
        street = None
    name = _printable(request.form.get("name") or "") or f"{ROLES[role]}（演示）"
    session["identity"] = {"role": role, "street": street, "name": name}
    return redirect(_local_target(request.form.get("next")))  # type: ignore[return-value]
