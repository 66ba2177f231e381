"""住建委 and the 规范治理 plan of an old-building renovation site (旧楼区改造): the site's street
submits the plan (what will be done, its steps with dates) to the housing committee, which
approves it or returns it with comments; the street revises and resubmits; once approved, the
committee records the works done (date, what, a note).

Who sees what (row-level security, FORCE): the district roles all; a street role its own
street's plans; the housing committee (bureau_housing) all plans (every one is addressed to
it); nobody else. The street inserts and resubmits (its columns), the committee reviews (its
columns) and records works. Every change goes into the audit chain; each act is also an event
of the site (its timeline).

Revision ID: 0100_renovation_plans
Revises: 0090_ops_readiness
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

revision: str = "0100_renovation_plans"
down_revision: str | Sequence[str] | None = "0090_ops_readiness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOUSING = ("bureau_housing",)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE renovation_plans (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            street_id integer NOT NULL REFERENCES streets (id),
            content text NOT NULL,
            steps jsonb NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'submitted',
            revision integer NOT NULL DEFAULT 1,
            submitted_by varchar(64) NOT NULL,
            submitted_at timestamptz NOT NULL,
            reviewed_by varchar(64),
            reviewed_at timestamptz,
            review_comment text NOT NULL DEFAULT '',
            CONSTRAINT uq_renovation_plans_site UNIQUE (site_id),
            CONSTRAINT ck_renovation_plans_status
              CHECK (status IN ('submitted', 'returned', 'approved')),
            CONSTRAINT ck_renovation_plans_return
              CHECK (status <> 'returned' OR review_comment <> ''),
            CONSTRAINT ck_renovation_plans_revision CHECK (revision >= 1)
        );
        CREATE INDEX ix_renovation_plans_street ON renovation_plans (street_id, status);

        CREATE TABLE renovation_plan_works (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            plan_id bigint NOT NULL REFERENCES renovation_plans (id),
            site_id bigint NOT NULL REFERENCES sites (id),
            street_id integer NOT NULL REFERENCES streets (id),
            done_on date NOT NULL,
            what text NOT NULL,
            note text NOT NULL DEFAULT '',
            recorded_by varchar(64) NOT NULL,
            recorded_at timestamptz NOT NULL,
            CONSTRAINT ck_renovation_plan_works_what CHECK (btrim(what) <> '')
        );
        CREATE INDEX ix_renovation_plan_works_plan ON renovation_plan_works (plan_id, done_on);
        """
    )
    seen = f"{role_in(DISTRICT)} OR ({role_in(STREET)} AND {STREET_SCOPE}) OR {role_in(HOUSING)}"
    for table in ("renovation_plans", "renovation_plan_works"):
        force_rls(op, table)
        op.execute(f"CREATE POLICY {table}_seen ON {table} USING ({seen})")
        roles_policy(op, table, (*DISTRICT, *STREET, *HOUSING))
        grant(op, table, "SELECT, INSERT")
        audit_table(op, table)
    op.execute(
        "CREATE POLICY renovation_plans_insert ON renovation_plans AS RESTRICTIVE FOR INSERT"
        f" WITH CHECK ({role_in(('street_officer',))} AND {STREET_SCOPE})"
    )
    op.execute(
        "CREATE POLICY renovation_plan_works_insert ON renovation_plan_works AS RESTRICTIVE"
        f" FOR INSERT WITH CHECK ({role_in(HOUSING)})"
    )
    # the street resubmits (content, steps, revision), the committee reviews (status, review)
    op.execute(
        "GRANT UPDATE (content, steps, status, revision, submitted_by, submitted_at,"
        f" reviewed_by, reviewed_at, review_comment) ON renovation_plans TO {app_role()}"
    )
    updaters = f"({role_in(('street_officer',))} AND {STREET_SCOPE}) OR {role_in(HOUSING)}"
    op.execute(
        "CREATE POLICY renovation_plans_update ON renovation_plans AS RESTRICTIVE FOR UPDATE"
        f" USING ({updaters}) WITH CHECK ({updaters})"
    )


def downgrade() -> None:
    for table in ("renovation_plan_works", "renovation_plans"):
        unaudit_table(op, table)
        unprotect(op, table)
    op.execute("DROP TABLE renovation_plan_works")
    op.execute("DROP TABLE renovation_plans")
