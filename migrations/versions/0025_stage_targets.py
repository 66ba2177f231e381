"""Stage targets (阶段工作目标): per street, target counts for dates the office chooses.

Revision ID: 0025_stage_targets
Revises: 0024_street_leaders
Create Date: 2026-12-06

The office sets them (proposed from the baseline and the campaign phases); a new setting for
the same street, date and scope replaces the old one in the figures, and every setting is kept.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, STREET, protect_by_street, role_in

revision: str = "0025_stage_targets"
down_revision: str | Sequence[str] | None = "0024_street_leaders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE stage_targets (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            due date NOT NULL,
            scope varchar(16) NOT NULL,
            target integer NOT NULL,
            set_by varchar(64) NOT NULL,
            set_at timestamptz NOT NULL,
            CONSTRAINT ck_stage_targets_scope CHECK (scope IN ('demolish', 'all')),
            CONSTRAINT ck_stage_targets_target CHECK (target >= 0)
        );
        CREATE INDEX ix_stage_targets_street ON stage_targets (street_id, due, scope, set_at DESC);
        """
    )
    protect_by_street(op, "stage_targets", (*DISTRICT, *STREET), "SELECT, INSERT")
    op.execute(
        f"CREATE POLICY stage_targets_write ON stage_targets AS RESTRICTIVE FOR INSERT "
        f"WITH CHECK ({role_in(DISTRICT)})"
    )


def downgrade() -> None:
    op.execute("DROP TABLE stage_targets")
