"""通报: the district office names streets that do poorly, with reasons and the figures frozen
at issue time and a reply due date; each named street answers with its rectification measures.

Who sees what (row-level security, FORCE):
- `notice_streets`, `notice_replies`: rows of the visible streets (a street role: its own;
  the district roles: all); nobody else;
- `notices`: the district roles see all; a street role sees a notice only when it names the
  street (its `notice_streets` row is visible).
The district roles issue (INSERT notices and notice_streets); a street inserts its replies.
Every insert, update and delete goes into the audit chain.

Revision ID: 0060_notices
Revises: 0052_import_header_mappings
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    STREET,
    STREET_SCOPE,
    audit_table,
    force_rls,
    grant,
    protect_by_street,
    role_in,
    roles_policy,
    unaudit_table,
    unprotect,
)

revision: str = "0060_notices"
down_revision: str | Sequence[str] | None = "0052_import_header_mappings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = (*DISTRICT, *STREET)
TABLES = ("notice_replies", "notice_streets", "notices")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE notices (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            year integer NOT NULL,
            seq integer NOT NULL,
            number varchar(64) NOT NULL,
            title varchar(200) NOT NULL,
            body text NOT NULL DEFAULT '',
            source varchar(16) NOT NULL,
            issued_on date NOT NULL,
            reply_due date NOT NULL,
            issued_by varchar(64) NOT NULL,
            issued_at timestamptz NOT NULL,
            CONSTRAINT uq_notices_number UNIQUE (district_code, year, seq),
            CONSTRAINT ck_notices_source CHECK (source IN ('lagging', 'choice')),
            CONSTRAINT ck_notices_due CHECK (reply_due >= issued_on)
        );
        COMMENT ON TABLE notices IS '通报: numbered per district and year (seq)';

        CREATE TABLE notice_streets (
            id bigserial PRIMARY KEY,
            notice_id bigint NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            ord integer NOT NULL,
            reasons jsonb NOT NULL,
            figures jsonb NOT NULL,
            CONSTRAINT uq_notice_streets UNIQUE (notice_id, street_id)
        );
        CREATE INDEX ix_notice_streets_street ON notice_streets (street_id, notice_id);
        COMMENT ON COLUMN notice_streets.figures IS
          'the street''s figures as they were when the notice was issued (never recomputed)';

        CREATE TABLE notice_replies (
            id bigserial PRIMARY KEY,
            notice_street_id bigint NOT NULL REFERENCES notice_streets (id) ON DELETE CASCADE,
            notice_id bigint NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            measures text NOT NULL,
            replied_by varchar(64) NOT NULL,
            replied_at timestamptz NOT NULL,
            late boolean NOT NULL,
            CONSTRAINT ck_notice_replies_measures CHECK (length(btrim(measures)) > 0)
        );
        CREATE INDEX ix_notice_replies_ns ON notice_replies (notice_street_id, replied_at);
        """
    )
    district = role_in(DISTRICT)
    protect_by_street(op, "notice_streets", STAFF, "SELECT, INSERT")
    op.execute(f"ALTER POLICY notice_streets_street ON notice_streets WITH CHECK ({district})")
    protect_by_street(op, "notice_replies", STAFF, "SELECT, INSERT")
    op.execute(
        f"ALTER POLICY notice_replies_street ON notice_replies"
        f" WITH CHECK ({STREET_SCOPE} AND {role_in(STREET)})"
    )
    force_rls(op, "notices")
    op.execute(
        f"CREATE POLICY notices_seen ON notices USING ({district} OR EXISTS ("
        "SELECT 1 FROM notice_streets ns WHERE ns.notice_id = notices.id))"
        f" WITH CHECK ({district})"
    )
    roles_policy(op, "notices", STAFF)
    grant(op, "notices", "SELECT, INSERT")
    for table in TABLES:
        audit_table(op, table)


def downgrade() -> None:
    for table in TABLES:
        unaudit_table(op, table)
        unprotect(op, table)
    op.execute("DROP TABLE notice_replies; DROP TABLE notice_streets; DROP TABLE notices;")
