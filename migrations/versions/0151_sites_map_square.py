"""Each site's zoom-14 map square as two integer columns, so that map tiles find their sites by
an index under row-level security.

Revision ID: 0151_sites_map_square
Revises: 0150_site_cells
Create Date: 2026-12-06

Under row-level security PostgreSQL may use an index only for conditions whose operators are
leakproof: PostGIS's `geom && box` is not, so as the app's role a tile's `geom && box` read
every visible site (a sequential scan of a million rows, 1.7 s for one zoom-14 tile, where the
owner's query took 0.1 s through the GiST index). Integer comparisons are leakproof: `map_x`,
`map_y` (the square of `tile_versions`, same formula, stored and generated from `geom`) with
their btree index give a tile, and the counting of a square of `site_cells`, their sites
again by an index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0151_sites_map_square"
down_revision: str | Sequence[str] | None = "0150_site_cells"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZOOM = 14
CELL_X = f"least({2**ZOOM - 1}, greatest(0, floor((ST_X(geom) + 180.0) / 360.0 * {2**ZOOM})))::int"
CELL_Y = (
    f"least({2**ZOOM - 1}, greatest(0, floor((1.0 - asinh(tan(radians("
    f"greatest(-85.0511, least(85.0511, ST_Y(geom)))))) / pi()) / 2.0 * {2**ZOOM})))::int"
)


def upgrade() -> None:
    op.execute(
        f"""
        ALTER TABLE sites
          ADD COLUMN map_x integer GENERATED ALWAYS AS ({CELL_X}) STORED,
          ADD COLUMN map_y integer GENERATED ALWAYS AS ({CELL_Y}) STORED
        """
    )
    op.execute("CREATE INDEX ix_sites_map_square ON sites (map_x, map_y)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_sites_map_square")
    op.execute("ALTER TABLE sites DROP COLUMN map_y, DROP COLUMN map_x")
