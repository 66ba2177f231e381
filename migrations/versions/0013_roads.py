"""Road network for patrol routes: the `roads` table (lines imported by `gis-app import-roads`).

Revision ID: 0013_roads
Revises: 0012_idempotency
Create Date: 2026-11-28

One row per road line (a MultiLineString in the file becomes several rows), EPSG:4326, with
the district key (the Citus distribution column) and where it came from (`source`, the file,
and `imported_at`). Patrol routes read the lines around their points and run shortest paths
on them (gis_app/features/patrol/roads_graph.py).

Who sees what: every role that plans patrols (district and street roles) reads every road of
the district: a route may cross a street boundary, and roads are no secret. The web app's
role may only read (SELECT grant); rows are written only by the owner's connection under the
`district_admin` scope, i.e. the `gis-app import-roads` command.

Audited per statement, not per row: roads are bulk-imported reference data, replaced as a
whole from a file, and a row-level audit (`audit_table`) made an 8,600-line `--replace` take
82 s instead of 8.5 s (17,000 chained events). Each INSERT, UPDATE or DELETE statement on
`roads` writes one audit event (triggers `audit_statement_*`, function
`audit.record_statement()`) whose before/after is a summary: how many rows, their id range,
district codes and source files; TRUNCATE is recorded as for every table. Who imported which
file when is therefore in the tamper-evident chain; the lines themselves are in the file.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, STREET, force_rls, grant, role_in, unprotect

revision: str = "0013_roads"
down_revision: str | Sequence[str] | None = "0012_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITERS = ("district_admin",)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE roads (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            name text NOT NULL DEFAULT '',
            kind text NOT NULL DEFAULT '',
            geom geometry(LineString, 4326) NOT NULL,
            source text NOT NULL DEFAULT '',
            imported_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ck_roads_geom_valid CHECK (ST_NPoints(geom) >= 2)
        );
        CREATE INDEX ix_roads_geom ON roads USING gist (geom);
        CREATE INDEX ix_roads_district ON roads (district_code);
        COMMENT ON TABLE roads IS
          'road centre lines for patrol routes, from gis-app import-roads (audited per statement)';
        """
    )
    force_rls(op, "roads")
    readers = role_in((*DISTRICT, *STREET))
    writers = role_in(WRITERS)
    op.execute(f"CREATE POLICY roads_read ON roads FOR SELECT USING ({readers})")
    op.execute(f"CREATE POLICY roads_write ON roads USING ({writers}) WITH CHECK ({writers})")
    grant(op, "roads", "SELECT")
    _statement_audit("roads")


def _statement_audit(table: str) -> None:
    op.execute(
        """
        CREATE FUNCTION audit.record_statement() RETURNS trigger
          LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
          before_sum jsonb;
          after_sum jsonb;
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object(
                     'rows', count(*), 'first_id', min(id), 'last_id', max(id),
                     'district_code', jsonb_agg(DISTINCT district_code),
                     'source', jsonb_agg(DISTINCT source)) END
              INTO before_sum FROM old_rows;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object(
                     'rows', count(*), 'first_id', min(id), 'last_id', max(id),
                     'district_code', jsonb_agg(DISTINCT district_code),
                     'source', jsonb_agg(DISTINCT source)) END
              INTO after_sum FROM new_rows;
          END IF;
          IF before_sum IS NULL AND after_sum IS NULL THEN
            RETURN NULL;  -- the statement touched no row
          END IF;
          INSERT INTO audit.events (actor, app_role, table_name, action, before, after)
          VALUES (
            coalesce(nullif(current_setting('app.user', true), ''), 'db:' || session_user),
            coalesce(current_setting('app.role', true), ''),
            TG_TABLE_NAME, lower(TG_OP), before_sum, after_sum);
          RETURN NULL;
        END $$;
        REVOKE ALL ON FUNCTION audit.record_statement() FROM PUBLIC;
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER audit_statement_insert AFTER INSERT ON {table}
          REFERENCING NEW TABLE AS new_rows
          FOR EACH STATEMENT EXECUTE FUNCTION audit.record_statement();
        CREATE TRIGGER audit_statement_update AFTER UPDATE ON {table}
          REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
          FOR EACH STATEMENT EXECUTE FUNCTION audit.record_statement();
        CREATE TRIGGER audit_statement_delete AFTER DELETE ON {table}
          REFERENCING OLD TABLE AS old_rows
          FOR EACH STATEMENT EXECUTE FUNCTION audit.record_statement();
        CREATE TRIGGER audit_truncate AFTER TRUNCATE ON {table}
          FOR EACH STATEMENT EXECUTE FUNCTION audit.record_truncate();
        """
    )


def downgrade() -> None:
    unprotect(op, "roads")
    op.execute("DROP TABLE roads")  # its triggers go with it
    op.execute("DROP FUNCTION IF EXISTS audit.record_statement()")
