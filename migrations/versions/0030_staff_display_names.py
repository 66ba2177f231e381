"""Staff names for the history: who acted on a site, by name, for everyone who sees the site.

Revision ID: 0030_staff_display_names
Revises: 0026_audit_fair_figures
Create Date: 2026-12-06

A site's history names who did what. The events keep the username; the pages show the person's
name (users.display_name). Street roles may not read the users table (its rows hold password
hashes and roles), so `access.staff_names(usernames)` returns only username and name, reading
the table under the authentication step's pseudo-role for the function's duration.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import AUTH, app_role

revision: str = "0030_staff_display_names"
down_revision: str | Sequence[str] | None = "0026_audit_fair_figures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION access.staff_names(names text[])
          RETURNS TABLE (username text, display_name text)
          LANGUAGE sql STABLE SET app.role = '{AUTH}' SET search_path = pg_catalog, public
          AS $$ SELECT u.username::text, u.display_name::text FROM users u
                WHERE u.username = ANY (names) $$;
        COMMENT ON FUNCTION access.staff_names(text[]) IS
          'the names (display_name) of the given users, for histories; nothing else of them';
        REVOKE ALL ON FUNCTION access.staff_names(text[]) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION access.staff_names(text[]) TO {app_role()};
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION access.staff_names(text[])")
