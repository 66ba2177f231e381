"""第一责任人: each street's first responsible person, recorded by the office, changes kept.

Revision ID: 0024_street_leaders
Revises: 0023_baseline
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, STREET, force_rls, grant, role_in

revision: str = "0024_street_leaders"
down_revision: str | Sequence[str] | None = "0023_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE street_leaders (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            name varchar(64) NOT NULL,
            title varchar(64) NOT NULL,
            since date NOT NULL,
            recorded_by varchar(64) NOT NULL,
            recorded_at timestamptz NOT NULL,
            CONSTRAINT ck_street_leaders_name CHECK (length(btrim(name)) > 0),
            CONSTRAINT ck_street_leaders_title CHECK (length(btrim(title)) > 0)
        );
        CREATE INDEX ix_street_leaders_street ON street_leaders (street_id, since DESC, id DESC);
        """
    )
    # the office records; everyone of the district and the streets reads (shown on reports)
    force_rls(op, "street_leaders")
    readers = role_in((*DISTRICT, *STREET))
    op.execute(f"CREATE POLICY street_leaders_read ON street_leaders FOR SELECT USING ({readers})")
    op.execute(
        f"CREATE POLICY street_leaders_write ON street_leaders FOR INSERT "
        f"WITH CHECK ({role_in(DISTRICT)})"
    )
    grant(op, "street_leaders", "SELECT, INSERT")


def downgrade() -> None:
    op.execute("DROP TABLE street_leaders")
