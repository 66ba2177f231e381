"""A site keeps the street's own word for its kind (违建类型) as its ledger wrote it.

Revision ID: 0050_site_kind_label
Revises: 0041_site_code_normal_form
Create Date: 2026-12-06

A ledger import maps a word outside the list of kinds to a kind through the synonym table
(else 其他, with a warning) and keeps the word here, verbatim; "" when the ledger wrote a
listed kind. The app's role inserts whole rows (table-level INSERT): nothing to grant.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0050_site_kind_label"
down_revision: str | Sequence[str] | None = "0041_site_code_normal_form"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE sites ADD COLUMN kind_label varchar(64) NOT NULL DEFAULT ''")


def downgrade() -> None:
    op.execute("ALTER TABLE sites DROP COLUMN kind_label")
