"""Logging in and out, and changing one's own password (pages)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for

from gis_app.core.errors import AppError, TooManyAttempts, Unauthorized, ValidationError
from gis_app.features.accounts import service as accounts
from gis_app.features.streets import service as streets
from gis_app.http.access import ANY_USER, allow, public
from gis_app.http.actor import current_actor
from gis_app.http.auth import auth_scope
from gis_app.http.database import discard
from gis_app.http.database import session as db_session
from gis_app.http.forms import local_path
from gis_app.http.security import LOGIN_CSRF_COOKIE, check_csrf

bp = Blueprint("auth", __name__, template_folder="templates")


def _client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


def _local_target(raw: str | None) -> str:
    return local_path(raw, url_for("pages.home"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    from flask import session as web_session

    if request.method != "POST":
        if g.get("actor") is not None:
            return redirect(_local_target(request.args.get("next")))
        return render_template("auth/login.html", error=None, username="")
    username = request.form.get("username", "")
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE))
    # where to go, read before the login is recorded (a bad `next` only falls back to home)
    target = _local_target(request.form.get("next") or request.args.get("next"))
    try:
        with auth_scope() as session:
            opened = accounts.login(
                session,
                username,
                request.form.get("password", ""),
                _client_ip(),
                request.headers.get("User-Agent", ""),
                accounts.LoginPolicy.from_config(current_app.config),
                accounts.SessionPolicy.from_config(current_app.config),
            )
    except (ValidationError, Unauthorized, TooManyAttempts) as exc:
        response = Response(
            render_template("auth/login.html", error=exc, username=username[:64]),
            status=exc.status,
            mimetype="text/html",
        )
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.details.get("retry_after", 900))
        return response
    web_session.new_cookie = opened.cookie  # type: ignore[attr-defined]
    return redirect(target)


@bp.post("/logout")
@allow(ANY_USER)
def logout() -> Any:
    from flask import session as web_session

    cookie = getattr(web_session, "cookie", None)
    if cookie:
        with auth_scope() as session:
            accounts.logout(session, cookie)
    web_session.ended = True  # type: ignore[attr-defined]
    return redirect(url_for("auth.login", bye=1))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(ANY_USER)
def change_password() -> Any:
    error: AppError | None = None
    if request.method == "POST":
        new = request.form.get("new_password", "")
        try:
            if new != request.form.get("new_password2", ""):
                raise ValidationError("两次输入的新密码不一致", "new_password2")
            # a wrong current password counts as a failed login (and is refused past the limit)
            with auth_scope() as auth_session:
                accounts.check_current_password(
                    auth_session,
                    current_actor().name,
                    request.form.get("current_password", ""),
                    _client_ip(),
                    accounts.LoginPolicy.from_config(current_app.config),
                )
            accounts.set_password(
                db_session(),
                current_actor(),
                current_actor().name,
                new,
                request.form.get("current_password", ""),
                int(current_app.config["PASSWORD_MIN_LENGTH"]),
            )
        except AppError as exc:
            discard()
            error = exc
        else:
            from flask import session as web_session

            with auth_scope() as session:  # every session of the user ends, this one too
                accounts.end_user_sessions(session, current_actor().user_id or 0)
            web_session.ended = True  # type: ignore[attr-defined]
            return redirect(url_for("auth.login", changed=1))
    status = error.status if error else 200
    return render_template("auth/password.html", error=error), status


def street_name(code: str | None) -> str:
    """A street's name for page chrome (its code when unknown)."""
    return streets.street_name(db_session(), code)
