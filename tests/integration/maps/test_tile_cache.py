"""Tiles that are cached and still correct: an ETag per tile, 304 while nothing in it changed,
a new tile as soon as a site in it changes (edited, moved in or out, deleted, its plan late)."""

from __future__ import annotations

import pytest

from gis_app.features.maps import tile_cache
from tests.integration.maps.test_tiles import create, decode, tile_of

Z = 17
HERE = (117.2381, 39.11)
ELSEWHERE = (117.2700, 39.0950)  # another zoom-14 square


@pytest.fixture()
def client(client, auth):
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + auth.token("tiles", "district_officer")
    return client


def get(client, lon_lat, etag: str | None = None, z: int = Z, query: str = "", **headers):
    x, y, _, _ = tile_of(*lon_lat, z)
    if etag is not None:
        headers["If-None-Match"] = f'"{etag}"'
    return client.get(f"/tiles/sites/{z}/{x}/{y}.mvt{query}", headers=headers)


def etag_of(response) -> str:
    etag, weak = response.get_etag()
    assert etag and not weak
    return etag


def patch(client, site: dict, **changes) -> dict:
    response = client.patch(
        f"/api/v1/sites/{site['id']}",
        json={**changes, "version": site["properties"]["version"], "reason": "测试"},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_unchanged_tile_is_304_and_an_edited_site_changes_its_tile(client) -> None:
    site = create(client, code="ETAG-1", lon=HERE[0], lat=HERE[1], disposition="rectify")
    first = get(client, HERE)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = etag_of(first)
    assert [f["properties"]["d"] for f in decode(first.data)] == ["rectify"]
    again = get(client, HERE, etag)
    assert again.status_code == 304 and again.data == b""
    assert etag_of(again) == etag
    # an edit of a site elsewhere leaves this tile as it is
    other = create(client, code="ETAG-2", lon=ELSEWHERE[0], lat=ELSEWHERE[1], disposition="rectify")
    assert get(client, HERE, etag).status_code == 304
    # the site is edited: the tile changes at once (no max-age, no stale cached bytes)
    site = patch(client, site, disposition="demolish")
    changed = get(client, HERE, etag)
    assert changed.status_code == 200
    assert etag_of(changed) != etag
    assert [f["properties"]["d"] for f in decode(changed.data)] == ["demolish"]
    etag = etag_of(changed)
    # a site moved into the tile from elsewhere changes it too
    patch(client, other, lon=HERE[0] + 0.00005, lat=HERE[1])
    moved_in = get(client, HERE, etag)
    assert moved_in.status_code == 200
    assert sorted(f["properties"]["d"] for f in decode(moved_in.data)) == ["demolish", "rectify"]
    etag = etag_of(moved_in)
    # and so does a deletion
    response = client.delete(
        f"/api/v1/sites/{site['id']}",
        json={"reason": "重复", "version": site["properties"]["version"]},
    )
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    gone = get(client, HERE, etag)
    assert gone.status_code == 200
    assert [f["properties"]["d"] for f in decode(gone.data)] == ["rectify"]


def test_the_etag_depends_on_the_filter_and_the_scope(client, auth) -> None:
    create(client, code="ETAG-3", lon=HERE[0], lat=HERE[1])
    office = etag_of(get(client, HERE))
    filtered = get(client, HERE, office, query="?status=closed")
    assert filtered.status_code == 204 and etag_of(filtered) != office
    street = auth.headers("tiles.street", "street_officer", "120102002")
    mine = get(client, HERE, office, **street)
    assert mine.status_code == 200 and etag_of(mine) != office


def test_grid_tiles_change_with_a_site_under_them(client) -> None:
    site = create(client, code="ETAG-4", lon=HERE[0], lat=HERE[1])
    first = get(client, HERE, z=11)
    etag = etag_of(first)
    assert sum(f["properties"]["n"] for f in decode(first.data)) >= 1
    assert get(client, HERE, etag, z=11).status_code == 304
    patch(client, site, committed_deadline="2026-01-31")  # now overdue
    changed = get(client, HERE, etag, z=11)
    assert changed.status_code == 200
    assert any(f["properties"]["overdue"] for f in decode(changed.data))


def test_cell_ranges_cover_the_tile_and_its_buffer() -> None:
    # a zoom-17 tile lies in one zoom-14 square, or two when its buffer crosses an edge
    x0, x1, y0, y1 = tile_cache.cell_range(17, 8 * 13000 + 3, 8 * 6000 + 3)
    assert (x0, x1, y0, y1) == (13000, 13000, 6000, 6000)
    x0, x1, _, _ = tile_cache.cell_range(17, 8 * 13000, 8 * 6000 + 3)
    assert (x0, x1) == (12999, 13000)
    # a zoom-11 tile covers 8 x 8 squares (and a little of its neighbours' buffer)
    x0, x1, y0, y1 = tile_cache.cell_range(11, 1625, 750)
    assert x0 <= 13000 and x1 >= 13007 and x1 - x0 <= 9 and y1 - y0 <= 9


def test_the_cache_keeps_at_most_its_size() -> None:
    cache = tile_cache.TileCache(10)
    cache.put("a", b"12345")
    cache.put("b", b"12345")
    assert cache.get("a") == b"12345"  # a is now the most recently used
    cache.put("c", b"123")
    assert cache.get("b") is None and cache.get("a") == b"12345" and cache.get("c") == b"123"
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None


def test_a_late_plan_step_changes_the_tile_of_its_site(client, connection) -> None:
    from sqlalchemy import text

    site = create(client, code="ETAG-5", lon=HERE[0], lat=HERE[1])
    etag = etag_of(get(client, HERE))
    assert {f["properties"]["k"] for f in decode(get(client, HERE).data)} == {"registered"}
    connection.execute(
        text(
            "INSERT INTO site_steps (district_code, site_id, position, title, due_date,"
            " evidence_note, created_by, created_at)"
            " SELECT district_code, id, 1, '拆除', DATE '2026-01-01', '', 'test', now()"
            " FROM sites WHERE id = :id"
        ),
        {"id": site["id"]},
    )
    changed = get(client, HERE, etag)
    assert changed.status_code == 200
    assert {f["properties"]["k"] for f in decode(changed.data)} == {"overdue"}


def _insert_site(conn, code: str, lon: float, lat: float) -> None:
    from sqlalchemy import text

    conn.execute(
        text(
            "INSERT INTO sites (district_code, code, street_id, address, disposition, geom)"
            " SELECT '120102', :code, s.id, 'x', 'demolish', ST_SetSRID(ST_MakePoint(:lon, :lat),"
            " 4326) FROM streets s WHERE ST_Intersects(s.geom, ST_SetSRID(ST_MakePoint(:lon,"
            " :lat), 4326)) LIMIT 1"
        ),
        {"code": code, "lon": lon, "lat": lat},
    )


def test_two_writers_of_the_same_squares_neither_wait_nor_deadlock(engine, demo_streets) -> None:
    """Two transactions write sites in squares A and B in opposite orders: with one row per
    square updated in place (0080) the second statement waited and then deadlocked; versions
    are appended (0081), so both go through at once."""
    from sqlalchemy import text

    one, two = engine.connect(), engine.connect()
    try:
        for conn in (one, two):
            conn.execute(text("SET LOCAL lock_timeout = '3s'"))
        _insert_site(one, "LOCK-A1", *HERE)
        _insert_site(two, "LOCK-B2", *ELSEWHERE)
        _insert_site(one, "LOCK-B1", *ELSEWHERE)  # waited for `two` before
        _insert_site(two, "LOCK-A2", *HERE)  # the deadlock
        counts = [
            c.execute(text("SELECT count(*) FROM tile_versions")).scalar() for c in (one, two)
        ]
        assert all(n >= 2 for n in counts)
    finally:
        one.rollback()
        two.rollback()
        one.close()
        two.close()


def test_a_late_commit_of_a_smaller_version_still_changes_the_tile(db_session) -> None:
    """A tile's version is the sum of its squares' versions: a version appended later with a
    smaller number (a transaction that began earlier and commits last) changes it too."""
    from sqlalchemy import text

    x, y = tile_cache.cell_range(14, *tile_of(*HERE, 14)[:2])[::2]
    db_session.execute(
        text("INSERT INTO tile_versions (x, y, version) VALUES (:x, :y, 1000)"), {"x": x, "y": y}
    )
    before = tile_cache.tile_version(db_session, 14, *tile_of(*HERE, 14)[:2])
    db_session.execute(
        text("INSERT INTO tile_versions (x, y, version) VALUES (:x, :y, 999)"), {"x": x, "y": y}
    )
    after = tile_cache.tile_version(db_session, 14, *tile_of(*HERE, 14)[:2])
    assert after != before
    removed = db_session.execute(text("SELECT public.compact_tile_versions()")).scalar()
    assert removed >= 1
    newest = db_session.execute(
        text("SELECT count(*), max(version) FROM tile_versions WHERE x = :x AND y = :y"),
        {"x": x, "y": y},
    ).one()
    assert tuple(newest) == (1, 1000)
