"""The second wall on spot checks, alone: plain SQL as the app's database role (no app code).

Street A's inspector is assigned one sampled site of street B. As that inspector the database
shows the pool entry of the login, the sampled sites assigned to it (their batch, their frame
units), and street B's site only while its result is open, so that a fail can reopen it; no
other site of street B, no other assignment, no other pool entry; and only the result columns
of an assignment can be written, once. The open-data roles read batches and sampled sites for
the published summary; street officers and the bureaus see nothing of spot checks.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.rls import as_app
from tests.support.workflow import DZG, ZSM, make_site

A, B = DZG, ZSM
B_POINTS = [(117.2620, 39.1010), (117.2630, 39.1015), (117.2610, 39.1005)]
SAMPLING = ("inspectors", "sample_batches", "sample_frame_units", "sample_sites")


@pytest.fixture()
def spot(db_session, connection, auth):
    """A batch of street B's closed sites: one assigned to street A's inspector (`mine`), one
    to another inspector (`theirs`); a third site of B is not sampled (`unsampled`)."""
    ids = {}
    for key, (lon, lat) in zip(("mine", "theirs", "unsampled"), B_POINTS, strict=True):
        ids[key] = make_site(db_session, lon=lon, lat=lat, status="closed").id
    ids["own_street"] = make_site(db_session).id  # street A's
    me = auth.user("insp.a", "inspector", A)
    other = auth.user("insp.c", "inspector", "120102004")
    pool = {}
    for name, user_id, street in (("甲", me, A), ("丙", other, "120102004")):
        pool[name] = connection.execute(
            text(
                "INSERT INTO inspectors (district_code, name, street_code, user_id, created_by)"
                " VALUES ('120102', :n, :s, :u, 'test') RETURNING id"
            ),
            {"n": name, "s": street, "u": user_id},
        ).scalar_one()
    batch = connection.execute(
        text(
            "INSERT INTO sample_batches (district_code, method, allocation, seed, frame_size,"
            " sample_size, frame_sha256, created_by) VALUES ('120102', 'srs', 'proportional',"
            " 1, 3, 2, repeat('0', 64), 'office') RETURNING id"
        )
    ).scalar_one()
    for ord_, key in enumerate(("mine", "theirs", "unsampled"), start=1):
        lon, lat = B_POINTS[ord_ - 1]
        connection.execute(
            text(
                "INSERT INTO sample_frame_units (batch_id, ord, district_code, site_id, stratum,"
                " lon, lat, x, y) VALUES (:b, :o, '120102', :s, :st, :lon, :lat, 0, 0)"
            ),
            {"b": batch, "o": ord_, "s": ids[key], "st": B, "lon": lon, "lat": lat},
        )
    samples = {}
    for ord_, (key, inspector) in enumerate((("mine", "甲"), ("theirs", "丙")), start=1):
        samples[key] = connection.execute(
            text(
                "INSERT INTO sample_sites (batch_id, district_code, site_id, stratum, ord,"
                " frame_ord, inspector_id) VALUES (:b, '120102', :s, :st, :o, :o, :i)"
                " RETURNING id"
            ),
            {"b": batch, "s": ids[key], "st": B, "o": ord_, "i": pool[inspector]},
        ).scalar_one()
    return {"site": ids, "pool": pool, "batch": batch, "sample": samples}


def _ids(connection, sql: str, **params) -> set[int]:
    return set(connection.execute(text(sql), params).scalars())


def test_the_inspector_sees_the_assigned_site_and_nothing_else_of_street_b(
    connection, spot
) -> None:
    site, sample = spot["site"], spot["sample"]
    with as_app(connection, "inspector", A, "insp.a"):
        assert _ids(connection, "SELECT id FROM sites") == {site["mine"], site["own_street"]}
        assert _ids(connection, "SELECT id FROM sample_sites") == {sample["mine"]}
        assert _ids(connection, "SELECT id FROM inspectors") == {spot["pool"]["甲"]}
        assert _ids(connection, "SELECT id FROM sample_batches") == {spot["batch"]}
        assert _ids(connection, "SELECT site_id FROM sample_frame_units") == {site["mine"]}
        # events, photos, steps of the other sites of street B stay out of sight too
        assert not _ids(
            connection,
            "SELECT site_id FROM site_events WHERE site_id IN (:t, :u)",
            t=site["theirs"],
            u=site["unsampled"],
        )


def test_the_inspector_cannot_change_any_other_site_of_street_b(connection, spot) -> None:
    site, sample = spot["site"], spot["sample"]
    attempts = [
        ("UPDATE sites SET note = 'x' WHERE id = :i", site["theirs"]),
        ("UPDATE sites SET status = 'in_progress' WHERE id = :i", site["unsampled"]),
        ("UPDATE sample_sites SET result = 'pass', inspected_at = now() WHERE id = :i",
         sample["theirs"]),
        ("UPDATE inspectors SET active = false WHERE id = :i", spot["pool"]["丙"]),
        ("UPDATE inspectors SET active = false WHERE id = :i", spot["pool"]["甲"]),
        ("UPDATE sample_batches SET title = 'x' WHERE id = :i", spot["batch"]),
    ]  # fmt: skip
    for sql, target in attempts:
        with as_app(connection, "inspector", A, "insp.a"):
            assert connection.execute(text(sql), {"i": target}).rowcount == 0, sql
    refused = [
        # an assignment's own columns are not the inspector's to change
        ("UPDATE sample_sites SET inspector_id = :other WHERE id = :i", sample["mine"]),
        ("UPDATE sample_sites SET site_id = :t WHERE id = :i", sample["mine"]),
        ("INSERT INTO sample_sites (batch_id, district_code, site_id, stratum, ord, frame_ord,"
         " inspector_id) SELECT batch_id, district_code, :t, stratum, 9, 9, inspector_id"
         " FROM sample_sites WHERE id = :i", sample["mine"]),
        ("INSERT INTO inspectors (district_code, name, created_by) VALUES ('120102', 'x', 'x')",
         0),
        ("INSERT INTO sample_batches (district_code, method, allocation, seed, frame_size,"
         " sample_size, frame_sha256, created_by) VALUES ('120102', 'srs', 'equal', 1, 1, 1,"
         " repeat('0', 64), 'x')", 0),
        ("DELETE FROM sample_sites WHERE id = :i", sample["mine"]),
        # a site of B that is not its assignment cannot be reached by moving a site either
        ("UPDATE sites SET street_id = (SELECT id FROM streets WHERE code = '120102003')"
         " WHERE id = :own", 0),
    ]  # fmt: skip
    for sql, target in refused:
        with pytest.raises(DBAPIError), as_app(connection, "inspector", A, "insp.a"):
            connection.execute(
                text(sql),
                {
                    "i": target,
                    "t": site["theirs"],
                    "other": spot["pool"]["丙"],
                    "own": site["own_street"],
                },
            )
    status = connection.execute(
        text("SELECT status FROM sites WHERE id IN (:t, :u)"),
        {"t": site["theirs"], "u": site["unsampled"]},
    ).scalars()
    assert set(status) == {"closed"}


def test_a_fail_reopens_the_assigned_site_then_it_is_out_of_sight(connection, spot) -> None:
    site, sample = spot["site"], spot["sample"]
    with as_app(connection, "inspector", A, "insp.a"):
        reopened = connection.execute(
            text("UPDATE sites SET status = 'in_progress', version = version + 1 WHERE id = :i"),
            {"i": site["mine"]},
        )
        assert reopened.rowcount == 1
        connection.execute(
            text(
                "INSERT INTO site_events (district_code, site_id, actor, action, reason)"
                " VALUES ('120102', :i, 'insp.a', 'reopen', '抽查不合格')"
            ),
            {"i": site["mine"]},
        )
        recorded = connection.execute(
            text(
                "UPDATE sample_sites SET result = 'fail', notes = '未拆除', inspected_at = now(),"
                " inspected_by = 'insp.a', reopened = true WHERE id = :i"
            ),
            {"i": sample["mine"]},
        )
        assert recorded.rowcount == 1
        # the result is in: street B's site is out of sight and out of reach again
        assert _ids(connection, "SELECT id FROM sites") == {site["own_street"]}
        changed = connection.execute(
            text("UPDATE sites SET note = 'x' WHERE id = :i"), {"i": site["mine"]}
        )
        assert changed.rowcount == 0
        assert _ids(connection, "SELECT id FROM sample_sites") == {sample["mine"]}
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError, match="recorded already"):
            connection.execute(
                text("UPDATE sample_sites SET result = 'pass' WHERE id = :i"),
                {"i": sample["mine"]},
            )
        savepoint.rollback()


def test_other_roles_see_what_spot_checks_give_them(connection, spot) -> None:
    counts = "SELECT (SELECT count(*) FROM {})"
    for role, street, visible in (
        ("street_officer", A, set()),
        ("street_officer", B, set()),
        ("inspector", B, set()),  # an inspector without a pool entry
        ("bureau_civil", "", set()),
        ("bureau_police", "", set()),
        ("agency", "", {"sample_batches", "sample_sites"}),
        ("bureau_media", "", {"sample_batches", "sample_sites"}),
        ("district_officer", "", set(SAMPLING)),
        ("", "", set()),
    ):
        with as_app(connection, role, street, f"someone.{role}"):
            seen = {t for t in SAMPLING if connection.execute(text(counts.format(t))).scalar()}
            assert seen == visible, role
            if role == "street_officer" and street == A:
                # the assigned site of street B is an inspector's exception, not a street's
                mine = connection.execute(
                    text("SELECT count(*) FROM sites WHERE id = :i"), {"i": spot["site"]["mine"]}
                )
                assert mine.scalar() == 0
    for role in ("agency", "bureau_media"):
        with as_app(connection, role, "", "x"):
            changed = connection.execute(
                text("UPDATE sample_sites SET notes = 'x' WHERE id = :i"),
                {"i": spot["sample"]["mine"]},
            )
            assert changed.rowcount == 0
