"""User management for the district administrator: accounts, roles, streets, passwords,
API tokens (shown once when issued)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from gis_app.core.actor import ROLES, STREET_ROLES
from gis_app.core.errors import AppError
from gis_app.features.accounts import service as accounts
from gis_app.features.streets import service as streets
from gis_app.http.access import allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
FLASH = "workflow"


def _min_length() -> int:
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


def _streets() -> list[tuple[str, str]]:
    return streets.street_choices(session())


def _render_users(error: AppError | None = None, form: dict[str, Any] | None = None) -> Any:
    page = render_template(
        "admin/users.html",
        users=accounts.list_users(session()),
        least_privileged_role=accounts.LEAST_PRIVILEGED_ROLE,
        roles=ROLES,
        street_roles=STREET_ROLES,
        streets=_streets(),
        error=error,
        form=form or {},
    )
    return page, (error.status if error else 200)


@bp.get("/users")
@allow("district_admin")
def users() -> Any:
    return _render_users()


@bp.post("/users")
@allow("district_admin")
def create_user() -> Any:
    form = request.form
    try:
        user = accounts.create_user(
            session(),
            current_actor(),
            form.get("username", ""),
            form.get("display_name", ""),
            form.get("role", ""),
            form.get("street_code") or None,
            form.get("password", ""),
            _min_length(),
        )
    except AppError as exc:
        discard()
        return _render_users(exc, dict(form))
    flash(f"已建立账户 {user.username}", FLASH)
    return redirect(url_for("admin.user", username=user.username))


def _render_user(username: str, error: AppError | None = None, secret: str | None = None) -> Any:
    user = accounts.get_user(session(), username)
    page = render_template(
        "admin/user.html",
        user=user,
        tokens=accounts.user_tokens(session(), user.id),
        roles=ROLES,
        street_roles=STREET_ROLES,
        streets=_streets(),
        error=error,
        secret=secret,
    )
    return page, (error.status if error else 200)


@bp.get("/users/<username>")
@allow("district_admin")
def user(username: str) -> Any:
    return _render_user(username)


@bp.post("/users/<username>")
@allow("district_admin")
def update_user(username: str) -> Any:
    form = request.form
    try:
        accounts.update_user(
            session(),
            current_actor(),
            username,
            form.get("display_name", ""),
            form.get("role", ""),
            form.get("street_code") or None,
            form.get("active") == "1",
        )
    except AppError as exc:
        discard()
        return _render_user(username, exc)
    flash("账户已保存", FLASH)
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/password")
@allow("district_admin")
def reset_password(username: str) -> Any:
    try:
        accounts.set_password(
            session(),
            current_actor(),
            username,
            request.form.get("password", ""),
            min_length=_min_length(),
        )
    except AppError as exc:
        discard()
        return _render_user(username, exc)
    flash("密码已重置，该用户已在所有设备上退出登录，其接口令牌已全部吊销", FLASH)
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/tokens")
@allow("district_admin")
def create_token(username: str) -> Any:
    raw_days = (request.form.get("expires_days") or "").strip()
    try:
        days = int(raw_days) if raw_days else None
        if days is not None and not 1 <= days <= 3650:
            raise ValueError
    except ValueError:
        from gis_app.core.errors import ValidationError

        return _render_user(username, ValidationError("有效期须为 1–3650 天", "expires_days"))
    try:
        _token, secret = accounts.create_token(
            session(), current_actor(), username, request.form.get("name", ""), days
        )
    except AppError as exc:
        discard()
        return _render_user(username, exc)
    return _render_user(username, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@allow("district_admin")
def revoke_token(token_id: int) -> Any:
    token = accounts.revoke_token(session(), current_actor(), token_id)
    username = accounts.username_of(session(), token.user_id)
    flash(f"令牌 {token.prefix}… 已吊销", FLASH)
    return redirect(url_for("admin.user", username=username))
