"""Accounts (users, server-side sessions, API tokens, login attempts), the app's database role,
and row-level security on every table of the app (street scope, bureau views, default deny).

The tables stay owned by the migrating role; the web app connects as the role of
gis_app.core.db_security.app_role(), which owns nothing and cannot bypass row-level security.
Policies read app.role / app.street / app.user, set per transaction by the app
(gis_app.core.database):
a transaction that sets nothing sees no rows.

Revision ID: 0006_accounts
Revises: 0002_workflow
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    AUTH,
    BUREAUS,
    DISTRICT,
    OPEN_DATA,
    STREET,
    STREET_SCOPE,
    app_role,
    force_rls,
    grant,
    protect_by_site,
    protect_by_street,
    role_in,
    roles_policy,
    sql_list,
    unprotect,
)

revision: str = "0006_accounts"
down_revision: str | Sequence[str] | None = "0002_workflow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = (*DISTRICT, *STREET, *BUREAUS, *OPEN_DATA)
ALL_STREETS = (*DISTRICT, *BUREAUS, *OPEN_DATA)
SITE_STAFF = (*DISTRICT, *STREET)
#: every table of the ledger and the workflow, and what the app role may do with it
CHILD_TABLES = {
    # table: (roles that may see rows at all, privileges)
    "site_events": ((*SITE_STAFF, "bureau_housing", "bureau_police"), "SELECT, INSERT"),
    "site_steps": (SITE_STAFF, "SELECT, INSERT, UPDATE, DELETE"),
    "photos": (SITE_STAFF, "SELECT, INSERT"),
    "acceptance_views": (DISTRICT, "SELECT, INSERT"),
    "extension_requests": (SITE_STAFF, "SELECT, INSERT, UPDATE"),
    "renovation_works": ((*SITE_STAFF, "bureau_housing"), "SELECT, INSERT"),
}
ACCOUNT_TABLES = ("users", "user_sessions", "api_tokens", "login_attempts")


def _create_role() -> None:
    role = app_role()
    op.execute(
        f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
            BEGIN
              CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            EXCEPTION WHEN insufficient_privilege THEN
              RAISE EXCEPTION 'the app database role {role} does not exist and % may not create it',
                current_user
                USING HINT = 'as a superuser: CREATE ROLE {role} LOGIN PASSWORD ''...''; '
                             'then run the migration again (see README, database roles)';
            END;
          END IF;
          IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}'
                     AND (rolsuper OR rolbypassrls)) THEN
            RAISE EXCEPTION 'the app database role {role} must not be a superuser nor BYPASSRLS';
          END IF;
          IF '{role}' = current_user THEN
            RAISE EXCEPTION 'run migrations as the owner role, not as the app role {role}';
          END IF;
        END $$
        """
    )


def _access_functions() -> None:
    op.execute(
        f"""
        CREATE SCHEMA access;
        COMMENT ON SCHEMA access IS
          'row-level security helpers: what the current transaction (app.role, app.street) sees';
        CREATE FUNCTION access.app_role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
          AS $$ SELECT coalesce(current_setting('app.role', true), '') $$;
        CREATE FUNCTION access.app_street() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
          AS $$ SELECT coalesce(current_setting('app.street', true), '') $$;
        CREATE FUNCTION access.app_user() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
          AS $$ SELECT coalesce(current_setting('app.user', true), '') $$;
        -- the streets whose rows the transaction may see: all of them for district roles and
        -- the bureaus (whose rows are narrowed by their own policy), the one named by
        -- app.street for street roles, none otherwise (nothing set: nothing seen)
        CREATE FUNCTION access.visible_street_ids() RETURNS integer[]
          LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT CASE
            WHEN access.app_role() IN ({sql_list(ALL_STREETS)})
              THEN ARRAY(SELECT id FROM public.streets)
            WHEN access.app_role() IN ({sql_list(STREET)})
              THEN ARRAY(SELECT id FROM public.streets
                         WHERE code = nullif(access.app_street(), ''))
            ELSE '{{}}'::integer[]
          END $$;
        GRANT USAGE ON SCHEMA access TO {app_role()};
        """
    )


def _account_tables() -> None:
    op.execute(
        f"""
        CREATE TABLE users (
            id serial PRIMARY KEY,
            username varchar(64) NOT NULL,
            display_name varchar(64) NOT NULL,
            role varchar(32) NOT NULL,
            street_code varchar(12) REFERENCES streets (code) ON UPDATE CASCADE,
            password_hash text NOT NULL DEFAULT '',
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL,
            created_by varchar(64) NOT NULL,
            updated_at timestamptz NOT NULL,
            password_changed_at timestamptz,
            last_login_at timestamptz,
            CONSTRAINT uq_users_username UNIQUE (username),
            CONSTRAINT ck_users_username CHECK (username ~ '^[[:alnum:]_.@-]{{2,64}}$'),
            CONSTRAINT ck_users_display_name CHECK (length(btrim(display_name)) > 0),
            CONSTRAINT ck_users_role CHECK (role IN ({sql_list(ROLES)})),
            CONSTRAINT ck_users_street CHECK (
                (role IN ({sql_list(STREET)})) = (street_code IS NOT NULL))
        );

        -- server-side sessions: the cookie holds a random value, the table its SHA-256
        CREATE TABLE user_sessions (
            id_hash char(64) PRIMARY KEY,
            user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            csrf_token varchar(64) NOT NULL,
            data jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            created_at timestamptz NOT NULL,
            last_seen_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            ip varchar(64) NOT NULL DEFAULT '',
            user_agent varchar(255) NOT NULL DEFAULT ''
        );
        CREATE INDEX ix_user_sessions_user ON user_sessions (user_id);
        CREATE INDEX ix_user_sessions_expires ON user_sessions (expires_at);

        CREATE TABLE api_tokens (
            id serial PRIMARY KEY,
            user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            name varchar(100) NOT NULL,
            token_hash char(64) NOT NULL,
            prefix varchar(16) NOT NULL,
            created_at timestamptz NOT NULL,
            created_by varchar(64) NOT NULL,
            expires_at timestamptz,
            revoked_at timestamptz,
            last_used_at timestamptz,
            CONSTRAINT uq_api_tokens_token_hash UNIQUE (token_hash),
            CONSTRAINT ck_api_tokens_name CHECK (length(btrim(name)) > 0)
        );
        CREATE INDEX ix_api_tokens_user ON api_tokens (user_id);

        -- every login attempt: the rate limit counts failures here (shared by all workers)
        CREATE TABLE login_attempts (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL,
            username varchar(64) NOT NULL,
            ip varchar(64) NOT NULL,
            success boolean NOT NULL
        );
        CREATE INDEX ix_login_attempts_username_at ON login_attempts (username, at);
        CREATE INDEX ix_login_attempts_ip_at ON login_attempts (ip, at);
        """
    )


def _ledger_policies() -> None:
    role = app_role()
    for table in ("districts", "streets"):  # reference data: everyone reads, nobody writes
        grant(op, table, "SELECT")

    force_rls(op, "sites")
    op.execute(f"CREATE POLICY sites_street ON sites USING ({STREET_SCOPE})")
    op.execute(
        """
        CREATE POLICY sites_bureau_view ON sites AS RESTRICTIVE USING (
          CASE (SELECT access.app_role())
            WHEN 'bureau_civil' THEN flag_hardship
            WHEN 'bureau_housing' THEN flag_renovation
            WHEN 'bureau_police' THEN flag_obstruction
            ELSE true
          END)
        """
    )
    writers = role_in(SITE_STAFF)
    op.execute(
        f"CREATE POLICY sites_insert ON sites AS RESTRICTIVE FOR INSERT WITH CHECK ({writers})"
    )
    op.execute(
        f"CREATE POLICY sites_update ON sites AS RESTRICTIVE FOR UPDATE "
        f"USING ({writers}) WITH CHECK ({writers})"
    )
    grant(op, "sites", "SELECT, INSERT, UPDATE")  # no DELETE: sites are soft-deleted

    for table, (roles, privileges) in CHILD_TABLES.items():
        protect_by_site(op, table, roles, privileges)
    # events are written by the site's street, the district, and housing (works done)
    events_writers = role_in((*SITE_STAFF, "bureau_housing"))
    op.execute(
        f"CREATE POLICY site_events_insert ON site_events AS RESTRICTIVE FOR INSERT "
        f"WITH CHECK ({events_writers})"
    )
    protect_by_street(op, "monthly_reports", SITE_STAFF, "SELECT, INSERT, UPDATE")

    force_rls(op, "daily_runs")
    op.execute("CREATE POLICY daily_runs_all ON daily_runs USING (true)")
    roles_policy(op, "daily_runs", DISTRICT)
    grant(op, "daily_runs", "SELECT")

    force_rls(op, "import_batches")
    op.execute(
        f"CREATE POLICY import_batches_own ON import_batches USING ("
        f"{role_in(DISTRICT)} OR actor = (SELECT access.app_user()))"
    )
    roles_policy(op, "import_batches", SITE_STAFF)
    grant(op, "import_batches", "SELECT, INSERT")
    op.execute(f"COMMENT ON ROLE {role} IS 'the web app of 违建治理一张图: owns nothing'")


def _account_policies() -> None:
    me = "username = (SELECT access.app_user())"
    force_rls(op, "users")
    op.execute(
        f"CREATE POLICY users_read ON users FOR SELECT USING ({role_in((*DISTRICT, AUTH))} OR {me})"
    )
    manage = role_in(("district_admin", AUTH))
    op.execute(f"CREATE POLICY users_insert ON users FOR INSERT WITH CHECK ({manage})")
    op.execute(
        f"CREATE POLICY users_update ON users FOR UPDATE USING ({manage} OR {me}) "
        f"WITH CHECK ({manage} OR {me})"
    )
    grant(op, "users", "SELECT, INSERT, UPDATE")
    for table in ("user_sessions", "api_tokens"):
        force_rls(op, table)
        cond = role_in((AUTH, "district_admin"))
        op.execute(f"CREATE POLICY {table}_auth ON {table} USING ({cond}) WITH CHECK ({cond})")
    grant(op, "user_sessions", "SELECT, INSERT, UPDATE, DELETE")
    grant(op, "api_tokens", "SELECT, INSERT, UPDATE")
    force_rls(op, "login_attempts")
    cond = role_in((AUTH,))
    op.execute(
        f"CREATE POLICY login_attempts_auth ON login_attempts USING ({cond}) WITH CHECK ({cond})"
    )
    grant(op, "login_attempts", "SELECT, INSERT, DELETE")


def upgrade() -> None:
    _create_role()
    _access_functions()
    _account_tables()
    _ledger_policies()
    _account_policies()


def downgrade() -> None:
    for table in (
        *ACCOUNT_TABLES,
        "import_batches",
        "daily_runs",
        "monthly_reports",
        *CHILD_TABLES,
        "sites",
    ):
        unprotect(op, table)
    role = app_role()
    for table in ("districts", "streets"):
        op.execute(f"REVOKE ALL ON {table} FROM {role}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
    op.execute(
        """
        DROP TABLE login_attempts;
        DROP TABLE api_tokens;
        DROP TABLE user_sessions;
        DROP TABLE users;
        DROP SCHEMA access CASCADE;
        """
    )
    op.execute(f"REVOKE ALL ON SCHEMA public FROM {role}")
