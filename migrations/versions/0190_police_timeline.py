"""公安's answer and outcome of a support request reach the site's timeline.

Migration 0064 says the request and its outcome show on the site's timeline; the police could
read site events but not add any, so only the street's request showed. The police may now add
the three events of their own acts (accepted, declined, outcome) to a site they hold a request
for, and read back those events only (they still read no site: `site_events_site` lets a role
see the events of the sites it sees); the media centre's coverage events (0110) stay as they
were.

Revision ID: 0190_police_timeline
Revises: 0151_sites_map_square
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, STREET, role_in

revision: str = "0190_police_timeline"
down_revision: str | Sequence[str] | None = "0151_sites_map_square"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_WRITERS = (*DISTRICT, *STREET, "bureau_housing")
COVERAGE = f"({role_in(('bureau_media',))} AND action IN ('coverage', 'coverage_removed'))"
POLICE = (
    f"({role_in(('bureau_police',))}"
    " AND action IN ('police_accepted', 'police_declined', 'police_outcome'))"
)


def _insert_policy(*extra: str) -> None:
    op.execute("DROP POLICY site_events_insert ON site_events")
    writers = " OR ".join((role_in(EVENT_WRITERS), *extra))
    op.execute(
        "CREATE POLICY site_events_insert ON site_events AS RESTRICTIVE FOR INSERT"
        f" WITH CHECK ({writers})"
    )


def upgrade() -> None:
    _insert_policy(COVERAGE, POLICE)
    op.execute(f"CREATE POLICY site_events_police_read ON site_events FOR SELECT USING {POLICE}")
    op.execute(
        "CREATE POLICY site_events_police_add ON site_events FOR INSERT WITH CHECK"
        f" ({POLICE} AND EXISTS (SELECT 1 FROM police_requests r"
        " WHERE r.site_id = site_events.site_id))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY site_events_police_add ON site_events")
    op.execute("DROP POLICY site_events_police_read ON site_events")
    _insert_policy(COVERAGE)
