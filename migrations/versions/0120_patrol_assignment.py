"""Patrols for chosen sites, given to an inspector for a day.

Revision ID: 0120_patrol_assignment
Revises: 0110_publicity
Create Date: 2026-12-06

The office (or a street for its own sites) picks sites in the ledger list and hands them to a
patrol: the new area kind `sites` (the stops are exactly the chosen sites; the area is the
hull around them), the inspector who walks it (`assignee`, an account name) and the day
(`planned_for`). The table's policies, grants and audit trigger cover the new columns.

Street roles may not read the users table; `access.inspectors()` gives the active inspectors'
account names, names and streets (nothing else of them), as `access.staff_names` gives names.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import AUTH, app_role

revision: str = "0120_patrol_assignment"
down_revision: str | Sequence[str] | None = "0110_publicity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE patrols ADD COLUMN assignee varchar(64);
        ALTER TABLE patrols ADD COLUMN planned_for date;
        COMMENT ON COLUMN patrols.assignee IS 'the inspector (account name) the patrol is for';
        COMMENT ON COLUMN patrols.planned_for IS 'the day the patrol is planned for';
        ALTER TABLE patrols DROP CONSTRAINT ck_patrols_area_kind;
        ALTER TABLE patrols ADD CONSTRAINT ck_patrols_area_kind
          CHECK (area_kind IN ('street', 'polygon', 'circle', 'bbox', 'sites'));
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION access.inspectors()
          RETURNS TABLE (username text, display_name text, street_code text)
          LANGUAGE sql STABLE SET app.role = '{AUTH}' SET search_path = pg_catalog, public
          AS $$ SELECT u.username::text, u.display_name::text, u.street_code::text FROM users u
                WHERE u.role = 'inspector' AND u.active AND u.street_code IS NOT NULL $$;
        COMMENT ON FUNCTION access.inspectors() IS
          'the active inspectors (account name, name, street), to hand them a patrol';
        REVOKE ALL ON FUNCTION access.inspectors() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION access.inspectors() TO {app_role()};
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION access.inspectors()")
    op.execute(
        """
        DELETE FROM patrols WHERE area_kind = 'sites';
        ALTER TABLE patrols DROP CONSTRAINT ck_patrols_area_kind;
        ALTER TABLE patrols ADD CONSTRAINT ck_patrols_area_kind
          CHECK (area_kind IN ('street', 'polygon', 'circle', 'bbox'));
        ALTER TABLE patrols DROP COLUMN planned_for;
        ALTER TABLE patrols DROP COLUMN assignee;
        """
    )
