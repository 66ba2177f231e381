"""The engine and the per-request session; migrations run through Alembic's API.

Every transaction a session begins first tells PostgreSQL who acts (`app.role`, `app.street`,
`app.user`, transaction-local): the row-level security policies and the audit triggers read
them. The scope is whatever `set_scope()` last put on the session; a session with none sets
empty values, which the policies read as "see nothing" (fail closed).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from gis_app.config import sqlalchemy_url
from gis_app.localdb import PROJECT_ROOT


@dataclass(frozen=True)
class DbScope:
    """What the database is told about the acting user, per transaction."""

    role: str = ""
    street: str = ""
    user: str = ""
    #: SET LOCAL ROLE to this database role first (tests: the owner's connection acts as the
    #: app's role); None in production, where the app connects as its own role
    db_role: str | None = None


NOBODY = DbScope()
_SCOPE_KEY = "db_scope"


def set_scope(session: Session, scope: DbScope) -> None:
    """Act as `scope` from now on: at once if a transaction is open, else from the next one."""
    session.info[_SCOPE_KEY] = scope
    if session.in_transaction():
        _apply_scope(session.connection(), scope)


def _apply_scope(connection: Connection, scope: DbScope) -> None:
    if scope.db_role:
        connection.exec_driver_sql(f'SET LOCAL ROLE "{scope.db_role}"')
    connection.execute(
        text(
            "SELECT set_config('app.role', :role, true), set_config('app.street', :street, true),"
            " set_config('app.user', :user, true)"
        ),
        {"role": scope.role, "street": scope.street, "user": scope.user},
    )


def _after_begin(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    _apply_scope(connection, session.info.get(_SCOPE_KEY, NOBODY))


class Database:
    """Holds the engine; `session()` gives the session of the current request or command.

    The web app connects with APP_DATABASE_URL (a role that owns no table and is subject to
    row-level security); commands connect with DATABASE_URL, the owner (config DB_CONNECT_AS).
    """

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory: sessionmaker[Session] = sessionmaker(expire_on_commit=False)
        event.listen(self.factory, "after_begin", _after_begin)

    def init_app(self, app: Flask) -> None:
        as_owner = app.config.get("DB_CONNECT_AS", "app") == "owner"
        raw = app.config.get("DATABASE_URL") if as_owner else app.config.get("APP_DATABASE_URL")
        url = sqlalchemy_url(raw)
        if not url:
            raise RuntimeError(
                "没有配置数据库：请设置 DATABASE_URL（及 APP_DATABASE_URL），"
                "或先运行 `make run` 建立本地数据库。"
            )
        self.engine = create_engine(
            url,
            pool_pre_ping=True,
            # at least one connection per worker thread: a connection made beyond the pool is
            # closed again after its request, and a new one pays for PostgreSQL's start-up
            # and its cold catalog caches (the row-level security policies, 5-10 ms)
            pool_size=int(app.config.get("DB_POOL_SIZE", 10)),
            max_overflow=int(app.config.get("DB_MAX_OVERFLOW", 10)),
            echo=app.config.get("SQL_ECHO", False),
            connect_args={"options": "-c timezone=UTC", "application_name": "gis-app"},
        )
        self.factory.configure(bind=self.engine)
        self.set_role = app.config.get("DB_SET_ROLE") or None
        app.extensions["gis_db"] = self
        app.teardown_appcontext(self._close)
        if not as_owner and app.config.get("DB_CHECK_ROLE", True):
            check_app_role(self.engine, self.set_role)

    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.factory(info={_SCOPE_KEY: g.get(_SCOPE_KEY, NOBODY)})
        return g.db_session

    def use_scope(self, scope: DbScope) -> None:
        """The scope of this request or command from now on (its session's next transactions)."""
        g.db_scope = scope
        if "db_session" in g:
            set_scope(g.db_session, scope)

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return
        try:
            session.close()  # rolls back whatever was not committed
        except Exception:  # the connection died (database restarted): nothing to roll back
            import logging

            logging.getLogger(__name__).warning("closing a session failed", exc_info=True)
            with contextlib.suppress(Exception):
                session.invalidate()


def check_app_role(engine: Engine, set_role: str | None = None) -> None:
    """Refuse to serve as a role that could get around row-level security: a superuser, a
    BYPASSRLS role, or the owner of a table of the app."""
    from sqlalchemy.exc import OperationalError

    query = text(
        """
        SELECT r.rolname, r.rolsuper, r.rolbypassrls,
               EXISTS (SELECT 1 FROM pg_tables t
                       WHERE t.schemaname IN ('public', 'audit') AND t.tableowner = r.rolname
                         AND t.tablename <> 'spatial_ref_sys')
        FROM pg_roles r WHERE r.rolname = coalesce(:role, current_user)
        """
    )
    try:
        with engine.connect() as conn:
            row = conn.execute(query, {"role": set_role}).first()
    except OperationalError as exc:  # not up yet, or the app role cannot log in
        import logging

        logging.getLogger(__name__).warning(
            "cannot connect with APP_DATABASE_URL (%s): is the database up, and may the app "
            "role log in (README, database roles)?",
            str(exc).strip().splitlines()[0] if str(exc).strip() else exc,
        )
        return
    if row is None:
        raise RuntimeError(f"数据库角色 {set_role} 不存在：请先运行 `gis-app db upgrade`")
    name, superuser, bypass, owns = row
    if superuser or bypass or owns:
        raise RuntimeError(
            f"应用不能以数据库角色 {name} 连接（超级用户、可绕过行级安全或拥有数据表）："
            "请把 APP_DATABASE_URL 设为应用专用角色（见 README「数据库角色」）"
        )


def get_db() -> Database:
    return current_app.extensions["gis_db"]


def session() -> Session:
    """The session of the current request (or CLI command)."""
    return get_db().session()


def alembic_config(url: str | None = None, connection: Any = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(PROJECT_ROOT) / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", (sqlalchemy_url(url) or "").replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
