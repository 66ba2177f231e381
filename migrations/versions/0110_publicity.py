"""融媒体 coverage and the streets' 宣传 publicity work (plan 四(五), 六(三)).

- coverage_records: what the media centre (bureau_media) recorded: kind, date, outlet, title,
  link, summary, published flag; `street_ids` holds the streets of its links (kept by the
  service) so that the policies need no join. coverage_links: one row per linked site (with
  the site's street) or per linked street (site_id NULL).
  Who sees: the district and the media centre all; a street role the records linked to its
  street (and only its own links); the `public_page` scope (the public coverage page, no
  login) the published records and nothing else. Only the media centre writes.
- publicity_records: a street's publicity work (kind, content, place, optional point, date,
  quantity, optional photo by content hash). Who sees: the district all, a street role its own;
  only a street role writes, its own street's rows.
- site_events: the media centre may add the two coverage events (linked / unlinked) to a
  site's history, nothing else, and still reads none.
Every table is in the audit chain.

Revision ID: 0110_publicity
Revises: 0100_renovation_plans
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

revision: str = "0110_publicity"
down_revision: str | Sequence[str] | None = "0100_renovation_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEDIA = ("bureau_media",)
PUBLIC_PAGE = ("public_page",)
SITE_STAFF = (*DISTRICT, *STREET)
#: the roles that read site events before this migration (0006)
EVENT_READERS = (*SITE_STAFF, "bureau_housing", "bureau_police")
EVENT_WRITERS = (*SITE_STAFF, "bureau_housing")
COVERAGE_EVENTS = "action IN ('coverage', 'coverage_removed')"
VISIBLE_STREETS = "(SELECT access.visible_street_ids())::integer[]"


def _coverage() -> None:
    op.execute(
        """
        CREATE TABLE coverage_records (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            kind varchar(16) NOT NULL,
            published_on date NOT NULL,
            outlet varchar(100) NOT NULL,
            title varchar(200) NOT NULL,
            url varchar(2000) NOT NULL,
            summary text NOT NULL DEFAULT '',
            published boolean NOT NULL DEFAULT false,
            street_ids integer[] NOT NULL DEFAULT '{}',
            recorded_by varchar(64) NOT NULL,
            recorded_at timestamptz NOT NULL,
            updated_by varchar(64) NOT NULL,
            updated_at timestamptz NOT NULL,
            CONSTRAINT ck_coverage_kind CHECK (kind IN ('exposure', 'follow_up', 'other')),
            CONSTRAINT ck_coverage_url CHECK (url ~* '^https?://')
        );
        CREATE INDEX ix_coverage_records_date ON coverage_records (published_on DESC, id DESC);
        CREATE INDEX ix_coverage_records_streets ON coverage_records USING gin (street_ids);
        CREATE TABLE coverage_links (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            coverage_id bigint NOT NULL REFERENCES coverage_records (id) ON DELETE CASCADE,
            street_id integer NOT NULL REFERENCES streets (id),
            site_id bigint REFERENCES sites (id)
        );
        CREATE UNIQUE INDEX ux_coverage_links_site ON coverage_links (coverage_id, site_id)
          WHERE site_id IS NOT NULL;
        CREATE UNIQUE INDEX ux_coverage_links_street ON coverage_links (coverage_id, street_id)
          WHERE site_id IS NULL;
        CREATE INDEX ix_coverage_links_site ON coverage_links (site_id) WHERE site_id IS NOT NULL;
        CREATE INDEX ix_coverage_links_street ON coverage_links (street_id);
        """
    )
    media = role_in(MEDIA)
    force_rls(op, "coverage_records")
    seen = (
        f"{role_in(DISTRICT)} OR {media}"
        f" OR ({role_in(STREET)} AND street_ids && {VISIBLE_STREETS})"
        f" OR ({role_in(PUBLIC_PAGE)} AND published)"
    )
    op.execute(f"CREATE POLICY coverage_records_seen ON coverage_records FOR SELECT USING ({seen})")
    op.execute(
        f"CREATE POLICY coverage_records_add ON coverage_records FOR INSERT WITH CHECK ({media})"
    )
    op.execute(
        f"CREATE POLICY coverage_records_edit ON coverage_records FOR UPDATE"
        f" USING ({media}) WITH CHECK ({media})"
    )
    grant(op, "coverage_records", "SELECT, INSERT, UPDATE")
    audit_table(op, "coverage_records")

    force_rls(op, "coverage_links")
    links_seen = f"{role_in(DISTRICT)} OR {media} OR ({role_in(STREET)} AND {STREET_SCOPE})"
    op.execute(
        f"CREATE POLICY coverage_links_seen ON coverage_links FOR SELECT USING ({links_seen})"
    )
    op.execute(
        f"CREATE POLICY coverage_links_add ON coverage_links FOR INSERT WITH CHECK ({media})"
    )
    op.execute(f"CREATE POLICY coverage_links_drop ON coverage_links FOR DELETE USING ({media})")
    grant(op, "coverage_links", "SELECT, INSERT, DELETE")
    audit_table(op, "coverage_links")


def _publicity() -> None:
    op.execute(
        """
        CREATE TABLE publicity_records (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            kind varchar(16) NOT NULL,
            content text NOT NULL,
            place varchar(200) NOT NULL,
            geom geometry(Point, 4326),
            done_on date NOT NULL,
            quantity integer NOT NULL,
            photo_sha256 varchar(64),
            photo_media_type varchar(32),
            photo_taken_at timestamptz,
            recorded_by varchar(64) NOT NULL,
            recorded_at timestamptz NOT NULL,
            updated_by varchar(64) NOT NULL,
            updated_at timestamptz NOT NULL,
            CONSTRAINT ck_publicity_kind CHECK (
              kind IN ('banner', 'leaflet', 'board', 'screen', 'door_to_door', 'other')),
            CONSTRAINT ck_publicity_quantity CHECK (quantity BETWEEN 1 AND 1000000),
            CONSTRAINT ck_publicity_photo
              CHECK ((photo_sha256 IS NULL) = (photo_media_type IS NULL))
        );
        CREATE INDEX ix_publicity_street_date ON publicity_records (street_id, done_on);
        """
    )
    force_rls(op, "publicity_records")
    op.execute(
        f"CREATE POLICY publicity_records_street ON publicity_records USING ({STREET_SCOPE})"
    )
    roles_policy(op, "publicity_records", SITE_STAFF)
    writers = role_in(STREET)
    op.execute(
        "CREATE POLICY publicity_records_add ON publicity_records AS RESTRICTIVE FOR INSERT"
        f" WITH CHECK ({writers})"
    )
    op.execute(
        "CREATE POLICY publicity_records_edit ON publicity_records AS RESTRICTIVE FOR UPDATE"
        f" USING ({writers}) WITH CHECK ({writers})"
    )
    grant(op, "publicity_records", "SELECT, INSERT, UPDATE")
    audit_table(op, "publicity_records")


def _site_events_for_media(on: bool) -> None:
    """The media centre adds coverage events to a site's history (and reads none of it)."""
    op.execute("DROP POLICY site_events_roles ON site_events")
    op.execute("DROP POLICY site_events_insert ON site_events")
    readers = role_in(EVENT_READERS)
    if not on:
        op.execute(
            f"CREATE POLICY site_events_roles ON site_events AS RESTRICTIVE"
            f" USING ({readers}) WITH CHECK ({readers})"
        )
        op.execute(
            "CREATE POLICY site_events_insert ON site_events AS RESTRICTIVE FOR INSERT"
            f" WITH CHECK ({role_in(EVENT_WRITERS)})"
        )
        return
    op.execute(
        "CREATE POLICY site_events_roles ON site_events AS RESTRICTIVE FOR SELECT"
        f" USING ({readers})"
    )
    writers = f"{role_in(EVENT_WRITERS)} OR ({role_in(MEDIA)} AND {COVERAGE_EVENTS})"
    op.execute(
        "CREATE POLICY site_events_insert ON site_events AS RESTRICTIVE FOR INSERT"
        f" WITH CHECK ({writers})"
    )


def upgrade() -> None:
    _coverage()
    _publicity()
    _site_events_for_media(True)


def downgrade() -> None:
    _site_events_for_media(False)
    for table in ("publicity_records", "coverage_links", "coverage_records"):
        unaudit_table(op, table)
        unprotect(op, table)
        op.execute(f"DROP TABLE {table}")
