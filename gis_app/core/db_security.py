"""The database's own wall: the app's role, row-level security and the audit triggers.

Migrations call these helpers so that every table of the app is protected the same way, and a
table added later (patrols, samples, ...) is one call away from it:

    protect_by_site(op, "patrol_findings", READERS_SITE_CHILD, writes="SELECT, INSERT")
    audit_table(op, "patrol_findings")

The app connects as a role that owns nothing and cannot bypass row-level security (the
APP_ROLE below, `gis_app_web` unless GIS_APP_DB_APP_ROLE says otherwise). Per transaction the
app sets `app.role`, `app.street` and `app.user` (gis_app.core.database); the policies read
them through
the functions in the `access` schema, so a transaction that sets nothing sees no rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any, Final

DEFAULT_APP_ROLE: Final = "gis_app_web"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

DISTRICT: Final = ("district_admin", "district_officer")
STREET: Final = ("street_officer", "inspector")
BUREAUS: Final = ("bureau_civil", "bureau_housing", "bureau_police")
OPEN_DATA: Final = ("bureau_media", "agency")
#: the pseudo-role of the authentication step (before anyone is known): reads accounts only
AUTH: Final = "auth"


def app_role() -> str:
    """The database role the web app connects as (never the owner of the tables).

    Read here, not from gis_app.settings (which declares and validates it too): migrations and
    the local database set-up need it before the app's settings are loaded."""
    name = (os.environ.get("GIS_APP_DB_APP_ROLE") or DEFAULT_APP_ROLE).strip()
    if not valid_role_name(name):
        raise ValueError(f"GIS_APP_DB_APP_ROLE is not a plain lower-case identifier: {name!r}")
    return name


def valid_role_name(name: str) -> bool:
    """A plain lower-case identifier (safe to put into SQL unquoted)."""
    return bool(_IDENT.fullmatch(name))


def sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def role_in(roles: Iterable[str]) -> str:
    """A policy condition on the transaction's app.role, evaluated once per statement."""
    return f"(SELECT access.app_role()) IN ({sql_list(roles)})"


#: the visible streets, as an InitPlan (evaluated once per statement; index-friendly)
STREET_SCOPE: Final = "street_id = ANY ((SELECT access.visible_street_ids())::integer[])"
#: rows of a child table are visible when their site is (the site's own policies apply)
SITE_SCOPE: Final = "EXISTS (SELECT 1 FROM sites s WHERE s.id = {table}.site_id)"


def _exec(op: Any, sql: str) -> None:
    op.execute(sql)


def force_rls(op: Any, table: str) -> None:
    _exec(op, f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    _exec(op, f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def grant(op: Any, table: str, privileges: str) -> None:
    """Table privileges for the app role, and its sequences' use for inserts."""
    role = app_role()
    _exec(op, f"GRANT {privileges} ON {table} TO {role}")
    if "INSERT" in privileges:
        each_sequence(op, table, f"GRANT USAGE ON SEQUENCE %s TO {role}")


def each_sequence(op: Any, table: str, statement: str) -> None:
    """Run `statement` (its %s: the sequence) on each serial sequence of the table."""
    _exec(
        op,
        f"""
        DO $$
        DECLARE seq text;
        BEGIN
          FOR seq IN SELECT pg_get_serial_sequence('{table}', a.attname)
                     FROM pg_attribute a
                     WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0
                       AND NOT a.attisdropped
                       AND pg_get_serial_sequence('{table}', a.attname) IS NOT NULL
          LOOP
            EXECUTE format('{statement}', seq);
          END LOOP;
        END $$
        """,
    )


def roles_policy(op: Any, table: str, roles: Iterable[str], name: str = "roles") -> None:
    """Only these app roles may touch the table at all (a restrictive policy)."""
    cond = role_in(roles)
    _exec(
        op,
        f"CREATE POLICY {table}_{name} ON {table} AS RESTRICTIVE "
        f"USING ({cond}) WITH CHECK ({cond})",
    )


def protect_by_street(op: Any, table: str, roles: Iterable[str], privileges: str) -> None:
    """A table with its own street_id: rows of the visible streets, for these roles."""
    force_rls(op, table)
    _exec(op, f"CREATE POLICY {table}_street ON {table} USING ({STREET_SCOPE})")
    roles_policy(op, table, roles)
    grant(op, table, privileges)


def protect_by_site(op: Any, table: str, roles: Iterable[str], privileges: str) -> None:
    """A table with a site_id: rows whose site the transaction may see, for these roles."""
    force_rls(op, table)
    _exec(op, f"CREATE POLICY {table}_site ON {table} USING ({SITE_SCOPE.format(table=table)})")
    roles_policy(op, table, roles)
    grant(op, table, privileges)


def unprotect(op: Any, table: str) -> None:
    """Undo the above (downgrades): policies, RLS and the app role's privileges."""
    _exec(
        op,
        f"""
        DO $$
        DECLARE p text;
        BEGIN
          FOR p IN SELECT policyname FROM pg_policies
                   WHERE schemaname = 'public' AND tablename = '{table}'
          LOOP
            EXECUTE format('DROP POLICY %I ON {table}', p);
          END LOOP;
        END $$
        """,
    )
    _exec(op, f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    _exec(op, f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    _exec(op, f"REVOKE ALL ON {table} FROM {app_role()}")


def audit_table(op: Any, table: str, key: str = "id", masked: tuple[str, ...] = ()) -> None:
    """Every insert, update and delete of `table` goes into the audit chain (0007_audit)."""
    args = ", ".join(f"'{a}'" for a in (key, *masked))
    _exec(
        op,
        f"CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION audit.record_row({args})",
    )
    _exec(
        op,
        f"CREATE TRIGGER audit_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION audit.record_truncate()",
    )


def unaudit_table(op: Any, table: str) -> None:
    _exec(op, f"DROP TRIGGER IF EXISTS audit_row ON {table}")
    _exec(op, f"DROP TRIGGER IF EXISTS audit_truncate ON {table}")
