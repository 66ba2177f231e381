"""公安 support: a street asks the police for enforcement support at a site on a date; the
police accept or decline, then record the outcome (with a case number for 暴力抗法).

Who sees what (row-level security, FORCE): the district roles all; a street role its own
street's requests; the police (bureau_police) all; nobody else. The street inserts; the police
update the answer and outcome columns. Every change goes into the audit chain; the request
and its outcome are also events of the site (its timeline). The request carries the site's
code and address: the police see requests of sites outside their own view (obstruction).

Revision ID: 0064_police_support
Revises: 0063_meetings_escalations
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    STREET,
    STREET_SCOPE,
    app_role,
    audit_table,
    force_rls,
    grant,
    role_in,
    roles_policy,
    unaudit_table,
    unprotect,
)

revision: str = "0064_police_support"
down_revision: str | Sequence[str] | None = "0063_meetings_escalations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE police_requests (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            street_id integer NOT NULL REFERENCES streets (id),
            site_code varchar(64) NOT NULL,
            address text NOT NULL,
            wanted_on date NOT NULL,
            reason text NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'requested',
            requested_by varchar(64) NOT NULL,
            requested_at timestamptz NOT NULL,
            answered_by varchar(64),
            answered_at timestamptz,
            answer_note text NOT NULL DEFAULT '',
            outcome text NOT NULL DEFAULT '',
            violent boolean NOT NULL DEFAULT false,
            case_number varchar(64) NOT NULL DEFAULT '',
            outcome_at timestamptz,
            CONSTRAINT ck_police_requests_status
              CHECK (status IN ('requested', 'accepted', 'declined', 'done')),
            CONSTRAINT ck_police_requests_case CHECK (NOT violent OR case_number <> '')
        );
        CREATE INDEX ix_police_requests_street ON police_requests (street_id, status);
        CREATE INDEX ix_police_requests_site ON police_requests (site_id);
        """
    )
    force_rls(op, "police_requests")
    seen = (
        f"{role_in(DISTRICT)} OR ({role_in(STREET)} AND {STREET_SCOPE})"
        f" OR {role_in(('bureau_police',))}"
    )
    op.execute(f"CREATE POLICY police_requests_seen ON police_requests USING ({seen})")
    op.execute(
        "CREATE POLICY police_requests_insert ON police_requests AS RESTRICTIVE FOR INSERT"
        f" WITH CHECK ({role_in(STREET)} AND {STREET_SCOPE})"
    )
    roles_policy(op, "police_requests", (*DISTRICT, *STREET, "bureau_police"))
    grant(op, "police_requests", "SELECT, INSERT")
    op.execute(
        "GRANT UPDATE (status, answered_by, answered_at, answer_note, outcome, violent,"
        f" case_number, outcome_at) ON police_requests TO {app_role()}"
    )
    audit_table(op, "police_requests")


def downgrade() -> None:
    unaudit_table(op, "police_requests")
    unprotect(op, "police_requests")
    op.execute("DROP TABLE police_requests")
