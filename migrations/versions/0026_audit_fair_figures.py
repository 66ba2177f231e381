"""The baseline, the campaign plan, the 第一责任人 and the stage targets go into the audit chain.

Revision ID: 0026_audit_fair_figures
Revises: 0025_stage_targets
Create Date: 2026-12-06

These tables decide how a street is ranked and named in a 通报: who confirmed a street's list,
froze the baseline, set a target or recorded a leader must be on record like every other act.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import audit_table, unaudit_table

revision: str = "0026_audit_fair_figures"
down_revision: str | Sequence[str] | None = "0025_stage_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("campaign_plans", "baseline_lists", "baselines", "street_leaders", "stage_targets")


def upgrade() -> None:
    for table in TABLES:
        audit_table(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        unaudit_table(op, table)
