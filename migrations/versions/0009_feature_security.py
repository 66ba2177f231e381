"""Spot checks behind the database's wall: row-level security, the app role's grants and the
audit trail on the sampling tables (built before accounts existed), and the link from the
inspectors' pool to the inspectors' logins.

Who sees what:
- district roles: every row of every sampling table, and they alone write the pool, the
  batches and their frames;
- an inspector (role `inspector`): the pool entry linked to his or her login
  (`inspectors.user_id`), the sampled sites assigned to that entry (and their batches and
  frame units), and records their results: only the result columns, only once
  (trigger `sample_result_guard`);
- the open-data roles (bureau_media, agency): the batches and sampled sites, read-only, for
  the published summary (双随机一公开; the service shows no names, notes nor persons);
- an inspector who records a result sees the sampled site itself while its result is open,
  and may reopen it when it fails, although it lies in another street: the narrowest rule on
  `sites` that allows it (`sites_spot_check`, `sites_spot_check_update`); once the result is
  recorded the site is out of sight again.

Revision ID: 0009_feature_security
Revises: 0007_audit, 0008_merge_features
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    OPEN_DATA,
    app_role,
    audit_table,
    each_sequence,
    force_rls,
    grant,
    role_in,
    roles_policy,
    unaudit_table,
    unprotect,
)

revision: str = "0009_feature_security"
down_revision: str | Sequence[str] | None = ("0007_audit", "0008_merge_features")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSPECTOR = ("inspector",)
#: table: (audit key, masked columns); the archived report is kept out of the trail (only
#: its fingerprint goes in: the trail would otherwise copy every workbook)
AUDITED: dict[str, tuple[str, tuple[str, ...]]] = {
    "inspectors": ("id", ()),
    "sample_batches": ("id", ("report_xlsx",)),
    "sample_frame_units": ("batch_id", ()),
    "sample_sites": ("id", ()),
}
TABLES = tuple(AUDITED)
IS_INSPECTOR = "(SELECT access.app_role()) = 'inspector'"


def _functions() -> None:
    op.execute(
        """
        -- the logged-in user's id (app.user is the username; users' own policy lets each
        -- user read his or her own row)
        CREATE FUNCTION access.app_user_id() RETURNS integer
          LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT id FROM public.users WHERE username = nullif(access.app_user(), '') $$;
        -- the pool entries of the logged-in inspector (none for every other role)
        CREATE FUNCTION access.my_inspector_ids() RETURNS integer[]
          LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT CASE WHEN access.app_role() = 'inspector'
            THEN ARRAY(SELECT id FROM public.inspectors WHERE user_id = access.app_user_id())
            ELSE '{}'::integer[] END $$;
        -- the sites whose spot-check result the logged-in inspector still has to record
        CREATE FUNCTION access.spot_check_site_ids() RETURNS bigint[]
          LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT CASE WHEN access.app_role() = 'inspector'
            THEN ARRAY(SELECT site_id FROM public.sample_sites
                       WHERE result IS NULL AND inspector_id = ANY (access.my_inspector_ids()))
            ELSE '{}'::bigint[] END $$;
        """
    )


def _pool_link() -> None:
    op.execute(
        """
        ALTER TABLE inspectors ADD COLUMN user_id integer REFERENCES users (id);
        ALTER TABLE inspectors ADD CONSTRAINT uq_inspectors_user UNIQUE (user_id);
        COMMENT ON COLUMN inspectors.user_id IS
          'the login of this inspector (role inspector); NULL: results are entered by the office';
        """
    )


def _district_all(table: str) -> None:
    district = role_in(DISTRICT)
    op.execute(
        f"CREATE POLICY {table}_district ON {table} USING ({district}) WITH CHECK ({district})"
    )


def _policies() -> None:
    mine = "user_id = (SELECT access.app_user_id())"
    assigned = "inspector_id = ANY ((SELECT access.my_inspector_ids())::integer[])"

    force_rls(op, "inspectors")
    _district_all("inspectors")
    op.execute(
        f"CREATE POLICY inspectors_own ON inspectors FOR SELECT USING ({IS_INSPECTOR} AND {mine})"
    )
    roles_policy(op, "inspectors", (*DISTRICT, *INSPECTOR))
    grant(op, "inspectors", "SELECT, INSERT, UPDATE")

    force_rls(op, "sample_sites")
    _district_all("sample_sites")
    op.execute(
        f"CREATE POLICY sample_sites_published ON sample_sites FOR SELECT "
        f"USING ({role_in(OPEN_DATA)})"
    )
    op.execute(
        f"CREATE POLICY sample_sites_assigned ON sample_sites FOR SELECT "
        f"USING ({IS_INSPECTOR} AND {assigned})"
    )
    op.execute(
        f"CREATE POLICY sample_sites_result ON sample_sites FOR UPDATE "
        f"USING ({IS_INSPECTOR} AND {assigned}) WITH CHECK ({IS_INSPECTOR} AND {assigned})"
    )
    roles_policy(op, "sample_sites", (*DISTRICT, *OPEN_DATA, *INSPECTOR))
    grant(op, "sample_sites", "SELECT, INSERT, UPDATE")
    op.execute(
        """
        CREATE FUNCTION access.sample_result_guard() RETURNS trigger
          LANGUAGE plpgsql AS $$
        BEGIN
          IF access.app_role() = 'inspector' THEN
            IF OLD.result IS NOT NULL THEN
              RAISE EXCEPTION 'spot-check result of sampled site % is recorded already', OLD.id
                USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF (NEW.id, NEW.batch_id, NEW.district_code, NEW.site_id, NEW.stratum, NEW.ord,
                NEW.frame_ord, NEW.inspector_id)
               IS DISTINCT FROM (OLD.id, OLD.batch_id, OLD.district_code, OLD.site_id,
                                 OLD.stratum, OLD.ord, OLD.frame_ord, OLD.inspector_id) THEN
              RAISE EXCEPTION 'an inspector records results only (sampled site %)', OLD.id
                USING ERRCODE = 'insufficient_privilege';
            END IF;
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER sample_result_guard BEFORE UPDATE ON sample_sites
          FOR EACH ROW EXECUTE FUNCTION access.sample_result_guard();
        """
    )

    own_batch = "EXISTS (SELECT 1 FROM sample_sites s WHERE s.batch_id = sample_batches.id)"
    force_rls(op, "sample_batches")
    _district_all("sample_batches")
    op.execute(
        f"CREATE POLICY sample_batches_published ON sample_batches FOR SELECT "
        f"USING ({role_in(OPEN_DATA)})"
    )
    op.execute(
        f"CREATE POLICY sample_batches_assigned ON sample_batches FOR SELECT "
        f"USING ({IS_INSPECTOR} AND {own_batch})"
    )
    roles_policy(op, "sample_batches", (*DISTRICT, *OPEN_DATA, *INSPECTOR))
    grant(op, "sample_batches", "SELECT, INSERT, UPDATE")

    own_unit = (
        "EXISTS (SELECT 1 FROM sample_sites s WHERE s.batch_id = sample_frame_units.batch_id"
        " AND s.frame_ord = sample_frame_units.ord)"
    )
    force_rls(op, "sample_frame_units")
    _district_all("sample_frame_units")
    op.execute(
        f"CREATE POLICY sample_frame_units_assigned ON sample_frame_units FOR SELECT "
        f"USING ({IS_INSPECTOR} AND {own_unit})"
    )
    roles_policy(op, "sample_frame_units", (*DISTRICT, *INSPECTOR))
    grant(op, "sample_frame_units", "SELECT, INSERT")

    # the sampled site of another street, while its result is open: seen, and reopened on a fail
    pending = "id = ANY ((SELECT access.spot_check_site_ids())::bigint[])"
    op.execute(f"CREATE POLICY sites_spot_check ON sites FOR SELECT USING ({pending})")
    op.execute(
        f"CREATE POLICY sites_spot_check_update ON sites FOR UPDATE "
        f"USING ({pending}) WITH CHECK ({pending})"
    )


def upgrade() -> None:
    _pool_link()
    _functions()
    _policies()
    for table, (key, masked) in AUDITED.items():
        audit_table(op, table, key, masked)


def downgrade() -> None:
    role = app_role()
    for table in TABLES:
        unaudit_table(op, table)
    op.execute("DROP POLICY sites_spot_check_update ON sites")
    op.execute("DROP POLICY sites_spot_check ON sites")
    op.execute("DROP TRIGGER sample_result_guard ON sample_sites")
    op.execute("DROP FUNCTION access.sample_result_guard()")
    for table in TABLES:
        unprotect(op, table)
        each_sequence(op, table, f"REVOKE ALL ON SEQUENCE %s FROM {role}")
    op.execute(
        """
        DROP FUNCTION access.spot_check_site_ids();
        DROP FUNCTION access.my_inspector_ids();
        DROP FUNCTION access.app_user_id();
        ALTER TABLE inspectors DROP COLUMN user_id;
        """
    )
