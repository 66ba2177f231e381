"""The tile versions are appended, never updated: no row lock between two writers of a square.

Revision ID: 0081_tile_versions_append_only
Revises: 0080_tile_versions
Create Date: 2026-12-06

0080 kept one row per square and upserted it from the sites' triggers: two transactions
writing sites in the same squares in another order deadlocked (seen in the test suite), and
every writer of a square waited for the other's commit. Now each statement appends its
squares with a new version; a tile's version is the sum of the versions under it, which any
committed append changes (a greatest version would miss a smaller version committed late).
`gis-app daily` keeps only the newest row per square (compact_tile_versions()).
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import app_role

revision: str = "0081_tile_versions_append_only"
down_revision: str | Sequence[str] | None = "0080_tile_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZOOM = 14
CELL_X = f"least({2**ZOOM - 1}, greatest(0, floor((ST_X(geom) + 180.0) / 360.0 * {2**ZOOM})))::int"
CELL_Y = (
    f"least({2**ZOOM - 1}, greatest(0, floor((1.0 - asinh(tan(radians("
    f"greatest(-85.0511, least(85.0511, ST_Y(geom)))))) / pi()) / 2.0 * {2**ZOOM})))::int"
)


def _append(source: str) -> str:
    return f"""
        INSERT INTO public.tile_versions (x, y, version)
        SELECT DISTINCT {CELL_X}, {CELL_Y}, v FROM ({source}) AS changed WHERE geom IS NOT NULL
    """


def _functions() -> str:
    bump = _append
    return f"""
        CREATE OR REPLACE FUNCTION public.bump_tile_versions_sites() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE v bigint := nextval('tile_version_seq');
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {bump("SELECT geom FROM new_rows")};
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {bump("SELECT geom FROM old_rows")};
            END IF;
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION public.bump_tile_versions_steps() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE v bigint := nextval('tile_version_seq');
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {bump("SELECT s.geom FROM sites s WHERE s.id IN (SELECT site_id FROM new_rows)")};
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {bump("SELECT s.geom FROM sites s WHERE s.id IN (SELECT site_id FROM old_rows)")};
            END IF;
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION public.bump_tile_versions_all() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            INSERT INTO public.tile_versions (x, y, version)
            VALUES (-1, -1, nextval('tile_version_seq'));
            RETURN NULL;
        END $$;
    """


def upgrade() -> None:
    op.execute("ALTER TABLE tile_versions DROP CONSTRAINT tile_versions_pkey")
    op.execute("CREATE INDEX tile_versions_cell ON tile_versions (x, y, version)")
    op.execute(_functions())
    op.execute(
        f"""
        CREATE FUNCTION public.compact_tile_versions() RETURNS bigint
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            WITH gone AS (
                DELETE FROM tile_versions t USING tile_versions u
                WHERE t.x = u.x AND t.y = u.y AND t.version < u.version
                RETURNING 1
            )
            SELECT count(*) FROM gone
        $$;
        REVOKE ALL ON FUNCTION public.compact_tile_versions() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION public.compact_tile_versions() TO {app_role()};
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION public.compact_tile_versions();
        DELETE FROM tile_versions t USING tile_versions u
        WHERE t.x = u.x AND t.y = u.y AND t.version < u.version;
        DROP INDEX tile_versions_cell;
        ALTER TABLE tile_versions ADD PRIMARY KEY (x, y);
        """
    )
    upsert = " ON CONFLICT (x, y) DO UPDATE SET version = EXCLUDED.version"
    sql = _functions().replace("WHERE geom IS NOT NULL\n", "WHERE geom IS NOT NULL" + upsert + "\n")
    sql = sql.replace(
        "VALUES (-1, -1, nextval('tile_version_seq'));",
        "VALUES (-1, -1, nextval('tile_version_seq'))" + upsert + ";",
    )
    op.execute(sql)
