"""Sessions that tell PostgreSQL who acts, the app role check, and migrations through Alembic.

Every transaction a session begins first tells PostgreSQL who acts (`app.role`, `app.street`,
`app.user`, transaction-local): the row-level security policies and the audit triggers read
them. The scope is whatever `set_scope()` last put on the session; a session with none sets
empty values, which the policies read as "see nothing" (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from gis_app.core.localdb import PROJECT_ROOT


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
#: where a session keeps its scope (`Session.info`)
SCOPE_KEY = "db_scope"


def set_scope(session: Session, scope: DbScope) -> None:
    """Act as `scope` from now on: at once if a transaction is open, else from the next one."""
    session.info[SCOPE_KEY] = scope
    if session.in_transaction():
        apply_scope(session.connection(), scope)


def apply_scope(connection: Connection, scope: DbScope) -> None:
    if scope.db_role:
        connection.exec_driver_sql(f'SET LOCAL ROLE "{scope.db_role}"')
    connection.execute(
        text(
            "SELECT set_config('app.role', :role, true), set_config('app.street', :street, true),"
            " set_config('app.user', :user, true)"
        ),
        {"role": scope.role, "street": scope.street, "user": scope.user},
    )


#: `Session.info` key: True once the session's current transaction may have written
WROTE_KEY = "db_wrote"


def _after_begin(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    session.info[WROTE_KEY] = False
    apply_scope(connection, session.info.get(SCOPE_KEY, NOBODY))


def _after_flush(session: Session, _context: Any) -> None:
    session.info[WROTE_KEY] = True


def _on_execute(state: ORMExecuteState) -> None:
    # anything but a SELECT (an UPDATE, DELETE, INSERT, or a text() statement) may write
    if not state.is_select:
        state.session.info[WROTE_KEY] = True


def may_have_written(session: Session) -> bool:
    """Whether the session's open transaction flushed or ran anything but a SELECT (a
    SELECT that calls a writing function is not seen: the callers only read tables)."""
    return bool(session.info.get(WROTE_KEY, True))


def session_factory() -> sessionmaker[Session]:
    """Sessions whose every transaction starts by telling PostgreSQL their scope, and which
    know whether their transaction may have written (`may_have_written`)."""
    factory: sessionmaker[Session] = sessionmaker(expire_on_commit=False)
    event.listen(factory, "after_begin", _after_begin)
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "do_orm_execute", _on_execute)
    return factory


def sqlalchemy_url(url: str | None) -> str | None:
    """Use psycopg2 for a plain postgresql:// URL (SQLAlchemy 2.1 would pick psycopg 3)."""
    if not url:
        return url
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def create_db_engine(
    url: str, pool_size: int = 10, max_overflow: int = 10, echo: bool = False
) -> Engine:
    """The app's engine: UTC sessions, named `gis-app` in pg_stat_activity."""
    return create_engine(
        url,
        pool_pre_ping=True,
        # at least one connection per worker thread: a connection made beyond the pool is
        # closed again after its request, and a new one pays for PostgreSQL's start-up
        # and its cold catalog caches (the row-level security policies, 5-10 ms)
        pool_size=pool_size,
        max_overflow=max_overflow,
        echo=echo,
        # no JIT: the map's tile statements (the late-step subplan, row-level security) cost
        # enough for PostgreSQL to compile them, 1.7 s of JIT for a 0.1 s statement at a
        # million sites (docs/operations/performance.md, "Map modes")
        connect_args={"options": "-c timezone=UTC -c jit=off", "application_name": "gis-app"},
    )


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
