"""应拆尽拆: requests to change a site flagged 中央第二次环保督查 (to 规范治理, or unflagged).

Revision ID: 0022_central_inspection_requests
Revises: 0021_campaign_plans
Create Date: 2026-12-06

A street asks, the district office approves or refuses with a reason (like an extension
request); one pending request per site. Rows are visible with their site (row-level security
as for extension_requests).
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, STREET, audit_table, protect_by_site, unprotect

revision: str = "0022_central_inspection_requests"
down_revision: str | Sequence[str] | None = "0021_campaign_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE central_inspection_requests (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            change varchar(16) NOT NULL,
            reason text NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'pending',
            requested_by varchar(64) NOT NULL,
            requested_at timestamptz NOT NULL,
            decided_by varchar(64),
            decided_at timestamptz,
            decision_comment text NOT NULL DEFAULT '',
            CONSTRAINT ck_central_requests_change CHECK (change IN ('rectify', 'unflag')),
            CONSTRAINT ck_central_requests_status
              CHECK (status IN ('pending', 'approved', 'rejected')),
            CONSTRAINT ck_central_requests_reason CHECK (length(btrim(reason)) > 0),
            CONSTRAINT ck_central_requests_decided CHECK (
              (status = 'pending') = (decided_at IS NULL))
        );
        CREATE UNIQUE INDEX uq_central_requests_one_pending
          ON central_inspection_requests (site_id) WHERE status = 'pending';
        CREATE INDEX ix_central_requests_site
          ON central_inspection_requests (site_id, requested_at);
        """
    )
    roles = (*DISTRICT, *STREET)
    protect_by_site(op, "central_inspection_requests", roles, "SELECT, INSERT, UPDATE")
    audit_table(op, "central_inspection_requests")


def downgrade() -> None:
    unprotect(op, "central_inspection_requests")
    op.execute("DROP TABLE central_inspection_requests")
