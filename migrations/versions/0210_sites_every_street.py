"""The district roles' and bureaus' sight of every street said once per statement, not per
site: the sites' street policy compared each row's street with the array of every street of
the city (218 at a million sites, a linear search per row).

Revision ID: 0210_sites_every_street
Revises: 0200_sites_fine_square
Create Date: 2026-12-06

`access.sees_every_street()` is true for the roles whose `visible_street_ids()` are all the
streets; the policy asks it first (an InitPlan: evaluated once), so a map tile of 10,000 sites
no longer makes 10,000 searches of that array (a zoom-14 tile of a city centre: about a fifth
of its time). Nothing else changes: `street_id` is NOT NULL, so "every street" and "any
street in the list of all" are the same rows; the street roles still match their one street.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0210_sites_every_street"
down_revision: str | Sequence[str] | None = "0200_sites_fine_square"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVERY_STREET = (
    "'district_admin', 'district_officer', 'bureau_civil', 'bureau_housing', 'bureau_police',"
    " 'bureau_media', 'agency'"
)
STREET = "'street_officer', 'inspector'"
IN_LIST = "street_id = ANY ((SELECT access.visible_street_ids())::integer[])"


def _visible_street_ids(every: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION access.visible_street_ids() RETURNS integer[]
          LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT CASE
            WHEN {every} THEN ARRAY(SELECT id FROM public.streets)
            WHEN access.app_role() IN ({STREET})
              THEN ARRAY(SELECT id FROM public.streets
                         WHERE code = nullif(access.app_street(), ''))
            ELSE '{{}}'::integer[]
          END $$
    """


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION access.sees_every_street() RETURNS boolean
          LANGUAGE sql STABLE PARALLEL SAFE
          AS $$ SELECT access.app_role() IN ({EVERY_STREET}) $$
        """
    )
    op.execute(_visible_street_ids("access.sees_every_street()"))
    op.execute(
        "ALTER POLICY sites_street ON sites"
        f" USING ((SELECT access.sees_every_street()) OR {IN_LIST})"
    )


def downgrade() -> None:
    op.execute(f"ALTER POLICY sites_street ON sites USING ({IN_LIST})")
    op.execute(_visible_street_ids(f"access.app_role() IN ({EVERY_STREET})"))
    op.execute("DROP FUNCTION access.sees_every_street()")
