"""Idempotency keys: a retried upload (same `Idempotency-Key` header, same user) is answered
from the stored response instead of being carried out twice.

A row belongs to one user: the app role reads and writes only the rows of the transaction's
`app.user` (nothing set: nothing seen). Rows expire (`expires_at`, 24 hours after the first
request); an expired key may be used again. The stored response body is masked in the audit
trail (it repeats what the photo's own audit rows hold).

Revision ID: 0012_idempotency
Revises: 0011_patrol
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_app.core.db_security import audit_table, force_rls, grant, unaudit_table, unprotect

revision: str = "0012_idempotency"
down_revision: str | Sequence[str] | None = "0011_patrol"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "idempotency_keys"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=False),
        sa.Column("response_body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("username", "key", name="idempotency_keys_user_key"),
    )
    op.create_index("idempotency_keys_expires", TABLE, ["expires_at"])
    force_rls(op, TABLE)
    me = "username = (SELECT access.app_user())"
    op.execute(f"CREATE POLICY {TABLE}_own ON {TABLE} USING ({me}) WITH CHECK ({me})")
    grant(op, TABLE, "SELECT, INSERT, UPDATE, DELETE")
    audit_table(op, TABLE, "id", ("response_body",))


def downgrade() -> None:
    unaudit_table(op, TABLE)
    unprotect(op, TABLE)
    op.drop_table(TABLE)
