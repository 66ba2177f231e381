"""The rectification workflow: step plans, photos, acceptance views, extension requests,
monthly reports, renovation works, daily reminder runs.

Revision ID: 0002_workflow
Revises: 0001_ledger
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_workflow"
down_revision: str | Sequence[str] | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PHOTO_KINDS = ("before", "after", "inspection")
EXTENSION_STATUSES = ("pending", "approved", "rejected")
REPORT_STATUSES = ("draft", "submitted")


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE site_steps (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
            position integer NOT NULL,
            title varchar(100) NOT NULL,
            due_date date NOT NULL,
            done_at timestamptz,
            done_by varchar(64),
            evidence_note text NOT NULL DEFAULT '',
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL,
            CONSTRAINT uq_site_steps_site_position UNIQUE (site_id, position),
            CONSTRAINT ck_site_steps_title_nonempty CHECK (length(btrim(title)) > 0),
            CONSTRAINT ck_site_steps_done CHECK ((done_at IS NULL) = (done_by IS NULL))
        );
        -- the late steps of a day (overdue rule, reminders): a range on due_date
        CREATE INDEX ix_site_steps_open_due ON site_steps (due_date, site_id)
            WHERE done_at IS NULL;

        CREATE TABLE photos (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
            step_id bigint REFERENCES site_steps (id) ON DELETE SET NULL,
            kind varchar(16) NOT NULL,
            sha256 varchar(64) NOT NULL,
            media_type varchar(32) NOT NULL,
            size_bytes integer NOT NULL,
            width integer NOT NULL,
            height integer NOT NULL,
            original_name varchar(255) NOT NULL DEFAULT '',
            taken_at timestamptz,
            gps geometry(Point, 4326),
            gps_distance_m double precision,
            warnings jsonb NOT NULL DEFAULT '[]'::jsonb,
            uploaded_by varchar(64) NOT NULL,
            uploaded_at timestamptz NOT NULL,
            CONSTRAINT ck_photos_kind CHECK (kind IN {_in(PHOTO_KINDS)}),
            CONSTRAINT ck_photos_sha256 CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
            CONSTRAINT ck_photos_size CHECK (size_bytes > 0 AND width > 0 AND height > 0),
            CONSTRAINT uq_photos_site_kind_sha256 UNIQUE (site_id, kind, sha256)
        );
        CREATE INDEX ix_photos_site_kind ON photos (site_id, kind, uploaded_at);
        CREATE INDEX ix_photos_gps ON photos USING gist (gps);

        CREATE TABLE acceptance_views (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
            before_photo_id bigint NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
            after_photo_id bigint NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
            actor varchar(64) NOT NULL,
            viewed_at timestamptz NOT NULL
        );
        CREATE INDEX ix_acceptance_views_site ON acceptance_views (site_id, actor, viewed_at);

        CREATE TABLE extension_requests (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            site_id bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
            old_deadline date,
            new_deadline date NOT NULL,
            reason text NOT NULL,
            plan jsonb NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'pending',
            requested_by varchar(64) NOT NULL,
            requested_at timestamptz NOT NULL,
            decided_by varchar(64),
            decided_at timestamptz,
            decision_comment text NOT NULL DEFAULT '',
            CONSTRAINT ck_extension_requests_status CHECK (status IN {_in(EXTENSION_STATUSES)}),
            CONSTRAINT ck_extension_requests_reason_nonempty CHECK (length(btrim(reason)) > 0),
            CONSTRAINT ck_extension_requests_later CHECK (
                old_deadline IS NULL OR new_deadline > old_deadline),
            CONSTRAINT ck_extension_requests_decided CHECK (
                (status = 'pending') = (decided_at IS NULL))
        );
        CREATE UNIQUE INDEX uq_extension_requests_one_pending ON extension_requests (site_id)
            WHERE status = 'pending';
        CREATE INDEX ix_extension_requests_site ON extension_requests (site_id, requested_at);

        CREATE TABLE monthly_reports (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            street_id integer NOT NULL REFERENCES streets (id) ON DELETE CASCADE,
            month date NOT NULL,
            figures jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            narrative text NOT NULL DEFAULT '',
            status varchar(16) NOT NULL DEFAULT 'draft',
            saved_by varchar(64) NOT NULL,
            saved_at timestamptz NOT NULL,
            submitted_by varchar(64),
            submitted_at timestamptz,
            late boolean,
            CONSTRAINT uq_monthly_reports_street_month UNIQUE (street_id, month),
            CONSTRAINT ck_monthly_reports_status CHECK (status IN {_in(REPORT_STATUSES)}),
            CONSTRAINT ck_monthly_reports_first_day CHECK (extract(day FROM month) = 1),
            CONSTRAINT ck_monthly_reports_submitted CHECK (
                (status = 'submitted') = (submitted_at IS NOT NULL AND late IS NOT NULL))
        );
        CREATE INDEX ix_monthly_reports_month ON monthly_reports (month);

        CREATE TABLE renovation_works (
            site_id bigint PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
            district_code varchar(12) NOT NULL,
            done_on date NOT NULL,
            note text NOT NULL DEFAULT '',
            marked_by varchar(64) NOT NULL,
            marked_at timestamptz NOT NULL
        );

        CREATE TABLE daily_runs (
            id bigserial PRIMARY KEY,
            district_code varchar(12) NOT NULL,
            day date NOT NULL,
            ran_at timestamptz NOT NULL,
            actor varchar(64) NOT NULL,
            summary jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            CONSTRAINT uq_daily_runs_district_day UNIQUE (district_code, day)
        );

        -- the events the workflow reads back (transitions, reopenings, overdue records)
        CREATE INDEX ix_site_events_action_at ON site_events (action, at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX ix_site_events_action_at;
        DROP TABLE daily_runs;
        DROP TABLE renovation_works;
        DROP TABLE monthly_reports;
        DROP TABLE extension_requests;
        DROP TABLE acceptance_views;
        DROP TABLE photos;
        DROP TABLE site_steps;
        """
    )
