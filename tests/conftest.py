"""Test fixtures: a real PostGIS database, migrated once; each test in a rolled-back transaction.

The database is TEST_DATABASE_URL (make test sets it), else `<name>_test` beside the app's
database (started by gis_app.core.localdb). It is dropped and created again at the start of a run.
Under pytest-xdist each worker has a database of its own, `<name>_test_<worker>` (gw0, gw1…), and
so do the databases derived from it (the scratch database, the migration and backup tests'):
what one worker commits (a live server's demo data) no other sees.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.database import sqlalchemy_url
from gis_app.core.localdb import dbname_of, resolve_url, with_dbname
from tests.support.live import FROZEN_NOW


def _recreate_database(url: str) -> None:
    admin = create_engine(
        sqlalchemy_url(with_dbname(url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    name = dbname_of(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    admin.dispose()


def worker_url(url: str, worker: str | None) -> str:
    """The test database of an xdist worker (`gw0`…): `<name>_test_gw0`; `url` itself when the
    tests run in one process."""
    return with_dbname(url, f"{dbname_of(url)}_{worker}") if worker else url


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or resolve_url(test=True)
    if not dbname_of(url).endswith("_test"):
        pytest.exit(f"refusing to run tests against {dbname_of(url)!r}: its name must end in _test")
    url = worker_url(url, os.environ.get("PYTEST_XDIST_WORKER"))
    _recreate_database(url)
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import ensure_database

    ensure_database(url)
    dbmod.upgrade(url)
    return url


@pytest.fixture(scope="session")
def scratch_db(database_url: str) -> Iterator[tuple[str, Engine]]:
    """A second database, migrated afresh, for tests that need real commits (the audit chain,
    parallel writers, concurrent logins): (url, engine as the owner). Dropped at the end."""
    url = with_dbname(database_url, dbname_of(database_url) + "_scratch")
    _recreate_database(url)
    from gis_app.core import database as dbmod
    from gis_app.core.localdb import ensure_database

    ensure_database(url)
    dbmod.upgrade(url)
    eng = create_engine(sqlalchemy_url(url), pool_size=12)
    yield url, eng
    eng.dispose()
    admin = create_engine(
        sqlalchemy_url(with_dbname(url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(sqlalchemy_url(database_url), connect_args={"options": "-c timezone=UTC"})
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_streets(engine: Engine) -> None:
    """Hedong's outline and 12 approximate streets, committed once for the whole run."""
    from gis_app.demo.loader import STREETS_FILE, ensure_district_outline
    from gis_app.features.streets.service import import_streets

    with Session(engine) as s, s.begin():
        ensure_district_outline(s)
        import_streets(s, STREETS_FILE, approximate=True)


@pytest.fixture(scope="session")
def app(database_url: str, demo_streets: None, tmp_path_factory):
    from gis_app import create_app
    from gis_app.core.db_security import app_role

    # the web app acts as the app's own database role (row-level security applies): the
    # requests share the owner's rolled-back connection and SET LOCAL ROLE per transaction
    application = create_app(
        {
            "DATABASE_URL": database_url,
            "APP_DATABASE_URL": database_url,
            "DB_SET_ROLE": app_role(),
            "TESTING": True,
            "FROZEN_NOW": FROZEN_NOW,
            # `gis-app daily` appends the audit chain's head here, not to the project's var/
            "AUDIT_HEAD_FILE": str(tmp_path_factory.mktemp("audit") / "audit-heads.log"),
        }
    )
    yield application
    clock.freeze(None)


@pytest.fixture()
def connection(engine: Engine, demo_streets: None) -> Iterator[Connection]:
    """A connection whose outer transaction is rolled back after the test; the clock frozen at
    the tests' time (an app another test created without it would leave the real clock)."""
    clock.freeze(FROZEN_NOW)
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture()
def db_session(connection: Connection) -> Iterator[Session]:
    """A session inside the test's transaction: services may commit (savepoints)."""
    clock.freeze(FROZEN_NOW)
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()


#: the settings of the test's connection a request may change (acting user, time zone), read
#: before and put back after it
SETTINGS_NOW = (
    "SELECT current_setting('app.role', true), current_setting('app.street', true),"
    " current_setting('app.user', true), current_setting('TimeZone')"
)
SETTINGS_BACK = (
    "SELECT set_config('app.role', coalesce(%s, ''), true),"
    " set_config('app.street', coalesce(%s, ''), true),"
    " set_config('app.user', coalesce(%s, ''), true), set_config('TimeZone', %s, true)"
)


@pytest.fixture()
def client(app, connection: Connection):
    """A test client whose requests share the test's rolled-back transaction. Nobody is
    logged in: see `login` and `auth` (tests/support/accounts.py)."""
    from flask.testing import FlaskClient

    class OwnerAfterRequest(FlaskClient):
        """Each request runs as the app's database role; the test's own queries after it
        run as the owner again, with the settings they had (SET LOCAL ROLE and the
        request's app.* settings outlive its released savepoint; in production the request's
        commit ends them). Responses are read in full inside the request (buffered): a
        streamed export would otherwise query as the app's role after the reset."""

        def open(self, *args, **kwargs):
            kwargs.setdefault("buffered", True)
            saved = connection.exec_driver_sql(SETTINGS_NOW).one()
            try:
                return super().open(*args, **kwargs)
            finally:
                connection.exec_driver_sql("RESET ROLE")
                connection.exec_driver_sql(SETTINGS_BACK, tuple(saved))

    db = app.extensions["gis_db"]
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    clock.freeze(FROZEN_NOW)
    previous = app.test_client_class
    app.test_client_class = OwnerAfterRequest
    try:
        yield app.test_client()
    finally:
        app.test_client_class = previous
        db.factory.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")


@pytest.fixture()
def app_ctx(app, connection: Connection):
    db = app.extensions["gis_db"]
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    with app.app_context():
        yield app
    db.factory.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")


# ---------------------------------------------------------------- accounts (logins, tokens)


@pytest.fixture()
def auth(connection: Connection):
    """Users and API tokens made in the test's transaction (see tests/support/accounts.py)."""
    from tests.support.accounts import Accounts

    return Accounts(connection)


@pytest.fixture()
def office(client, auth):
    """The test client logged in as a district officer (区办王), through the login form."""
    auth.login(client, "区办王", "district_officer")
    return client
