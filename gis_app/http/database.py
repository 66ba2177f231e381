"""The database of a request (or CLI command): one session per app context, bound to the
acting user's scope (`gis_app.core.database.DbScope`), closed (rolled back if still open)
when the context ends."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gis_app.core.database import (
    NOBODY,
    SCOPE_KEY,
    DbScope,
    check_app_role,
    create_db_engine,
    session_factory,
    set_scope,
    sqlalchemy_url,
)

log = logging.getLogger(__name__)


class Database:
    """Holds the engine; `session()` gives the session of the current request or command.

    The web app connects with APP_DATABASE_URL (a role that owns no table and is subject to
    row-level security); commands connect with DATABASE_URL, the owner (config DB_CONNECT_AS).
    """

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory: sessionmaker[Session] = session_factory()
        self.set_role: str | None = None

    def init_app(self, app: Flask) -> None:
        as_owner = app.config["DB_CONNECT_AS"] == "owner"
        raw = app.config["DATABASE_URL" if as_owner else "APP_DATABASE_URL"]
        url = sqlalchemy_url(raw)
        if not url:
            raise RuntimeError(
                "没有配置数据库：请设置 DATABASE_URL（及 APP_DATABASE_URL），"
                "或先运行 `make run` 建立本地数据库。"
            )
        self.engine = create_db_engine(
            url,
            pool_size=int(app.config["DB_POOL_SIZE"]),
            max_overflow=int(app.config["DB_MAX_OVERFLOW"]),
            echo=bool(app.config["SQL_ECHO"]),
        )
        self.factory.configure(bind=self.engine)
        self.set_role = app.config["DB_SET_ROLE"] or None
        app.extensions["gis_db"] = self
        app.after_request(commit_request)
        app.teardown_appcontext(self._close)
        if not as_owner and app.config["DB_CHECK_ROLE"]:
            check_app_role(self.engine, self.set_role)

    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.factory(info={SCOPE_KEY: g.get(SCOPE_KEY, NOBODY)})
        return g.db_session

    def use_scope(self, scope: DbScope) -> None:
        """The scope of this request or command from now on (at once in an open transaction,
        else from the next one); nothing is sent when it is the session's scope already."""
        g.db_scope = scope
        if "db_session" in g and g.db_session.info.get(SCOPE_KEY) != scope:
            set_scope(g.db_session, scope)

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return
        try:
            session.close()  # rolls back whatever was not committed
        except Exception:  # the connection died (database restarted): nothing to roll back
            log.warning("closing a session failed", exc_info=True)
            with contextlib.suppress(Exception):
                session.invalidate()


def commit_request(response: Response) -> Response:
    """The one place a request's work is committed: when its answer is a success (below
    400); any other answer rolls it back. A commit the database refuses (a conflict found
    only then) becomes that error's answer instead."""
    session: Session | None = g.get("db_session")
    if session is None or not session.in_transaction():
        return response
    if response.status_code >= 400:
        session.rollback()
        return response
    try:
        session.commit()
    except Exception as exc:  # rendered by the app's error handlers
        session.rollback()
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


def discard() -> None:
    """Undo the request's work so far: a refused form action, before its page is shown again
    with the reason (the answer then has an error status, so nothing is committed after)."""
    session().rollback()


def get_db() -> Database:
    return current_app.extensions["gis_db"]


def session() -> Session:
    """The session of the current request (or CLI command)."""
    return get_db().session()
