"""Which of some site codes are in use, whatever street holds them.

Revision ID: 0040_site_codes_in_use
Revises: 0030_staff_display_names
Create Date: 2026-12-06

A street's transaction sees only its own street's sites (row-level security), so an import
checked its codes against those alone: a code of another street passed the dry run and the
import then hit the unique index (a 500 that, beside the 409 of POST /sites, told a street
which codes other streets use). `access.site_codes_in_use(district, codes)` answers for every
street, and only that: which of the given codes a live site has (district NULL: any district).
It runs as its owner with the district administrator's scope (its SET clause ends with it).
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import app_role

revision: str = "0040_site_codes_in_use"
down_revision: str | Sequence[str] | None = "0030_staff_display_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION access.site_codes_in_use(district text, wanted text[])
          RETURNS SETOF text
          LANGUAGE sql STABLE SECURITY DEFINER
          SET search_path = pg_catalog, public
          SET app.role = 'district_admin'
          AS $$
            SELECT DISTINCT s.code FROM public.sites s
            WHERE s.code = ANY (wanted) AND s.deleted_at IS NULL
              AND (district IS NULL OR s.district_code = district)
          $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION access.site_codes_in_use(text, text[]) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION access.site_codes_in_use(text, text[]) TO {app_role()}")


def downgrade() -> None:
    op.execute("DROP FUNCTION access.site_codes_in_use(text, text[])")
