"""A photo may be linked to the plan step it proves after its upload.

Revision ID: 0015_photo_step_evidence
Revises: 0014_audit_chain_lookup
Create Date: 2026-12-06

Completing a step with a photo as its evidence sets `photos.step_id`; the app's role had only
SELECT and INSERT on photos (0006), so it was refused by the database (a 500). The role may
now update that one column (the table's row-level policies still decide which rows).
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import app_role

revision: str = "0015_photo_step_evidence"
down_revision: str | Sequence[str] | None = "0014_audit_chain_lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(f"GRANT UPDATE (step_id) ON photos TO {app_role()}")


def downgrade() -> None:
    op.execute(f"REVOKE UPDATE (step_id) ON photos FROM {app_role()}")
