"""Road network for patrol routes: the `roads` table (lines imported by `gis-app import-roads`).

Revision ID: 0013_roads
Revises: 0010_city_scale
Create Date: 2026-11-28

One row per road line (a MultiLineString in the file becomes several rows), EPSG:4326, with
the district key (the Citus distribution column) and where it came from (`source`, the file,
and `imported_at`). Patrol routes read the lines around their points and run shortest paths
on them (gis_app/services/patrol/roads_graph.py).

Who sees what: every role that plans patrols (district and street roles) reads every road of
the district: a route may cross a street boundary, and roads are no secret. The web app's
role may only read (SELECT grant); rows are written only by the owner's connection under the
`district_admin` scope, i.e. the `gis-app import-roads` command.

Audited like the street boundaries (`audit_table`): an import writes one audit event per line
(and one per line it replaces). That is cheap at a district's size (a few thousand lines: see
the README's patrol section) and keeps `test_every_app_table_is_audited` true; the `source`
and `imported_at` columns say which file each line came from.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.db_security import (
    DISTRICT,
    STREET,
    audit_table,
    force_rls,
    grant,
    role_in,
    unaudit_table,
    unprotect,
)

revision: str = "0013_roads"
down_revision: str | Sequence[str] | None = "0010_city_scale"
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
          'road centre lines for patrol routes, imported by gis-app import-roads (not audited)';
        """
    )
    force_rls(op, "roads")
    readers = role_in((*DISTRICT, *STREET))
    writers = role_in(WRITERS)
    op.execute(f"CREATE POLICY roads_read ON roads FOR SELECT USING ({readers})")
    op.execute(f"CREATE POLICY roads_write ON roads USING ({writers}) WITH CHECK ({writers})")
    grant(op, "roads", "SELECT")
    audit_table(op, "roads")


def downgrade() -> None:
    unaudit_table(op, "roads")
    unprotect(op, "roads")
    op.execute("DROP TABLE roads")
