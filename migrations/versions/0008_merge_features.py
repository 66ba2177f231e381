"""Merge point of the features built before accounts existed: the workflow (0002) and spot
checks (0005) were merged into main side by side; nothing changes in the schema here.

Revision ID: 0008_merge_features
Revises: 0002_workflow, 0005_sampling
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0008_merge_features"
down_revision: str | Sequence[str] | None = ("0002_workflow", "0005_sampling")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
