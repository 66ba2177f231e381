"""例会 and 追责: meeting records (attendees, reports heard, frozen figures, decisions) with
tasks owned by a street or a bureau; escalations to the district committee/government.

Who sees what (row-level security, FORCE):
- `meetings`, `escalations`: the district roles only;
- `meeting_tasks`: the district roles all; a street role its street's tasks; a bureau its own
  (each task carries its meeting's date and title: the owners do not see the meeting);
  The owner (or the district) marks a task done (UPDATE of the done columns only).
Every insert, update and delete goes into the audit chain.

Revision ID: 0063_meetings_escalations
Revises: 0062_inspections
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    BUREAUS,
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

revision: str = "0063_meetings_escalations"
down_revision: str | Sequence[str] | None = "0062_inspections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("meeting_tasks", "meetings", "escalations")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE meetings (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            held_on date NOT NULL,
            title varchar(200) NOT NULL,
            attendees text NOT NULL,
            reports jsonb NOT NULL,
            figures jsonb NOT NULL,
            decisions text NOT NULL DEFAULT '',
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL
        );
        CREATE TABLE meeting_tasks (
            id bigserial PRIMARY KEY,
            meeting_id bigint NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
            district_code varchar(12) NOT NULL,
            street_id integer REFERENCES streets (id),
            bureau_role varchar(32),
            meeting_label varchar(250) NOT NULL,
            task text NOT NULL,
            due_date date NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'open',
            done_note text NOT NULL DEFAULT '',
            done_by varchar(64),
            done_at timestamptz,
            CONSTRAINT ck_meeting_tasks_owner CHECK ((street_id IS NULL) <> (bureau_role IS NULL)),
            CONSTRAINT ck_meeting_tasks_status CHECK (status IN ('open', 'done'))
        );
        CREATE INDEX ix_meeting_tasks_street ON meeting_tasks (street_id, status);
        CREATE INDEX ix_meeting_tasks_bureau ON meeting_tasks (bureau_role, status);
        CREATE TABLE escalations (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            street_id integer REFERENCES streets (id),
            person text NOT NULL DEFAULT '',
            escalated_to varchar(16) NOT NULL,
            submitted_on date NOT NULL,
            grounds text NOT NULL,
            notice_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
            finding_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
            site_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
            decision text NOT NULL DEFAULT '',
            decided_on date,
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL,
            CONSTRAINT ck_escalations_target CHECK (street_id IS NOT NULL OR person <> ''),
            CONSTRAINT ck_escalations_to CHECK (escalated_to IN ('committee', 'government'))
        );
        """
    )
    district = role_in(DISTRICT)
    for table, privileges in (("meetings", "SELECT, INSERT"), ("escalations", "SELECT, INSERT")):
        force_rls(op, table)
        op.execute(f"CREATE POLICY {table}_district ON {table} USING ({district})")
        roles_policy(op, table, DISTRICT)
        grant(op, table, privileges)
    op.execute(f"GRANT UPDATE (decision, decided_on) ON escalations TO {app_role()}")
    force_rls(op, "meeting_tasks")
    owner = (
        f"{district} OR ({role_in(STREET)} AND {STREET_SCOPE})"
        f" OR ({role_in(BUREAUS)} AND bureau_role = (SELECT access.app_role()))"
    )
    op.execute(
        f"CREATE POLICY meeting_tasks_owner ON meeting_tasks USING ({owner}) WITH CHECK ({owner})"
    )
    op.execute(
        "CREATE POLICY meeting_tasks_insert ON meeting_tasks AS RESTRICTIVE FOR INSERT"
        f" WITH CHECK ({district})"
    )
    roles_policy(op, "meeting_tasks", (*DISTRICT, *STREET, *BUREAUS))
    grant(op, "meeting_tasks", "SELECT, INSERT")
    op.execute(
        f"GRANT UPDATE (status, done_note, done_by, done_at) ON meeting_tasks TO {app_role()}"
    )
    for table in TABLES:
        audit_table(op, table)


def downgrade() -> None:
    for table in TABLES:
        unaudit_table(op, table)
        unprotect(op, table)
    op.execute("DROP TABLE meeting_tasks; DROP TABLE meetings; DROP TABLE escalations;")
