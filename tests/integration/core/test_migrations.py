"""The schema comes only from migrations: upgrade and downgrade on an empty database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from gis_app.core import database as dbmod
from gis_app.core.database import sqlalchemy_url
from gis_app.core.localdb import dbname_of, ensure_database, with_dbname

pytestmark = pytest.mark.slow

APP_TABLES = {
    "districts",
    "streets",
    "sites",
    "site_events",
    "import_batches",
    # 0002_workflow
    "site_steps",
    "photos",
    "acceptance_views",
    "extension_requests",
    "monthly_reports",
    "renovation_works",
    "daily_runs",
    # 0005_sampling
    "inspectors",
    "sample_batches",
    "sample_frame_units",
    "sample_sites",
    # 0006_accounts
    "users",
    "user_sessions",
    "api_tokens",
    "login_attempts",
    # 0011_patrol
    "patrols",
    "patrol_stops",
    "patrol_findings",
    # 0013_roads
    "roads",
    # 0012_idempotency
    "idempotency_keys",
}


def _fresh(url: str) -> str:
    mig_url = with_dbname(url, dbname_of(url) + "_mig")
    admin = create_engine(
        sqlalchemy_url(with_dbname(url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname_of(mig_url)}" WITH (FORCE)'))
    admin.dispose()
    ensure_database(mig_url)
    return mig_url


def test_upgrade_downgrade_upgrade_on_empty_database(database_url: str) -> None:
    url = _fresh(database_url)
    engine = create_engine(sqlalchemy_url(url))
    try:
        dbmod.upgrade(url)
        tables = set(inspect(engine).get_table_names())
        assert tables >= APP_TABLES
        with engine.connect() as conn:
            gist = (
                conn.execute(
                    text("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
                )
                .scalars()
                .all()
            )
            srids = dict(
                conn.execute(text("SELECT f_table_name, srid FROM geometry_columns")).all()
            )
        assert {"districts", "streets", "sites", "photos"} <= set(gist)
        assert srids == {"districts": 4326, "streets": 4326, "sites": 4326} | {
            k: v for k, v in srids.items() if k not in ("districts", "streets", "sites")
        }
        assert all(v == 4326 for v in srids.values())

        with engine.connect() as conn:
            schemas = set(conn.execute(text("SELECT nspname FROM pg_namespace")).scalars())
        assert {"access", "audit"} <= schemas  # 0006_accounts, 0007_audit
        dbmod.downgrade(url, "base")
        engine.dispose()
        with engine.connect() as conn:
            schemas = set(conn.execute(text("SELECT nspname FROM pg_namespace")).scalars())
        assert not {"access", "audit"} & schemas
        left = set(inspect(engine).get_table_names())
        assert not (APP_TABLES & left), left
        assert "spatial_ref_sys" in left  # PostGIS itself is left alone

        dbmod.upgrade(url)
        engine.dispose()
        assert set(inspect(engine).get_table_names()) >= APP_TABLES
    finally:
        engine.dispose()


def test_srid_enforced_by_the_column_type(engine) -> None:
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(
                text(
                    "INSERT INTO districts (code, name, geom) VALUES ('999999', 'x', "
                    "ST_Multi(ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 3857)))"
                )
            )
        except Exception as exc:
            assert "SRID" in str(exc)
        else:
            raise AssertionError("a geometry in EPSG:3857 was accepted")
        finally:
            trans.rollback()


SAMPLING_TABLES = ("inspectors", "sample_batches", "sample_frame_units", "sample_sites")


def _protection(engine) -> dict[str, tuple[bool, bool, bool]]:
    """Per sampling table: (row-level security forced, the app role may read, audited)."""
    from gis_app.core.db_security import app_role

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity,
                       has_table_privilege(:role, c.oid, 'SELECT'),
                       EXISTS (SELECT 1 FROM pg_trigger t
                               WHERE t.tgrelid = c.oid AND t.tgname = 'audit_row')
                FROM pg_class c WHERE c.relname = ANY(:tables)
                """
            ),
            {"role": app_role(), "tables": list(SAMPLING_TABLES)},
        ).all()
    return {name: (forced, readable, audited) for name, forced, readable, audited in rows}


#: the one head: the newest migration (migrations are numbered in the order they chain)
HEAD = max(p.stem for p in (Path(__file__).parents[3] / "migrations" / "versions").glob("0*.py"))


def test_one_head_and_the_feature_security_steps_down_and_up(database_url: str) -> None:
    """The accounts and the features meet in one head; 0009 protects the sampling tables and
    its downgrade leaves them as the features had them (data kept), ready to upgrade again."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(dbmod.alembic_config())
    assert script.get_heads() == [HEAD]
    assert script.get_revision("0011_patrol").down_revision == "0010_city_scale"
    assert script.get_revision("0010_city_scale").down_revision == "0009_feature_security"
    url = _fresh(database_url)
    engine = create_engine(sqlalchemy_url(url))
    try:
        dbmod.upgrade(url)
        assert _protection(engine) == dict.fromkeys(SAMPLING_TABLES, (True, True, True))
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO inspectors (district_code, name, created_by) "
                    "VALUES ('120102', '留存', 'test')"
                )
            )
        dbmod.downgrade(url, "0009_feature_security")
        dbmod.downgrade(url, "0008_merge_features")
        engine.dispose()
        with engine.connect() as conn:
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
            columns = set(
                conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = 'inspectors'"
                    )
                ).scalars()
            )
            kept = conn.execute(text("SELECT name FROM inspectors")).scalars().all()
        assert current == {"0007_audit", "0008_merge_features"}
        assert _protection(engine) == dict.fromkeys(SAMPLING_TABLES, (False, False, False))
        assert "user_id" not in columns and kept == ["留存"]
        dbmod.upgrade(url)
        engine.dispose()
        assert _protection(engine) == dict.fromkeys(SAMPLING_TABLES, (True, True, True))
    finally:
        engine.dispose()


def test_patrol_tables_are_protected_and_step_down_and_up(database_url: str) -> None:
    """0011 gives the patrol tables forced RLS and audit triggers; its downgrade removes them
    and the streets' office columns, and the upgrade after it works again."""
    patrol_tables = ("patrols", "patrol_stops", "patrol_findings")
    url = _fresh(database_url)
    engine = create_engine(sqlalchemy_url(url))
    query = text(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, EXISTS (SELECT 1 FROM"
        " pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'audit_row') FROM pg_class c"
        " WHERE c.relname = ANY(:t) ORDER BY 1"
    )
    try:
        dbmod.upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(query, {"t": list(patrol_tables)}).all()
        assert [tuple(r)[1:] for r in rows] == [(True, True, True)] * 3
        dbmod.downgrade(url, "0011_patrol-1")  # this branch only
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(query, {"t": list(patrol_tables)}).all() == []
            office = conn.execute(
                text("SELECT count(*) FROM information_schema.columns WHERE table_name = 'streets'"
                     " AND column_name LIKE 'office%'")
            ).scalar()  # fmt: skip
        assert office == 0
        dbmod.upgrade(url)
    finally:
        engine.dispose()
