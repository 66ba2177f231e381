"""The app's role may read the schema version, for `/readyz`.

Revision ID: 0090_ops_readiness
Revises: 0081_tile_versions_append_only
Create Date: 2026-12-06

`/readyz` connects as the app's own role and compares `alembic_version` with the code's head
revision (gis_app/features/ops/health.py): the role had no privilege on that table.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import app_role

revision: str = "0090_ops_readiness"
down_revision: str | Sequence[str] | None = "0081_tile_versions_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(f"GRANT SELECT ON alembic_version TO {app_role()}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON alembic_version FROM {app_role()}")
