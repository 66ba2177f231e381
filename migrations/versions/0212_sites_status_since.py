"""When each site entered its status, stored: the to-do list's sites awaiting acceptance, the
longest waiting first, without finding every such site's last move.

Revision ID: 0212_sites_status_since
Revises: 0211_site_steps_open
Create Date: 2026-12-06

The list looked up, for every site awaiting acceptance, its latest transition into that status
and sorted them all to show 20: at a million sites (100,000 awaiting) 0.2-0.4 s of every
district page with the list (the map's too). `status_since` is set by each transition from now
on (the workflow), filled here from the sites' transitions (NULL where there is none: an
imported or bulk-loaded site, shown first as before), and indexed by status in that order.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0212_sites_status_since"
down_revision: str | Sequence[str] | None = "0211_site_steps_open"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE sites ADD COLUMN status_since timestamptz")
    # the audit trail records changes people make, not this column's first filling
    op.execute("ALTER TABLE sites DISABLE TRIGGER USER")
    op.execute(
        """
        UPDATE sites s SET status_since = e.at
        FROM (SELECT DISTINCT ON (site_id) site_id, at, changes->'status'->>1 AS status
              FROM site_events WHERE action = 'transition'
              ORDER BY site_id, at DESC, id DESC) e
        WHERE e.site_id = s.id AND e.status = s.status
        """
    )
    op.execute("ALTER TABLE sites ENABLE TRIGGER USER")
    op.execute(
        "CREATE INDEX ix_sites_status_since ON sites (status, status_since NULLS FIRST, code)"
        " WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_sites_status_since")
    op.execute("ALTER TABLE sites DROP COLUMN status_since")
