"""The daily digest's outbox: each user's to-do list of a day, waiting to be delivered (to a
folder or a messenger robot's webhook); a delivery that fails stays pending and is retried.

Only the district roles (and the commands, which act as one) see it: it holds every
street's items. Every insert, update and delete goes into the audit chain.

Revision ID: 0061_digest_outbox
Revises: 0060_notices
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    audit_table,
    force_rls,
    grant,
    roles_policy,
    unaudit_table,
    unprotect,
)

revision: str = "0061_digest_outbox"
down_revision: str | Sequence[str] | None = "0060_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE digest_outbox (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            day date NOT NULL,
            username varchar(64) NOT NULL,
            channel varchar(16) NOT NULL,
            title text NOT NULL,
            payload jsonb NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            last_error text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL,
            sent_at timestamptz,
            CONSTRAINT uq_digest_outbox UNIQUE (day, username, channel),
            CONSTRAINT ck_digest_outbox_status CHECK (status IN ('pending', 'sent')),
            CONSTRAINT ck_digest_outbox_channel CHECK (channel IN ('file', 'dingtalk', 'wecom'))
        );
        CREATE INDEX ix_digest_outbox_pending ON digest_outbox (id) WHERE status = 'pending';
        """
    )
    force_rls(op, "digest_outbox")
    op.execute("CREATE POLICY digest_outbox_rows ON digest_outbox USING (true) WITH CHECK (true)")
    roles_policy(op, "digest_outbox", DISTRICT)
    grant(op, "digest_outbox", "SELECT")
    audit_table(op, "digest_outbox")


def downgrade() -> None:
    unaudit_table(op, "digest_outbox")
    unprotect(op, "digest_outbox")
    op.execute("DROP TABLE digest_outbox")
