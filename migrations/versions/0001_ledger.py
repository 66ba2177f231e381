"""The district ledger: districts, streets, sites, their history and import batches.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0001_ledger"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("new", "registered", "in_progress", "awaiting_acceptance", "closed")
DISPOSITIONS = ("demolish", "rectify")
KINDS = ("rooftop", "courtyard", "extension", "steel_shed", "enclosure", "storefront", "other")
SOURCES = ("ledger", "manual", "patrol")


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(
        """
        CREATE TABLE districts (
            code varchar(12) PRIMARY KEY,
            name varchar(64) NOT NULL,
            geom geometry(MultiPolygon, 4326) NOT NULL,
            source text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ck_districts_geom_valid CHECK (ST_IsValid(geom))
        );
        CREATE INDEX ix_districts_geom ON districts USING gist (geom);

        CREATE TABLE streets (
            id serial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            code varchar(12) NOT NULL,
            name varchar(64) NOT NULL,
            name_en varchar(128) NOT NULL DEFAULT '',
            approximate boolean NOT NULL DEFAULT false,
            source text NOT NULL DEFAULT '',
            geom geometry(MultiPolygon, 4326) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_streets_code UNIQUE (code),
            CONSTRAINT ck_streets_code_digits CHECK (code ~ '^([0-9]{9}|[0-9]{12})$'),
            CONSTRAINT ck_streets_name_nonempty CHECK (length(btrim(name)) > 0),
            CONSTRAINT ck_streets_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
        );
        CREATE INDEX ix_streets_geom ON streets USING gist (geom);
        CREATE INDEX ix_streets_district_code ON streets (district_code);

        CREATE TABLE import_batches (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            filename text NOT NULL,
            sha256 varchar(64) NOT NULL,
            file_format varchar(16) NOT NULL,
            rows integer NOT NULL,
            actor varchar(64) NOT NULL,
            at timestamptz NOT NULL DEFAULT now()
        );
        """
    )
    op.execute(
        f"""
        CREATE TABLE sites (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            code varchar(64) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id),
            address text NOT NULL,
            community varchar(64) NOT NULL DEFAULT '',
            kind varchar(32) NOT NULL DEFAULT 'other',
            area_m2 numeric(10, 2),
            person_name varchar(64) NOT NULL DEFAULT '',
            person_contact varchar(64) NOT NULL DEFAULT '',
            disposition varchar(16) NOT NULL,
            flag_central_inspection boolean NOT NULL DEFAULT false,
            flag_hardship boolean NOT NULL DEFAULT false,
            flag_renovation boolean NOT NULL DEFAULT false,
            flag_obstruction boolean NOT NULL DEFAULT false,
            committed_deadline date,
            current_deadline date,
            status varchar(24) NOT NULL DEFAULT 'registered',
            source varchar(16) NOT NULL DEFAULT 'manual',
            note text NOT NULL DEFAULT '',
            geom geometry(Point, 4326) NOT NULL,
            import_batch_id bigint REFERENCES import_batches (id),
            version integer NOT NULL DEFAULT 1,
            created_by varchar(64) NOT NULL DEFAULT '',
            updated_by varchar(64) NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            deleted_at timestamptz,
            deleted_by varchar(64),
            deleted_reason text,
            CONSTRAINT ck_sites_status CHECK (status IN {_in(STATUSES)}),
            CONSTRAINT ck_sites_disposition CHECK (disposition IN {_in(DISPOSITIONS)}),
            CONSTRAINT ck_sites_kind CHECK (kind IN {_in(KINDS)}),
            CONSTRAINT ck_sites_source CHECK (source IN {_in(SOURCES)}),
            CONSTRAINT ck_sites_code_nonempty CHECK (length(btrim(code)) > 0),
            CONSTRAINT ck_sites_address_nonempty CHECK (length(btrim(address)) > 0),
            CONSTRAINT ck_sites_area_positive CHECK (area_m2 IS NULL OR area_m2 > 0),
            CONSTRAINT ck_sites_version_positive CHECK (version > 0),
            CONSTRAINT ck_sites_lonlat CHECK (
                ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90),
            CONSTRAINT ck_sites_deleted_reason CHECK (
                deleted_at IS NULL OR length(btrim(coalesce(deleted_reason, ''))) > 0)
        );
        CREATE INDEX ix_sites_geom ON sites USING gist (geom);
        CREATE UNIQUE INDEX uq_sites_live_code ON sites (district_code, code)
            WHERE deleted_at IS NULL;
        CREATE INDEX ix_sites_street_status ON sites (street_id, status)
            WHERE deleted_at IS NULL;
        CREATE INDEX ix_sites_current_deadline ON sites (current_deadline)
            WHERE deleted_at IS NULL;

        CREATE TABLE site_events (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            at timestamptz NOT NULL DEFAULT now(),
            actor varchar(64) NOT NULL,
            action varchar(32) NOT NULL,
            reason text NOT NULL DEFAULT '',
            changes jsonb NOT NULL DEFAULT '{{}}'::jsonb
        );
        CREATE INDEX ix_site_events_site_at ON site_events (site_id, at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE site_events;
        DROP TABLE sites;
        DROP TABLE import_batches;
        DROP TABLE streets;
        DROP TABLE districts;
        """
    )
