"""专项督查: the office records an inspection (date, streets, sites visited), its findings per
site with the required corrections and their due dates; the street answers each correction,
the office accepts the answer or returns it.

Who sees what (row-level security, FORCE):
- `inspection_findings`: rows of the visible streets (a street role: its own), district and
  street roles only; a street may change only the answer columns, the office the review ones;
- `inspections`: the district roles see all; a street role those naming its street.
Every insert, update and delete goes into the audit chain.

Revision ID: 0062_inspections
Revises: 0061_digest_outbox
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    STREET,
    audit_table,
    force_rls,
    grant,
    protect_by_street,
    role_in,
    roles_policy,
    unaudit_table,
    unprotect,
)

revision: str = "0062_inspections"
down_revision: str | Sequence[str] | None = "0061_digest_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = (*DISTRICT, *STREET)
TABLES = ("inspection_findings", "inspections")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE inspections (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            held_on date NOT NULL,
            title varchar(200) NOT NULL,
            note text NOT NULL DEFAULT '',
            street_ids integer[] NOT NULL,
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL,
            CONSTRAINT ck_inspections_streets CHECK (cardinality(street_ids) > 0)
        );
        CREATE INDEX ix_inspections_streets ON inspections USING gin (street_ids);

        CREATE TABLE inspection_findings (
            id bigserial PRIMARY KEY,
            inspection_id bigint NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            site_id bigint NOT NULL REFERENCES sites (id),
            ord integer NOT NULL,
            finding text NOT NULL,
            photo_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
            correction text NOT NULL,
            due_date date NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'open',
            answer text NOT NULL DEFAULT '',
            answered_by varchar(64),
            answered_at timestamptz,
            review_comment text NOT NULL DEFAULT '',
            reviewed_by varchar(64),
            reviewed_at timestamptz,
            CONSTRAINT ck_inspection_findings_status
              CHECK (status IN ('open', 'answered', 'closed'))
        );
        CREATE INDEX ix_inspection_findings_street ON inspection_findings (street_id, status);
        CREATE INDEX ix_inspection_findings_site ON inspection_findings (site_id);
        """
    )
    district = role_in(DISTRICT)
    protect_by_street(op, "inspection_findings", STAFF, "SELECT, INSERT")
    op.execute(
        "GRANT UPDATE (status, answer, answered_by, answered_at, review_comment, reviewed_by,"
        " reviewed_at) ON inspection_findings TO " + _role()
    )
    op.execute(
        "CREATE POLICY inspection_findings_insert ON inspection_findings AS RESTRICTIVE"
        f" FOR INSERT WITH CHECK ({district})"
    )
    force_rls(op, "inspections")
    op.execute(
        f"CREATE POLICY inspections_seen ON inspections USING ({district} OR street_ids &&"
        " (SELECT access.visible_street_ids())::integer[])"
        f" WITH CHECK ({district})"
    )
    roles_policy(op, "inspections", STAFF)
    grant(op, "inspections", "SELECT, INSERT")
    for table in TABLES:
        audit_table(op, table)


def _role() -> str:
    from gis_app.core.db_security import app_role

    return app_role()


def downgrade() -> None:
    for table in TABLES:
        unaudit_table(op, table)
        unprotect(op, table)
    op.execute("DROP TABLE inspection_findings; DROP TABLE inspections;")
