"""Acts recorded offline keep the time they happened in the field beside the server's time.

Revision ID: 0070_field_time
Revises: 0065_relief
Create Date: 2026-12-06

A stop ticked, a finding recorded or a spot-check result entered on a phone without signal
reaches the server later, from the phone's queue. `recorded_at` is when it happened (the
phone's clock, checked to be plausible); the existing `checked_at`, `created_at` and
`inspected_at` stay the server's time of arrival. NULL: sent at once, both times the same.
The app's role already may update patrol_stops and sample_sites and insert findings.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0070_field_time"
down_revision: str | Sequence[str] | None = "0065_relief"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("patrol_stops", "patrol_findings", "sample_sites")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "recorded_at")
