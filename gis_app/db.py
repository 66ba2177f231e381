"""The engine and the per-request session; migrations run through Alembic's API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from gis_app.config import sqlalchemy_url
from gis_app.localdb import PROJECT_ROOT


class Database:
    """Holds the engine; `session()` gives the session of the current request or command."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory: sessionmaker[Session] = sessionmaker(expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        url = sqlalchemy_url(app.config.get("DATABASE_URL"))
        if not url:
            raise RuntimeError(
                "没有配置数据库：请设置 DATABASE_URL，或先运行 `make run` 建立本地数据库。"
            )
        self.engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            echo=app.config.get("SQL_ECHO", False),
            connect_args={"options": "-c timezone=UTC", "application_name": "gis-app"},
        )
        self.factory.configure(bind=self.engine)
        app.extensions["gis_db"] = self
        app.teardown_appcontext(self._close)

    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.factory()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back whatever was not committed


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
