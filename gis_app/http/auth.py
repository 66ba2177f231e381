"""Authentication for every request: server-side sessions for people, bearer tokens for
machines, then the access policy of the endpoint and the CSRF check.

Order of a request:
1. `DbSessionInterface.open_session` reads the session cookie (a random value; the accounts
   feature keeps its SHA-256) in the database's `auth` scope.
2. `authenticate` (the first before_request): an `Authorization: Bearer` token, or HTTP
   Basic with an account's name and one of its API tokens as the password (for desktop
   GIS clients; reads only), else the session, gives the Actor; the database scope
   becomes that actor (app.role, app.street, app.user, so row-level security and the
   audit trail see who acts); the endpoint's declared policy admits the role or the
   request ends (401 / redirect to the login page, 403); read-only roles may not use
   unsafe methods; a cookie-authenticated unsafe request must carry the session's CSRF
   token (form field `csrf_token` or header `X-CSRF-Token`).
3. After the view: session data (flash messages) is saved.

Who the cookie or token belongs to is the accounts feature's business: it hands an
`Identities` to `init_app`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, Request, Response, current_app, g, redirect, request, url_for
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from gis_app.core.actor import ROLES, Actor
from gis_app.core.database import DbScope, may_have_written
from gis_app.core.errors import AppError, Forbidden, Unauthorized
from gis_app.http.access import READ_ONLY_ROLES, policy_of
from gis_app.http.database import get_db
from gis_app.http.errors import wants_json
from gis_app.http.security import SAFE_METHODS, check_csrf

COOKIE = "gis_session"


class Identities(Protocol):
    """Where sessions and tokens are looked up (the accounts feature)."""

    def find_session(self, session: Session, cookie: str, config: Mapping[str, Any]) -> Any: ...

    def save_session_data(self, session: Session, id_hash: str, data: dict[str, Any]) -> None: ...

    def find_token_user(self, session: Session, secret: str) -> Any: ...

    def actor_of(self, user: Any) -> Actor: ...


def identities() -> Identities:
    return current_app.extensions["identities"]


# ---------------------------------------------------------------- database scopes


def scope_for(actor: Actor | None) -> DbScope:
    db_role = get_db().set_role
    if actor is None:
        return DbScope(db_role=db_role)
    return DbScope(actor.role, actor.street_code or "", actor.name, db_role)


@contextmanager
def auth_scope(commit_reads: bool = True) -> Iterator[Any]:
    """Run account look-ups and writes in the database's `auth` scope and commit them (a
    refused login's record too: the refusal is re-raised after), then act as the request's
    actor again (`g.actor`: the caller sets it once it is known, or inside the block).

    `commit_reads=False` (the look-up of every request's session or token): when the block
    began the transaction and wrote nothing, it is not committed but goes on in the actor's
    scope, so that a request is one transaction on one connection (a map tile's whole work
    is a few milliseconds: a second check-out, ping, BEGIN and COMMIT were a third of it)."""
    db = get_db()
    session = db.session()
    began = not session.in_transaction()
    db.use_scope(DbScope("auth", db_role=db.set_role))
    try:
        yield session
    except AppError:
        _commit_or_roll_back(session)
        raise
    except BaseException:
        session.rollback()
        raise
    else:
        if commit_reads or not began or may_have_written(session):
            _commit_or_roll_back(session)
    finally:
        db.use_scope(scope_for(g.get("actor")))


def _commit_or_roll_back(session: Any) -> None:
    """Commit; a commit that fails (the database went away) is rolled back so that the
    session can take the actor's scope again and the failure itself reaches the error
    handler (503), not a session left half-committed (500)."""
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise


# ---------------------------------------------------------------- server-side sessions


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """Flask's `session` kept in PostgreSQL; the cookie holds only a random value."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        cookie: str | None = None,
        active: Any = None,
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
    def user(self) -> Any:
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
        with auth_scope(commit_reads=False) as session:
            active = identities().find_session(session, cookie, app.config)
        return ServerSession(dict(active.data) if active else {}, cookie, active)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        secure = bool(app.config["SESSION_COOKIE_SECURE"])
        if session.ended or (session.cookie and session.active is None and not session.new_cookie):
            response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
        if session.new_cookie:
            response.set_cookie(
                COOKIE, session.new_cookie, path="/", secure=secure, httponly=True, samesite="Lax"
            )
        if session.active is not None and session.modified and not session.ended:
            with auth_scope() as db_session:
                identities().save_session_data(db_session, session.active.id_hash, dict(session))
        response.vary.add("Cookie")


# ---------------------------------------------------------------- every request


def _client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


@dataclass(frozen=True)
class Credentials:
    """What an `Authorization` header carries: a bearer token, or HTTP Basic with the
    account's name and one of its API tokens as the password (what QGIS, ArcGIS Pro and
    other desktop clients can send from their dialogs)."""

    scheme: str  # "bearer" or "basic"
    secret: str
    username: str | None = None


BAD_BASIC = "Authorization 头的 Basic 凭据无法解析：应为 base64 编码的“账户名:接口令牌”"


def _credentials() -> Credentials | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    kind, _, value = header.strip().partition(" ")
    kind, value = kind.lower(), value.strip()
    if kind == "bearer" and value:
        return Credentials("bearer", value)
    if kind == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized(BAD_BASIC, "Authorization") from None
        username, colon, secret = decoded.partition(":")
        if not colon or not username.strip() or not secret:
            raise Unauthorized(BAD_BASIC, "Authorization")
        return Credentials("basic", secret, username.strip())
    raise Unauthorized(
        "Authorization 头须为 Bearer <令牌>，或 Basic（账户名和接口令牌）", "Authorization"
    )


def _identify() -> tuple[Actor | None, str | None, Any]:
    credentials = _credentials()
    if credentials is not None:
        with auth_scope(commit_reads=False) as session:
            user = identities().find_token_user(session, credentials.secret)
            if credentials.scheme == "basic":
                # the name must be the token's own account: a token never acts for another
                if user is None or user.username != credentials.username:
                    raise Unauthorized(
                        "账户名或接口令牌无效（令牌可能已过期或已吊销）", "Authorization"
                    )
            elif user is None:
                raise Unauthorized("接口令牌无效、已过期或已吊销", "Authorization")
            # known now: the block ends in the actor's scope (no scope in between)
            g.actor = identities().actor_of(user)
        return g.actor, "basic" if credentials.scheme == "basic" else "token", user
    from flask import session as web_session

    user = getattr(web_session, "user", None)
    if user is None:
        return None, None, None
    return identities().actor_of(user), "session", user


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
        if wants_json():
            raise Unauthorized(
                "请先登录或提供接口令牌（Authorization: Bearer …，或 Basic：账户名和令牌）", None
            )
        return _login_redirect()
    if not policy.admits(actor.role):
        raise Forbidden(f"无权访问（当前身份：{ROLES.get(actor.role, actor.role)}）", "role")
    if request.method not in SAFE_METHODS:
        if actor.role in READ_ONLY_ROLES:
            raise Forbidden(f"只读账户不能修改数据（{ROLES[actor.role]}）", "role")
        if via == "session":
            check_csrf()
        elif via == "basic":
            # a browser that was once given Basic credentials sends them with any request,
            # a forged cross-site one too: Basic reads only, changes need a bearer token
            raise Forbidden(
                "Basic 认证只能读取数据；修改请用 Authorization: Bearer <令牌>", "Authorization"
            )
    return None


def init_app(app: Flask, identities: Identities) -> None:
    app.extensions["identities"] = identities
    app.session_interface = DbSessionInterface()
    app.before_request(authenticate)
    app.jinja_env.globals.update(current_user=current_user)


def current_user() -> Any:
    return g.get("user")
