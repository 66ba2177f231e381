"""A campaign stored in the database (the demo's, moved to the present).

Revision ID: 0021_campaign_plans
Revises: 0020_historical_closures
Create Date: 2026-12-06

The campaign file (GIS_APP_CAMPAIGN_FILE, Hedong's plan by default) is the reference; a
campaign stored here, newest first, is the one the district runs (the demo stores Hedong's
plan moved so that its phases cover the day it was loaded). Reference data: every app role
reads it, only the district roles write it.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, force_rls, grant, role_in

revision: str = "0021_campaign_plans"
down_revision: str | Sequence[str] | None = "0020_historical_closures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE campaign_plans (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            source text NOT NULL,
            plan jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by varchar(64) NOT NULL,
            CONSTRAINT ck_campaign_plans_campaigns
              CHECK (jsonb_typeof(plan -> 'campaigns') = 'array')
        );
        CREATE INDEX ix_campaign_plans_newest ON campaign_plans (created_at DESC, id DESC);
        """
    )
    force_rls(op, "campaign_plans")
    op.execute("CREATE POLICY campaign_plans_read ON campaign_plans FOR SELECT USING (true)")
    writers = role_in(DISTRICT)
    op.execute(
        f"CREATE POLICY campaign_plans_write ON campaign_plans FOR INSERT WITH CHECK ({writers})"
    )
    grant(op, "campaign_plans", "SELECT, INSERT")


def downgrade() -> None:
    op.execute("DROP TABLE campaign_plans")
