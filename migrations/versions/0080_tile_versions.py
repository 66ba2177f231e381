"""Versions of the map's squares, for tiles that are cached and still correct.

Revision ID: 0080_tile_versions
Revises: 0070_field_time
Create Date: 2026-12-06

`tile_versions` holds, for every square of the zoom-14 Web Mercator grid (about 2.4 km across
in Tianjin) that ever held a site, the number of the last statement that changed a site in it.
Statement-level triggers (one upsert per statement, so a bulk load pays once) bump the squares
of the sites inserted, updated or deleted (both their old and new place), and of the sites
whose plan steps changed (a late step makes a site overdue); a change to the streets bumps the
row (-1, -1), which every tile includes (a freshly migrated database has no row: a backup
restores into it). A tile's ETag is derived from the greatest version of
the squares it covers (gis_app/features/maps/tile_cache.py), so it changes exactly when a site
it may show changes. The app's role reads the table; only the triggers (SECURITY DEFINER)
write it.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import app_role

revision: str = "0080_tile_versions"
down_revision: str | Sequence[str] | None = "0070_field_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZOOM = 14

# the zoom-14 square of a WGS84 point (Web Mercator, as in the tiles)
CELL_X = f"least({2**ZOOM - 1}, greatest(0, floor((ST_X(geom) + 180.0) / 360.0 * {2**ZOOM})))::int"
CELL_Y = (
    f"least({2**ZOOM - 1}, greatest(0, floor((1.0 - asinh(tan(radians("
    f"greatest(-85.0511, least(85.0511, ST_Y(geom)))))) / pi()) / 2.0 * {2**ZOOM})))::int"
)


def _bump(source: str) -> str:
    """The statement that gives the squares of the points in `source` (a query with a geom
    column) the version v."""
    return f"""
        INSERT INTO public.tile_versions AS t (x, y, version)
        SELECT DISTINCT {CELL_X}, {CELL_Y}, v FROM ({source}) AS changed WHERE geom IS NOT NULL
        ON CONFLICT (x, y) DO UPDATE SET version = EXCLUDED.version
    """


def upgrade() -> None:
    op.execute(
        """
        CREATE SEQUENCE tile_version_seq;
        CREATE TABLE tile_versions (
            x integer NOT NULL,
            y integer NOT NULL,
            version bigint NOT NULL,
            PRIMARY KEY (x, y)
        );
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION public.bump_tile_versions_sites() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE v bigint := nextval('tile_version_seq');
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {_bump("SELECT geom FROM new_rows")};
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {_bump("SELECT geom FROM old_rows")};
            END IF;
            RETURN NULL;
        END $$;
        CREATE FUNCTION public.bump_tile_versions_steps() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE v bigint := nextval('tile_version_seq');
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {_bump("SELECT s.geom FROM sites s WHERE s.id IN (SELECT site_id FROM new_rows)")};
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {_bump("SELECT s.geom FROM sites s WHERE s.id IN (SELECT site_id FROM old_rows)")};
            END IF;
            RETURN NULL;
        END $$;
        CREATE FUNCTION public.bump_tile_versions_all() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            INSERT INTO public.tile_versions AS t (x, y, version)
            VALUES (-1, -1, nextval('tile_version_seq'))
            ON CONFLICT (x, y) DO UPDATE SET version = EXCLUDED.version;
            RETURN NULL;
        END $$;
        REVOKE ALL ON FUNCTION public.bump_tile_versions_sites() FROM PUBLIC;
        REVOKE ALL ON FUNCTION public.bump_tile_versions_steps() FROM PUBLIC;
        REVOKE ALL ON FUNCTION public.bump_tile_versions_all() FROM PUBLIC;
        """
    )
    for table, function in (("sites", "sites"), ("site_steps", "steps")):
        op.execute(
            f"""
            CREATE TRIGGER tile_versions_insert AFTER INSERT ON {table}
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION public.bump_tile_versions_{function}();
            CREATE TRIGGER tile_versions_update AFTER UPDATE ON {table}
              REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION public.bump_tile_versions_{function}();
            CREATE TRIGGER tile_versions_delete AFTER DELETE ON {table}
              REFERENCING OLD TABLE AS old_rows
              FOR EACH STATEMENT EXECUTE FUNCTION public.bump_tile_versions_{function}();
            """
        )
    op.execute(
        """
        CREATE TRIGGER tile_versions_all AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON streets
          FOR EACH STATEMENT EXECUTE FUNCTION public.bump_tile_versions_all();
        CREATE TRIGGER tile_versions_truncate AFTER TRUNCATE ON sites
          FOR EACH STATEMENT EXECUTE FUNCTION public.bump_tile_versions_all();
        """
    )
    op.execute(f"GRANT SELECT ON tile_versions TO {app_role()}")


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER tile_versions_truncate ON sites;
        DROP TRIGGER tile_versions_all ON streets;
        DROP TRIGGER tile_versions_insert ON sites;
        DROP TRIGGER tile_versions_update ON sites;
        DROP TRIGGER tile_versions_delete ON sites;
        DROP TRIGGER tile_versions_insert ON site_steps;
        DROP TRIGGER tile_versions_update ON site_steps;
        DROP TRIGGER tile_versions_delete ON site_steps;
        DROP FUNCTION public.bump_tile_versions_sites();
        DROP FUNCTION public.bump_tile_versions_steps();
        DROP FUNCTION public.bump_tile_versions_all();
        DROP TABLE tile_versions;
        DROP SEQUENCE tile_version_seq;
        """
    )
