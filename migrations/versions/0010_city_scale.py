"""City scale: a district's sites in id order, for the list pages of a city-wide database.

Revision ID: 0010_city_scale
Revises: 0009_feature_security
Create Date: 2026-11-28

With many districts in one database, a district's list page (`district=…`, ordered by id)
must not walk the whole primary key: this index gives that district's live sites in id order.
It leads with the district key, the column the tables are distributed by under Citus.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_city_scale"
down_revision: str | Sequence[str] | None = "0009_feature_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_sites_district_id ON sites (district_code, id) WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_sites_district_id")
