"""Authentication for every request: server-side sessions for people, bearer tokens for
machines; the access policy of the endpoint; CSRF; security headers; login and logout.

Order of a request:
1. `DbSessionInterface.open_session` reads the session cookie (a random value; the table
   user_sessions holds its SHA-256) in the database's `auth` scope.
2. `authenticate` (the first before_request): an `Authorization: Bearer` token, else the
   session, gives the Actor; the database scope becomes that actor (app.role, app.street,
   app.user, so row-level security and the audit trail see who acts); the endpoint's declared
   policy admits the role or the request ends (401 / redirect to the login page, 403);
   read-only roles may not use unsafe methods; a cookie-authenticated unsafe request must
   carry the session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`).
3. After the view: session data (flash messages) is saved, security headers are added.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sessions import SessionInterface, SessionMixin
from markupsafe import Markup
from werkzeug.datastructures import CallbackDict

from gis_app.actor import ROLES, Actor
from gis_app.db import DbScope, get_db
from gis_app.errors import AppError, Forbidden, TooManyAttempts, Unauthorized, ValidationError
from gis_app.services import accounts
from gis_app.web.access import (
    ANY_USER,
    READ_ONLY_ROLES,
    allow,
    policy_of,
    public,
)

COOKIE = "gis_session"
LOGIN_CSRF_COOKIE = "gis_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bp = Blueprint("auth", __name__)

# tile hosts of the online basemaps, allowed as image sources when configured
BASEMAP_HOSTS = {
    "tianditu": "https://*.tianditu.gov.cn",
    "osm": "https://tile.openstreetmap.org",
}


# ---------------------------------------------------------------- database scopes


def scope_for(actor: Actor | None) -> DbScope:
    db_role = get_db().set_role
    if actor is None:
        return DbScope(db_role=db_role)
    return DbScope(actor.role, actor.street_code or "", actor.name, db_role)


@contextmanager
def auth_scope() -> Iterator[Any]:
    """Run account look-ups and writes in the `auth` scope, then act as nobody again
    (the caller sets the actor's scope once it is known)."""
    db = get_db()
    session = db.session()
    session.rollback()
    db.use_scope(DbScope("auth", db_role=db.set_role))
    try:
        yield session
    finally:
        session.rollback()
        db.use_scope(scope_for(g.get("actor")))


# ---------------------------------------------------------------- server-side sessions


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """Flask's `session` kept in PostgreSQL; the cookie holds only a random value."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        cookie: str | None = None,
        active: accounts.ActiveSession | None = None,
    ) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.cookie = cookie
        self.active = active
        self.modified = False
        self.new_cookie: str | None = None  # set by a login
        self.ended = False  # set by a logout

    @property
    def user(self) -> accounts.AuthUser | None:
        return self.active.user if self.active else None

    @property
    def csrf(self) -> str | None:
        return self.active.csrf_token if self.active else None


class DbSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        cookie = request.cookies.get(COOKIE)
        static = app.static_url_path or "/static"
        if not cookie or request.path.startswith(static + "/"):
            return ServerSession()
        policy = accounts.SessionPolicy.from_config(app.config)
        with auth_scope() as session:
            active = accounts.find_session(session, cookie, policy)
        return ServerSession(dict(active.data) if active else {}, cookie, active)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        secure = bool(app.config.get("SESSION_COOKIE_SECURE", True))
        if session.ended or (session.cookie and session.active is None and not session.new_cookie):
            response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
        if session.new_cookie:
            response.set_cookie(
                COOKIE, session.new_cookie, path="/", secure=secure, httponly=True, samesite="Lax"
            )
        if session.active is not None and session.modified and not session.ended:
            with auth_scope() as db_session:
                accounts.save_session_data(db_session, session.active.id_hash, dict(session))
        response.vary.add("Cookie")


# ---------------------------------------------------------------- every request


def _client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


def _bearer() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise Unauthorized("Authorization 头须为 Bearer <令牌>", "Authorization")
    return value.strip()


def _identify() -> tuple[Actor | None, str | None, accounts.AuthUser | None]:
    secret = _bearer()
    if secret is not None:
        with auth_scope() as session:
            user = accounts.find_token_user(session, secret)
        if user is None:
            raise Unauthorized("接口令牌无效、已过期或已吊销", "Authorization")
        return accounts.actor_of(user), "token", user
    from flask import session as web_session

    user = getattr(web_session, "user", None)
    if user is None:
        return None, None, None
    return accounts.actor_of(user), "session", user


def _wants_json() -> bool:
    from gis_app.web.errors import wants_json

    return wants_json()


def _login_redirect() -> Response:
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))  # type: ignore[return-value]


def authenticate() -> Response | None:
    """Who acts, whether the endpoint admits them, and the CSRF check."""
    g.actor = None
    g.user = None
    get_db().use_scope(scope_for(None))
    actor, via, user = _identify()
    g.actor, g.auth_via, g.user = actor, via, user
    get_db().use_scope(scope_for(actor))
    if request.endpoint is None:
        return None  # 404 / 405: the router answers
    policy = policy_of(current_app, request.endpoint)
    if policy is None:
        raise Forbidden("该功能尚未声明访问权限，默认拒绝", "endpoint")
    if policy.public:
        return None
    if actor is None:
        if _wants_json():
            raise Unauthorized("请先登录或提供接口令牌（Authorization: Bearer …）", None)
        return _login_redirect()
    if not policy.admits(actor.role):
        raise Forbidden(f"无权访问（当前身份：{ROLES.get(actor.role, actor.role)}）", "role")
    if request.method not in SAFE_METHODS:
        if actor.role in READ_ONLY_ROLES:
            raise Forbidden(f"只读账户不能修改数据（{ROLES[actor.role]}）", "role")
        if via == "session":
            check_csrf()
    return None


def check_csrf(expected: str | None = None) -> None:
    from flask import session as web_session

    expected = expected or getattr(web_session, "csrf", None)
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试", "csrf_token")


def csrf_token() -> str:
    """The token the forms carry: the session's, or before login the login form's cookie."""
    from flask import session as web_session

    token = getattr(web_session, "csrf", None)
    if token:
        return token
    if "login_csrf" not in g:
        g.login_csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    return g.login_csrf


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token())


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def security_headers(response: Response) -> Response:
    """CSP (scripts only from the app or with this response's nonce), no framing, no sniffing,
    no referrer outside the site; HSTS when the deployment says it is https-only."""
    img = ["'self'", "data:", "blob:"]
    host = BASEMAP_HOSTS.get(current_app.config.get("BASEMAP", "offline"))
    if host:
        img.append(host)
    policy = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        # inline style attributes (swatches, Leaflet's own positioning) need 'unsafe-inline';
        # styles cannot run code, scripts stay nonce-only
        "style-src 'self' 'unsafe-inline'",
        f"img-src {' '.join(img)}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    headers = response.headers
    headers.setdefault("Content-Security-Policy", "; ".join(policy))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.status_code == 401 and _wants_json():
        headers.setdefault("WWW-Authenticate", 'Bearer realm="gis-app"')
    if g.get("actor") is not None and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-store"
    if "login_csrf" in g and not request.cookies.get(LOGIN_CSRF_COOKIE):
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            g.login_csrf,
            path="/",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE", True)),
            httponly=True,
            samesite="Strict",
        )
    return response


def init_app(app: Flask) -> None:
    app.session_interface = DbSessionInterface()
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.before_request(authenticate)
    app.after_request(security_headers)
    app.jinja_env.globals.update(
        csrf_token=csrf_token, csrf_field=csrf_field, csp_nonce=csp_nonce, current_user=current_user
    )
    app.register_blueprint(bp)


def current_user() -> accounts.AuthUser | None:
    return g.get("user")


# ---------------------------------------------------------------- login, logout, password


def _local_target(raw: str | None) -> str:
    target = raw or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


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
    return redirect(_local_target(request.form.get("next") or request.args.get("next")))


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
    from gis_app.db import session as db_session
    from gis_app.web.actor import current_actor

    error: AppError | None = None
    if request.method == "POST":
        new = request.form.get("new_password", "")
        try:
            if new != request.form.get("new_password2", ""):
                raise ValidationError("两次输入的新密码不一致", "new_password2")
            accounts.set_password(
                db_session(),
                current_actor(),
                current_actor().name,
                new,
                request.form.get("current_password", ""),
                int(current_app.config.get("PASSWORD_MIN_LENGTH", 10)),
            )
        except AppError as exc:
            db_session().rollback()
            error = exc
        else:
            from flask import session as web_session

            with auth_scope() as session:  # every session of the user ends, this one too
                accounts.end_user_sessions(session, current_actor().user_id or 0)
            web_session.ended = True  # type: ignore[attr-defined]
            return redirect(url_for("auth.login", changed=1))
    status = error.status if error else 200
    return render_template("auth/password.html", error=error), status


def describe_security(doc: dict[str, Any]) -> None:
    """How to authenticate, in the OpenAPI document: a bearer token (machines) or the session
    cookie with the X-CSRF-Token header for unsafe methods (browsers); 401 and 429 on every
    operation."""
    doc["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "接口令牌（由区级管理员发放：gis-app tokens create 用户名 --name 用途）",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE,
            "description": "登录会话；修改数据的请求须带 X-CSRF-Token 头",
        },
    }
    doc["security"] = [{"bearer": []}, {"session": []}]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in doc["paths"].values():
        for op in item.values():
            op["responses"].setdefault("401", {"description": "未登录或令牌无效", "content": error})
            op["responses"].setdefault(
                "403", {"description": "角色无权访问（或只读账户）", "content": error}
            )
