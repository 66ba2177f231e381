"""Sites closed before the system existed (historical closures) and office corrections.

Revision ID: 0020_historical_closures
Revises: 0015_photo_step_evidence
Create Date: 2026-12-06

A district that starts mid-campaign may bring in sites already closed: only a district
administrator can, and each is marked with where the closure is recorded (`historical_source`)
and when it was closed. Such a site does not count as 销账 with evidence until a before/after
photo pair is attached and the office accepts it (`historical_accepted_at`/`_by`).
The app's role already has UPDATE on sites (0006); the new columns are covered by it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_historical_closures"
down_revision: str | Sequence[str] | None = "0015_photo_step_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE sites
          ADD COLUMN historical_source text,
          ADD COLUMN historical_closed_on date,
          ADD COLUMN historical_accepted_at timestamptz,
          ADD COLUMN historical_accepted_by varchar(64),
          ADD CONSTRAINT ck_sites_historical_source CHECK (
            historical_source IS NULL OR length(btrim(historical_source)) > 0),
          ADD CONSTRAINT ck_sites_historical_fields CHECK (
            historical_source IS NOT NULL
            OR (historical_closed_on IS NULL AND historical_accepted_at IS NULL));
        CREATE INDEX ix_sites_historical ON sites (street_id)
          WHERE historical_source IS NOT NULL AND deleted_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX ix_sites_historical;
        ALTER TABLE sites
          DROP CONSTRAINT ck_sites_historical_fields,
          DROP CONSTRAINT ck_sites_historical_source,
          DROP COLUMN historical_accepted_by,
          DROP COLUMN historical_accepted_at,
          DROP COLUMN historical_closed_on,
          DROP COLUMN historical_source;
        """
    )
