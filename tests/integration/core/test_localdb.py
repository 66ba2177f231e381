"""Set-up against a server given by DATABASE_URL: the database and PostGIS are created."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from gis_app.core.database import sqlalchemy_url
from gis_app.core.localdb import dbname_of, resolve_url, with_dbname


def _drop(url: str) -> None:
    admin = create_engine(
        sqlalchemy_url(with_dbname(url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(url)}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.slow
def test_database_url_gets_database_and_postgis(database_url: str, monkeypatch) -> None:
    target = with_dbname(database_url, dbname_of(database_url) + "_ext")
    _drop(target)
    monkeypatch.setenv("DATABASE_URL", target)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    assert resolve_url() == target
    assert resolve_url(test=True) == with_dbname(target, dbname_of(target) + "_test")
    engine = create_engine(sqlalchemy_url(target))
    with engine.connect() as conn:
        version = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    engine.dispose()
    assert version.startswith("3.")
    assert resolve_url() == target  # a second run reuses what is there
    _drop(target)
    _drop(with_dbname(target, dbname_of(target) + "_test"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg2://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ],
)
def test_sqlalchemy_url_uses_psycopg2(url: str, expected: str) -> None:
    assert sqlalchemy_url(url) == expected


@pytest.mark.slow
def test_role_passwords_set_at_once_by_two_processes_do_not_collide(database_url: str) -> None:
    """Test workers and `make run` set the app role's password at the same time; without the
    lock PostgreSQL refuses one of them ("tuple concurrently updated")."""
    import threading

    import psycopg2

    from gis_app.core.localdb import password_sql

    role = "gis_test_roles_lock"
    errors: list[BaseException] = []

    def connect() -> psycopg2.extensions.connection:
        conn = psycopg2.connect(database_url)
        conn.autocommit = True
        return conn

    def set_many() -> None:
        conn = connect()
        try:
            with conn.cursor() as cur:
                for _ in range(40):
                    password_sql(cur, role, "a-password-of-this-test")
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            conn.close()

    admin = connect()
    with admin.cursor() as cur:
        cur.execute(f"DROP ROLE IF EXISTS {role}")
        cur.execute(f"CREATE ROLE {role} NOLOGIN")
    try:
        threads = [threading.Thread(target=set_many) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()
    assert errors == []
