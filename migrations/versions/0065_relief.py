"""民政 relief: the civil-affairs bureau records relief given to a hardship person (what,
when). Visible to the district, the site's street and the bureau; never to other roles
(row-level security, FORCE). Only the bureau records. Audited.

Revision ID: 0065_relief
Revises: 0064_police_support
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
    role_in,
    roles_policy,
    unaudit_table,
    unprotect,
)

revision: str = "0065_relief"
down_revision: str | Sequence[str] | None = "0064_police_support"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE relief_records (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            street_id integer NOT NULL REFERENCES streets (id),
            what text NOT NULL,
            given_on date NOT NULL,
            recorded_by varchar(64) NOT NULL,
            recorded_at timestamptz NOT NULL
        );
        CREATE INDEX ix_relief_records_site ON relief_records (site_id);
        """
    )
    force_rls(op, "relief_records")
    civil = role_in(("bureau_civil",))
    seen = f"{role_in(DISTRICT)} OR ({role_in(STREET)} AND {STREET_SCOPE}) OR {civil}"
    op.execute(
        f"CREATE POLICY relief_records_seen ON relief_records USING ({seen}) WITH CHECK ({civil})"
    )
    roles_policy(op, "relief_records", (*DISTRICT, *STREET, "bureau_civil"))
    grant(op, "relief_records", "SELECT, INSERT")
    audit_table(op, "relief_records")


def downgrade() -> None:
    unaudit_table(op, "relief_records")
    unprotect(op, "relief_records")
    op.execute("DROP TABLE relief_records")
