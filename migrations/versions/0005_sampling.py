"""Spot checks: inspectors' pool, sample batches with their frames, sampled sites and results.

Revision ID: 0005_sampling
Revises: 0001_ledger
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_sampling"
down_revision: str | Sequence[str] | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE inspectors (
            id serial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            name varchar(64) NOT NULL,
            street_code varchar(12),
            active boolean NOT NULL DEFAULT true,
            created_by varchar(64) NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_inspectors_district_name UNIQUE (district_code, name),
            CONSTRAINT ck_inspectors_name_nonempty CHECK (length(btrim(name)) > 0)
        );

        CREATE TABLE sample_batches (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            title varchar(200) NOT NULL DEFAULT '',
            method varchar(16) NOT NULL,
            allocation varchar(16) NOT NULL,
            seed bigint NOT NULL,
            params jsonb NOT NULL DEFAULT '{}'::jsonb,
            frame_size integer NOT NULL,
            sample_size integer NOT NULL,
            frame_sha256 varchar(64) NOT NULL,
            balance double precision,
            balance_pielou double precision,
            srs_balance_mean double precision,
            srs_pielou_mean double precision,
            srs_draws integer,
            assignment jsonb,
            assigned_at timestamptz,
            assigned_by varchar(64),
            report_xlsx bytea,
            reported_at timestamptz,
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ck_sample_batches_method CHECK (method IN ('lpm', 'grts', 'srs')),
            CONSTRAINT ck_sample_batches_allocation CHECK (allocation IN ('proportional', 'equal')),
            CONSTRAINT ck_sample_batches_seed CHECK (seed >= 0),
            CONSTRAINT ck_sample_batches_sizes CHECK (
                sample_size > 0 AND sample_size <= frame_size)
        );
        CREATE INDEX ix_sample_batches_district_created
            ON sample_batches (district_code, created_at);

        CREATE TABLE sample_frame_units (
            batch_id bigint NOT NULL REFERENCES sample_batches (id) ON DELETE CASCADE,
            ord integer NOT NULL,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL,
            stratum varchar(12) NOT NULL,
            lon double precision NOT NULL,
            lat double precision NOT NULL,
            x double precision NOT NULL,
            y double precision NOT NULL,
            CONSTRAINT pk_sample_frame_units PRIMARY KEY (batch_id, ord)
        );

        CREATE TABLE sample_sites (
            id bigserial PRIMARY KEY,
            batch_id bigint NOT NULL REFERENCES sample_batches (id) ON DELETE CASCADE,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id),
            stratum varchar(12) NOT NULL,
            ord integer NOT NULL,
            frame_ord integer NOT NULL,
            inspector_id integer REFERENCES inspectors (id),
            result varchar(8),
            notes text NOT NULL DEFAULT '',
            photo_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
            reopened boolean NOT NULL DEFAULT false,
            inspected_at timestamptz,
            inspected_by varchar(64),
            CONSTRAINT uq_sample_sites_batch_site UNIQUE (batch_id, site_id),
            CONSTRAINT uq_sample_sites_batch_ord UNIQUE (batch_id, ord),
            CONSTRAINT ck_sample_sites_result CHECK (result IS NULL OR result IN ('pass', 'fail')),
            CONSTRAINT ck_sample_sites_inspected CHECK (
                (result IS NULL) = (inspected_at IS NULL))
        );
        CREATE INDEX ix_sample_sites_site ON sample_sites (site_id);
        CREATE INDEX ix_sample_sites_inspector ON sample_sites (inspector_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE sample_sites;
        DROP TABLE sample_frame_units;
        DROP TABLE sample_batches;
        DROP TABLE inspectors;
        """
    )
