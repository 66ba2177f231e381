"""The baseline (总体目标): each street's list, the office's review, the frozen district ledger.

Revision ID: 0023_baseline
Revises: 0022_central_inspection_requests
Create Date: 2026-12-06

A street submits its list of sites (排查、建档); the office returns it with comments or
confirms it (`baseline_lists`, every submission kept). When every street's list is confirmed
the office freezes the district baseline (`baselines`, once): the sites of the confirmed lists
get `in_baseline`; a site registered later is an addition (新发现 on patrol, or a late
registration with its `addition_reason`).
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, STREET, force_rls, grant, protect_by_street, role_in

revision: str = "0023_baseline"
down_revision: str | Sequence[str] | None = "0022_central_inspection_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE sites
          ADD COLUMN in_baseline boolean NOT NULL DEFAULT false,
          ADD COLUMN addition_reason text NOT NULL DEFAULT '';
        CREATE TABLE baseline_lists (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            status varchar(16) NOT NULL DEFAULT 'submitted',
            site_ids bigint[] NOT NULL,
            submitted_at timestamptz NOT NULL,
            submitted_by varchar(64) NOT NULL,
            reviewed_at timestamptz,
            reviewed_by varchar(64),
            review_comment text NOT NULL DEFAULT '',
            CONSTRAINT ck_baseline_lists_status
              CHECK (status IN ('submitted', 'returned', 'confirmed')),
            CONSTRAINT ck_baseline_lists_reviewed
              CHECK ((status = 'submitted') = (reviewed_at IS NULL))
        );
        CREATE INDEX ix_baseline_lists_street ON baseline_lists (street_id, submitted_at DESC);
        CREATE TABLE baselines (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL UNIQUE REFERENCES districts (code),
            frozen_at timestamptz NOT NULL,
            frozen_by varchar(64) NOT NULL,
            site_count integer NOT NULL
        );
        """
    )
    protect_by_street(op, "baseline_lists", (*DISTRICT, *STREET), "SELECT, INSERT, UPDATE")
    force_rls(op, "baselines")
    op.execute("CREATE POLICY baselines_read ON baselines FOR SELECT USING (true)")
    op.execute(
        f"CREATE POLICY baselines_write ON baselines FOR INSERT WITH CHECK ({role_in(DISTRICT)})"
    )
    grant(op, "baselines", "SELECT, INSERT")


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE baselines;
        DROP TABLE baseline_lists;
        ALTER TABLE sites DROP COLUMN addition_reason, DROP COLUMN in_baseline;
        """
    )
