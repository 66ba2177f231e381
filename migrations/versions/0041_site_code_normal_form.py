"""Site codes are unique by their normal form (NFKC, case-folded), not only as typed.

Revision ID: 0041_site_code_normal_form
Revises: 0040_site_codes_in_use
Create Date: 2026-12-06

`DZG-001`, `dzg-001` and `ＤＺＧ－００１` were three codes; a person reads them as one. The app now
keeps codes in NFKC and refuses invisible and look-alike characters (gis_app.core.text); the
database compares them by `lower(normalize(code, NFKC))`: a unique index among the live sites
of a district, and `access.site_codes_in_use` answering by that form. A ledger that already
holds two codes of one form stops this migration with their list (rename one, then upgrade).
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from gis_app.core.db_security import app_role

revision: str = "0041_site_code_normal_form"
down_revision: str | Sequence[str] | None = "0040_site_codes_in_use"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NORMAL = "lower(normalize(code, NFKC))"


def upgrade() -> None:
    clashes = (
        op.get_bind()
        .execute(
            text(
                f"""
                SELECT district_code, string_agg(code, ' / ' ORDER BY code)
                FROM sites WHERE deleted_at IS NULL
                GROUP BY district_code, {NORMAL} HAVING count(*) > 1 LIMIT 20
                """
            )
        )
        .all()
    )
    if clashes:
        listed = "; ".join(f"{d}: {codes}" for d, codes in clashes)
        raise RuntimeError(
            f"live sites whose codes differ only in case or width (rename one of each): {listed}"
        )
    op.execute(
        f"CREATE UNIQUE INDEX uq_sites_live_code_normal ON sites (district_code, {NORMAL}) "
        "WHERE deleted_at IS NULL"
    )
    op.execute("DROP FUNCTION access.site_codes_in_use(text, text[])")
    op.execute(
        """
        CREATE FUNCTION access.site_codes_in_use(district text, wanted text[])
          RETURNS SETOF text
          LANGUAGE sql STABLE SECURITY DEFINER
          SET search_path = pg_catalog, public
          SET app.role = 'district_admin'
          AS $$
            SELECT w FROM unnest(wanted) AS w
            WHERE EXISTS (
              SELECT 1 FROM public.sites s
              WHERE lower(normalize(s.code, NFKC)) = lower(normalize(w, NFKC))
                AND s.deleted_at IS NULL
                AND (district IS NULL OR s.district_code = district))
          $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION access.site_codes_in_use(text, text[]) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION access.site_codes_in_use(text, text[]) TO {app_role()}")


def downgrade() -> None:
    op.execute("DROP INDEX uq_sites_live_code_normal")
    op.execute("DROP FUNCTION access.site_codes_in_use(text, text[])")
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
