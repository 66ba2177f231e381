"""The second wall alone: a connection as the app's database role, with app.street set to
street A, sees none of street B's rows in any table and cannot change them; with nothing set
it sees nothing at all; the role owns nothing, bypasses nothing, and cannot touch the audit
trail. No app code runs here: plain SQL as the role (SET LOCAL ROLE on the owner's
connection, inside a savepoint per attempt)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gis_app.core.db_security import app_role
from gis_app.features.photos.service import PhotoStore
from tests.support.rls import as_app
from tests.support.scope import A_POINT, B_POINT, seed_patrol, seed_street
from tests.support.workflow import DZG, ZSM

A, B = DZG, ZSM
#: reference data every role reads (street polygons, the district outline): not street-owned
# tile_versions: statement numbers per map square (migration 0080), no street data
REFERENCE = {"streets", "districts", "spatial_ref_sys", "alembic_version", "tile_versions"}
#: tables holding street A's rows once seeded (each must show A's rows to street A)
A_HAS_ROWS = {"sites", "site_events", "site_steps", "photos", "extension_requests",
              "monthly_reports", "users", "patrols", "patrol_stops",
              "patrol_findings"}  # fmt: skip


def app_tables(connection) -> list[str]:
    return sorted(
        set(
            connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
        - REFERENCE
    )


@pytest.fixture()
def seeded(db_session, connection, auth, tmp_path):
    store = PhotoStore(tmp_path / "photos")
    ids = {}
    for street, tag, point in ((A, "A", A_POINT), (B, "B", B_POINT)):
        site, *_ = seed_street(db_session, store, street, tag, point)
        seed_patrol(db_session, store, street, tag, site)
        ids[tag] = {"site": site.id, "street": street}
        auth.token(f"officer.{tag.lower()}", "street_officer", street)
    connection.execute(
        text(
            "INSERT INTO login_attempts (at, username, ip, success) "
            "VALUES (now(), 'officer.b', '10.0.0.2', false)"
        )
    )
    connection.execute(
        text(
            "INSERT INTO user_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at,"
            " expires_at) SELECT repeat('b', 64), id, 'x', now(), now(), now() + interval '1h'"
            " FROM users WHERE username = 'officer.b'"
        )
    )
    return ids


def _b_markers(connection, ids) -> list[str]:
    b_site = ids["B"]["site"]
    rows = connection.execute(
        text("SELECT code, address, person_name, person_contact, note FROM sites WHERE id = :i"),
        {"i": b_site},
    ).one()
    return [*rows, "步骤B拆除", "延期理由B保密", "月报B情况说明", "officer.b", "10.0.0.2"]


def test_the_app_role_owns_nothing_and_bypasses_nothing(connection) -> None:
    role = connection.execute(
        text("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = :r"),
        {"r": app_role()},
    ).one()
    assert tuple(role) == (False, False, False)
    owned = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE tableowner = :r"), {"r": app_role()}
    ).all()
    assert owned == []
    unforced = (
        connection.execute(
            text(
                """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND c.relname <> ALL(:ref)
              AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
            """
            ),
            {"ref": list(REFERENCE)},
        )
        .scalars()
        .all()
    )
    assert unforced == [], f"tables without FORCE ROW LEVEL SECURITY: {unforced}"
    assert connection.execute(
        text("SELECT relrowsecurity FROM pg_class WHERE oid = 'audit.events'::regclass")
    ).scalar()


def test_street_a_sees_none_of_street_b_in_any_table(connection, seeded) -> None:
    markers = _b_markers(connection, seeded)
    figures = {"tables": 0, "rows_seen": 0, "b_rows_seen": 0}
    with as_app(connection, "street_officer", A, "officer.a"):
        for table in app_tables(connection):
            rows = connection.execute(text(f"SELECT to_jsonb(t)::text FROM {table} t")).scalars()
            rows = list(rows)
            figures["tables"] += 1
            figures["rows_seen"] += len(rows)
            for row in rows:
                data = json.loads(row)
                leaked = [m for m in markers if m and m in row]
                of_b = data.get("site_id") == seeded["B"]["site"] or (
                    table == "sites" and data.get("id") == seeded["B"]["site"]
                )
                if leaked or of_b:
                    figures["b_rows_seen"] += 1
            if table in A_HAS_ROWS:
                assert rows, f"street A sees none of its own rows in {table}"
    print(f"\n[rls] street A as the app role: {figures}")
    assert figures["b_rows_seen"] == 0


def test_street_a_cannot_change_street_b(connection, seeded) -> None:
    b_site = seeded["B"]["site"]
    changes = [
        ("UPDATE sites SET note = 'x' WHERE id = :b", 0),
        ("UPDATE site_steps SET title = 'x' WHERE site_id = :b", 0),
        ("DELETE FROM site_steps WHERE site_id = :b", 0),
        ("UPDATE extension_requests SET status = 'approved' WHERE site_id = :b", 0),
        ("UPDATE monthly_reports SET narrative = 'x' WHERE street_id = "
         "(SELECT id FROM streets WHERE code = '120102003')", 0),
        ("UPDATE patrols SET title = 'x' WHERE title = '巡查B路线'", 0),
        ("UPDATE patrol_stops SET visited = true WHERE site_id = :b", 0),
    ]  # fmt: skip
    attempts = 0
    for sql, expected in changes:
        with as_app(connection, "street_officer", A, "officer.a"):
            attempts += 1
            assert connection.execute(text(sql), {"b": b_site}).rowcount == expected, sql
    refused = [
        # rows of B cannot be written at all
        "INSERT INTO site_events (district_code, site_id, actor, action) "
        "VALUES ('120102', :b, 'x', 'update')",
        "INSERT INTO photos (district_code, site_id, kind, sha256, media_type, size_bytes,"
        " width, height, uploaded_by, uploaded_at) VALUES ('120102', :b, 'before',"
        " repeat('a', 64), 'image/jpeg', 1, 1, 1, 'x', now())",
        "INSERT INTO sites (district_code, code, street_id, address, disposition, geom) "
        "SELECT '120102', 'RLS-1', id, 'x', 'demolish', ST_SetSRID(ST_MakePoint(117.262, "
        "39.101), 4326) FROM streets WHERE code = '120102003'",
        # moving A's site into B is refused by the policy's check
        "UPDATE sites SET street_id = (SELECT id FROM streets WHERE code = '120102003')",
        # no grants at all: sites are never deleted, history never rewritten
        "DELETE FROM sites WHERE id = :b",
        "UPDATE site_events SET reason = 'x'",
        "DELETE FROM site_events",
        "TRUNCATE sites CASCADE",
    ]
    for sql in refused:
        attempts += 1
        with pytest.raises(DBAPIError), as_app(connection, "street_officer", A, "officer.a"):
            connection.execute(text(sql), {"b": b_site})
    print(f"\n[rls] street A's writes on street B: {attempts} attempts, 0 rows changed")
    note = connection.execute(text("SELECT note FROM sites WHERE id = :b"), {"b": b_site})
    assert note.scalar() == "备注B内情"


def test_nothing_set_sees_nothing(connection, seeded) -> None:
    with as_app(connection):  # no app.role, no app.street: fail closed
        for table in app_tables(connection):
            count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            assert count == 0, table
        assert connection.execute(text("SELECT count(*) FROM audit.events")).scalar() == 0
    with pytest.raises(DBAPIError), as_app(connection):
        connection.execute(
            text(
                "INSERT INTO sites (district_code, code, street_id, address, disposition, geom)"
                " SELECT '120102', 'RLS-2', id, 'x', 'demolish', ST_SetSRID(ST_MakePoint("
                "117.2381, 39.11), 4326) FROM streets WHERE code = '120102002'"
            )
        )
    with as_app(connection, "street_officer", "", "x"):  # a street role without its street
        assert connection.execute(text("SELECT count(*) FROM sites")).scalar() == 0


def test_district_and_bureaus_see_what_their_role_allows(connection, seeded, db_session) -> None:
    from tests.support.workflow import make_site

    hardship = make_site(db_session, flag_hardship=True, person_name="困难户某")
    with as_app(connection, "district_officer", "", "office"):
        assert connection.execute(text("SELECT count(*) FROM sites")).scalar() == 3
        assert connection.execute(text("SELECT count(*) FROM users")).scalar() >= 2
        assert connection.execute(text("SELECT count(*) FROM user_sessions")).scalar() == 0
    with as_app(connection, "bureau_civil", "", "civil"):
        ids = connection.execute(text("SELECT id FROM sites")).scalars().all()
        assert ids == [hardship.id]
        assert connection.execute(text("SELECT count(*) FROM photos")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM monthly_reports")).scalar() == 0
    with as_app(connection, "agency", "", "agency"):
        assert connection.execute(text("SELECT count(*) FROM sites")).scalar() == 3
        assert connection.execute(text("SELECT count(*) FROM site_events")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM audit.events")).scalar() == 0


def test_the_app_role_cannot_touch_the_audit_trail(client, auth, connection, seeded) -> None:
    # a change through the app puts events in the trail (actor from app.user)
    headers = auth.headers("区办王", "district_officer")
    site_id = seeded["A"]["site"]
    version = client.get(f"/api/v1/sites/{site_id}", headers=headers).get_json()
    response = client.patch(
        f"/api/v1/sites/{site_id}",
        json={"note": "改过", "version": version["properties"]["version"]},
        headers=headers,
    )
    assert response.status_code == 200
    event = connection.execute(
        text(
            "SELECT actor, app_role, before->>'note', after->>'note' FROM audit.events "
            "WHERE table_name = 'sites' AND row_id = :i AND action = 'update' "
            "ORDER BY id DESC LIMIT 1"
        ),
        {"i": str(site_id)},
    ).one()
    assert tuple(event) == ("区办王", "district_officer", "备注A内情", "改过")
    for sql in (
        "UPDATE audit.events SET actor = 'someone else'",
        "DELETE FROM audit.events",
        "INSERT INTO audit.events (actor, app_role, table_name, action) "
        "VALUES ('x', 'x', 'sites', 'insert')",
        "TRUNCATE audit.events",
        "UPDATE audit.chain_head SET seq = 0",
        "ALTER TABLE sites DISABLE TRIGGER audit_row",
        "SET session_replication_role = replica",
        "DROP TRIGGER audit_row ON sites",
    ):
        with pytest.raises(DBAPIError), as_app(connection, "district_admin", "", "admin"):
            connection.execute(text(sql))
    with as_app(connection, "street_officer", A, "officer.a"):  # the office's reading only
        assert connection.execute(text("SELECT count(*) FROM audit.events")).scalar() == 0


def test_patrols_by_street(connection, seeded) -> None:
    """Street A sees its own patrol only; the district sees both; a bureau none."""
    query = text("SELECT title FROM patrols ORDER BY title")
    with as_app(connection, "inspector", A, "insp.a"):
        assert connection.execute(query).scalars().all() == ["巡查A路线"]
        findings = connection.execute(text("SELECT note FROM patrol_findings")).scalars().all()
        assert findings == ["发现A情况"]
    with as_app(connection, "district_officer", "", "office"):
        assert connection.execute(query).scalars().all() == ["巡查A路线", "巡查B路线"]
    with as_app(connection, "bureau_media", "", "media"):
        assert connection.execute(query).scalars().all() == []


def test_every_street_is_said_once_for_exactly_the_roles_that_see_every_street(
    connection, seeded
) -> None:
    """Migration 0210: the sites' street policy asks `sees_every_street()` first; it is true
    for exactly the roles whose visible streets are all of them, and a role that sees every
    street sees the same sites either way."""
    from gis_app.core.actor import ROLES

    streets = connection.execute(text("SELECT count(*) FROM streets")).scalar()
    for role in [*ROLES, "", "nobody"]:
        with as_app(connection, role, "120102001", "x"):
            every, visible, sites, listed = connection.execute(
                text(
                    "SELECT access.sees_every_street(),"
                    " cardinality(access.visible_street_ids()),"
                    " (SELECT count(*) FROM sites),"
                    " (SELECT count(*) FROM sites"
                    "  WHERE street_id = ANY (access.visible_street_ids()))"
                )
            ).one()
        assert every == (visible == streets), role
        assert sites == listed, role
