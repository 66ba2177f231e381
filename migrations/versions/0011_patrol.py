"""Patrols (巡查): planned patrols over an area, their stops, and the findings on the way;
and an office point per street (where a street's patrols start by default).

Who sees what (row-level security, FORCE):
- `patrols`: a street role sees its own street's patrols; the district roles see every patrol
  (also a district-wide one, street_id NULL); nobody else sees any;
- `patrol_stops`, `patrol_findings`: the rows whose site the transaction may see (the sites'
  own policies apply), for the district and street roles only.
Every insert, update and delete goes into the audit chain.

Revision ID: 0011_patrol
Revises: 0010_city_scale
Create Date: 2026-11-28
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
    protect_by_site,
    role_in,
    roles_policy,
    unaudit_table,
    unprotect,
)

revision: str = "0011_patrol"
down_revision: str | Sequence[str] | None = "0010_city_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = (*DISTRICT, *STREET)
TABLES = ("patrol_findings", "patrol_stops", "patrols")


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE streets ADD COLUMN office geometry(Point, 4326);
        ALTER TABLE streets ADD COLUMN office_address text NOT NULL DEFAULT '';
        COMMENT ON COLUMN streets.office IS
          'the street office (街道办事处): where its patrols start; NULL: a point on the street''s
           surface is used instead, shown as approximate';

        CREATE TABLE patrols (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            street_id integer REFERENCES streets (id),
            title varchar(200) NOT NULL DEFAULT '',
            area_kind varchar(16) NOT NULL,
            area geometry(Geometry, 4326) NOT NULL,
            params jsonb NOT NULL DEFAULT '{}'::jsonb,
            start_point geometry(Point, 4326) NOT NULL,
            end_point geometry(Point, 4326),
            route jsonb NOT NULL DEFAULT '{}'::jsonb,
            total_m double precision NOT NULL DEFAULT 0,
            walk_minutes double precision NOT NULL DEFAULT 0,
            bike_minutes double precision NOT NULL DEFAULT 0,
            status varchar(16) NOT NULL DEFAULT 'planned',
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_by varchar(64),
            started_at timestamptz,
            finished_by varchar(64),
            finished_at timestamptz,
            CONSTRAINT ck_patrols_area_kind
              CHECK (area_kind IN ('street', 'polygon', 'circle', 'bbox')),
            CONSTRAINT ck_patrols_status CHECK (status IN ('planned', 'active', 'finished')),
            CONSTRAINT ck_patrols_area_valid CHECK (ST_IsValid(area))
        );
        CREATE INDEX ix_patrols_street_created ON patrols (district_code, street_id, created_at);
        CREATE INDEX ix_patrols_area ON patrols USING gist (area);

        CREATE TABLE patrol_stops (
            id bigserial PRIMARY KEY,
            patrol_id bigint NOT NULL REFERENCES patrols (id) ON DELETE CASCADE,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            ord integer NOT NULL,
            priority varchar(24) NOT NULL,
            reason text NOT NULL DEFAULT '',
            visited boolean NOT NULL DEFAULT false,
            checked_at timestamptz,
            checked_by varchar(64),
            note text NOT NULL DEFAULT '',
            CONSTRAINT uq_patrol_stops_order UNIQUE (patrol_id, ord),
            CONSTRAINT uq_patrol_stops_site UNIQUE (patrol_id, site_id)
        );
        CREATE INDEX ix_patrol_stops_site ON patrol_stops (site_id, checked_at);

        CREATE TABLE patrol_findings (
            id bigserial PRIMARY KEY,
            patrol_id bigint REFERENCES patrols (id) ON DELETE SET NULL,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            action varchar(16) NOT NULL,
            geom geometry(Point, 4326) NOT NULL,
            note text NOT NULL DEFAULT '',
            duplicate_of bigint REFERENCES sites (id),
            distance_m double precision,
            override_reason text NOT NULL DEFAULT '',
            photo_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ck_patrol_findings_action
              CHECK (action IN ('created', 'attached', 'rebound'))
        );
        CREATE INDEX ix_patrol_findings_site ON patrol_findings (site_id);
        CREATE INDEX ix_patrol_findings_patrol ON patrol_findings (patrol_id);
        """
    )
    # patrols: own street for street roles; everything (district-wide ones too) for the district
    force_rls(op, "patrols")
    district = role_in(DISTRICT)
    op.execute(
        f"CREATE POLICY patrols_street ON patrols USING ({STREET_SCOPE})"
        f" WITH CHECK ({STREET_SCOPE})"
    )
    op.execute(
        f"CREATE POLICY patrols_district ON patrols USING ({district}) WITH CHECK ({district})"
    )
    roles_policy(op, "patrols", STAFF)
    grant(op, "patrols", "SELECT, INSERT, UPDATE")
    protect_by_site(op, "patrol_stops", STAFF, "SELECT, INSERT, UPDATE")
    protect_by_site(op, "patrol_findings", STAFF, "SELECT, INSERT")
    audit_table(op, "patrols", "id", ())
    audit_table(op, "patrol_stops", "id", ())
    audit_table(op, "patrol_findings", "id", ())


def downgrade() -> None:
    for table in TABLES:
        unaudit_table(op, table)
        unprotect(op, table)
    op.execute(
        """
        DROP TABLE patrol_findings;
        DROP TABLE patrol_stops;
        DROP TABLE patrols;
        ALTER TABLE streets DROP COLUMN office_address;
        ALTER TABLE streets DROP COLUMN office;
        """
    )
