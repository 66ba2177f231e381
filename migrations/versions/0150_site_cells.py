"""Counts of sites per map cell, for the low-zoom tiles of a city of a million sites.

Revision ID: 0150_site_cells
Revises: 0120_patrol_assignment
Create Date: 2026-12-06

A zoom-11 tile of the city centre counted its cells from some hundred thousand sites each time
(232 ms at 1,000,000 sites), a zoom-8 tile of the whole city from all of them. `site_cells`
holds those counts once: per square of the zoom-16 and of the zoom-14 Web Mercator grid (the
cells of a zoom-12 and a zoom-10 tile), per street, status, disposition and whether the site
is overdue, the number of sites. A tile below the point zoom sums a few thousand of these rows
(gis_app/features/maps/cells.py).

The rows are grouped by the zoom-14 square of `tile_versions` they lie in (sx, sy);
`site_cell_squares` records, per square, the version sum of `tile_versions` and the stamp (the
day and the overdue rule) its rows were counted at. A square whose version or stamp differs is
stale: a district transaction counts it again from `sites` before its tile is built (the
triggers of 0080/0081 already bump a square on every change to its sites or their steps), and
any other reader falls back to counting the sites themselves. Squares of sites that no change
has touched since 0080 get their first version here. Nothing here holds personal
data; the rows of a street are visible to whom sees that street (row-level security, as for
`sites`), and only the roles that see every site (district, open data) may write them.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    OPEN_DATA,
    STREET_SCOPE,
    app_role,
    force_rls,
    role_in,
)

revision: str = "0150_site_cells"
down_revision: str | Sequence[str] | None = "0120_patrol_assignment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZOOM = 14  # the squares of tile_versions (0080)
CELL_X = f"least({2**ZOOM - 1}, greatest(0, floor((ST_X(geom) + 180.0) / 360.0 * {2**ZOOM})))::int"
CELL_Y = (
    f"least({2**ZOOM - 1}, greatest(0, floor((1.0 - asinh(tan(radians("
    f"greatest(-85.0511, least(85.0511, ST_Y(geom)))))) / pi()) / 2.0 * {2**ZOOM})))::int"
)

#: who may count squares again: the roles row-level security shows every site to
WRITERS = role_in((*DISTRICT, *OPEN_DATA))


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE site_cells (
            sx integer NOT NULL,
            sy integer NOT NULL,
            level smallint NOT NULL,
            cx integer NOT NULL,
            cy integer NOT NULL,
            street_id integer NOT NULL,
            district_code varchar(12) NOT NULL,
            status varchar(24) NOT NULL,
            disposition varchar(16) NOT NULL,
            overdue boolean NOT NULL,
            n integer NOT NULL,
            CONSTRAINT ck_site_cells_level CHECK (level IN (14, 16))
        );
        CREATE INDEX ix_site_cells_cell ON site_cells (level, cx, cy);
        CREATE INDEX ix_site_cells_square ON site_cells (sx, sy);
        CREATE TABLE site_cell_squares (
            x integer NOT NULL,
            y integer NOT NULL,
            version bigint NOT NULL,
            stamp text NOT NULL,
            PRIMARY KEY (x, y)
        );
        """
    )
    force_rls(op, "site_cells")
    op.execute(f"CREATE POLICY site_cells_street ON site_cells USING ({STREET_SCOPE})")
    op.execute(
        f"CREATE POLICY site_cells_insert ON site_cells AS RESTRICTIVE FOR INSERT "
        f"WITH CHECK ({WRITERS})"
    )
    op.execute(
        f"CREATE POLICY site_cells_delete ON site_cells AS RESTRICTIVE FOR DELETE USING ({WRITERS})"
    )
    force_rls(op, "site_cell_squares")
    op.execute("CREATE POLICY site_cell_squares_read ON site_cell_squares FOR SELECT USING (true)")
    op.execute(
        f"CREATE POLICY site_cell_squares_write ON site_cell_squares "
        f"USING ({WRITERS}) WITH CHECK ({WRITERS})"
    )
    # a square gets its first version with its first change (0080): sites older than 0080
    # have none, and a square without version would never be counted
    op.execute("SELECT set_config('app.role', 'district_admin', true)")
    op.execute(
        f"""
        INSERT INTO tile_versions (x, y, version)
        SELECT x, y, nextval('tile_version_seq')
        FROM (SELECT DISTINCT {CELL_X} AS x, {CELL_Y} AS y FROM sites WHERE geom IS NOT NULL) q
        WHERE NOT EXISTS (SELECT 1 FROM tile_versions t WHERE t.x = q.x AND t.y = q.y)
        """
    )
    role = app_role()
    op.execute(f"GRANT SELECT, INSERT, DELETE ON site_cells TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON site_cell_squares TO {role}")


def downgrade() -> None:
    op.execute("DROP TABLE site_cell_squares")
    op.execute("DROP TABLE site_cells")
