"""The map's cell counts (site_cells, migration 0150): low-zoom tiles and the map's counts
summed from them are those counted from the sites, for every filter they answer, after edits
and on a new day; other filters and the bureaus count the sites; a street role reads only its
own street's rows, and never counts squares."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update
from werkzeug.datastructures import MultiDict

from gis_app.core.actor import Actor
from gis_app.core.db_security import app_role
from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import SiteFilter, overdue_expr, scoped, square_of
from gis_app.features.maps import cells, count_map_cells, tiles
from gis_app.features.maps import service as map_data
from gis_app.features.streets.models import Street
from tests.integration.maps.test_tiles import decode, tile_of

DAY = date(2026, 6, 15)
OFFICE = Actor("区办", "district_officer")
CENTRE = (117.24, 39.12)
FILTERS = [
    {},
    {"status": "in_progress,closed"},
    {"overdue": "true"},
    {"overdue": "false", "disposition": "demolish"},
    {"district": "120102"},
]


@pytest.fixture()
def demo(db_session):
    load_demo(db_session, n_sites=400, seed=5, today=None)
    db_session.flush()
    return db_session


def normalised(body: bytes) -> list[tuple]:
    """A grid tile's cells, comparable whatever the order of rows and parts."""
    if not body:
        return []
    out = []
    for f in decode(body):
        p = f["properties"]
        parts = tuple(sorted(p["c"].split(",")))
        out.append((tuple(f["geometry"]["coordinates"]), p["n"], p["overdue"], p["k"], parts))
    return sorted(out)


def both(session, flt: SiteFilter, day: date, z: int, actor=OFFICE) -> tuple[list, list]:
    x, y, _, _ = tile_of(*CENTRE, z)
    summed = cells.site_tile(session, flt, day, z, x, y, actor)
    counted = tiles.site_tile(session, flt, day, z, x, y, actor)
    return normalised(summed), normalised(counted)


def squares_counted(session) -> int:
    return session.scalar(text("SELECT count(*) FROM site_cell_squares"))


@pytest.mark.parametrize("args", FILTERS)
def test_grid_tiles_summed_from_cells_are_those_counted_from_the_sites(demo, args) -> None:
    flt = SiteFilter.from_args(MultiDict(args))
    assert tiles.POINT_ZOOM == 14  # zoom 14 on: points (test_tiles)
    for z in (13, 12, 11, 10, 9, 8):  # 8 cells across (a zoom-13 cell is a zoom-16 square)
        summed, counted = both(demo, flt, DAY, z)
        assert counted or z > 12, z  # the tile holds sites (a zoom-13 tile may not)
        assert summed == counted, z
    assert squares_counted(demo) > 0  # they were summed, not counted again


@pytest.mark.parametrize("args", FILTERS)
def test_the_counts_per_street_are_each_streets_sites_counts(demo, args) -> None:
    flt = SiteFilter.from_args(MultiDict(args))
    per_street = cells.by_street(demo, flt, DAY, OFFICE)
    assert per_street  # the demo's sites are in several streets
    for code, parts in per_street.items():
        one = flt.model_copy(update={"streets": [code]})
        expected = {k: n for k, n in map_data.site_counts(demo, one, DAY, OFFICE).items() if n}
        got: dict[str, int] = {}
        for k, _d, n in parts:
            got[k] = got.get(k, 0) + n
        got["total"] = sum(n for _k, _d, n in parts)
        assert got == expected, code


@pytest.mark.parametrize("args", FILTERS)
def test_the_occupied_squares_are_those_of_the_filters_sites(demo, args) -> None:
    flt = SiteFilter.from_args(MultiDict(args))
    found = cells.page_counts(demo, flt, DAY, OFFICE)
    assert found is not None and found.squares
    squares = set(zip(found.squares[::2], found.squares[1::2], strict=True))
    assert len(squares) * 2 == len(found.squares)  # each once
    squares_of = (text("sites.map_x"), text("sites.map_y"))
    of_sites = select(*squares_of).select_from(Site).where(*scoped(flt, DAY, OFFICE)).distinct()
    assert squares == {(x, y) for x, y in demo.execute(of_sites)}


@pytest.mark.parametrize("args", FILTERS)
def test_the_maps_counts_from_cells_are_the_sites_counts(demo, args) -> None:
    flt = SiteFilter.from_args(MultiDict(args))
    assert cells.counts(demo, flt, DAY, OFFICE) == map_data.site_counts(demo, flt, DAY, OFFICE)


def test_an_edit_is_counted_at_the_next_tile(demo) -> None:
    flt = SiteFilter()
    before, _ = both(demo, flt, DAY, 11)
    x, y, _, _ = tile_of(*CENTRE, 11)
    west, south, east, north = tiles.tile_bounds(11, x, y)
    site_id = demo.scalar(
        select(Site.id)
        .where(
            Site.status == "closed",
            Site.geom.op("&&")(func.ST_MakeEnvelope(west, south, east, north, 4326)),
        )
        .limit(1)
    )
    demo.execute(update(Site).where(Site.id == site_id).values(status="registered"))
    demo.execute(
        update(Site).where(Site.id == site_id).values(deleted_at=func.now(), deleted_reason="测试")
    )
    after, counted = both(demo, flt, DAY, 11)
    assert after == counted and after != before
    assert cells.counts(demo, flt, DAY, OFFICE) == map_data.site_counts(demo, flt, DAY, OFFICE)


def test_a_new_day_counts_the_overdue_again(demo) -> None:
    flt = SiteFilter.from_args(MultiDict({"overdue": "true"}))
    today, _ = both(demo, flt, DAY, 10)
    later = DAY + timedelta(days=400)  # every deadline passed
    summed, counted = both(demo, flt, later, 10)
    assert summed == counted and summed != today
    assert cells.counts(demo, flt, later, OFFICE) == map_data.site_counts(demo, flt, later, OFFICE)


def test_filters_the_cells_cannot_answer_count_the_sites(demo) -> None:
    for args in ({"kind": "rooftop"}, {"q": "河东"}, {"deadline_to": "2026-07-01"}):
        flt = SiteFilter.from_args(MultiDict(args))
        summed, counted = both(demo, flt, DAY, 11)
        assert summed == counted
        assert cells.counts(demo, flt, DAY, OFFICE) is None
    bureau = Actor("民政", "bureau_civil")
    assert cells.access(SiteFilter(), bureau) is None
    assert squares_counted(demo) == 0  # nothing was summed


def test_a_street_role_reads_only_its_own_streets_fresh_rows(demo) -> None:
    code = demo.scalar(
        select(Street.code)
        .join(Site, Site.street_id == Street.id)
        .group_by(Street.code)
        .order_by(func.count().desc())
        .limit(1)
    )
    officer = Actor("街道", "street_officer", street_code=code)
    flt = SiteFilter()
    # nothing counted yet: the street role counts its sites, and counts no square
    summed, counted = both(demo, flt, DAY, 11, officer)
    assert summed == counted and summed
    assert squares_counted(demo) == 0
    assert cells.counts(demo, flt, DAY, officer) is None
    # once the office has counted them, the street reads its own rows: the same cells
    count_map_cells(demo, DAY)
    assert cells.ensure_fresh(demo, cells.squares_under(11, *tile_of(*CENTRE, 11)[:2]), DAY, False)
    summed, counted = both(demo, flt, DAY, 11, officer)
    assert summed == counted
    office, _ = both(demo, flt, DAY, 11)
    assert sum(n for _, n, *_ in summed) < sum(n for _, n, *_ in office)
    assert cells.counts(demo, flt, DAY, officer) == map_data.site_counts(demo, flt, DAY, officer)


def test_a_street_role_sees_only_its_streets_rows_through_the_api(client, auth, demo) -> None:
    """Row-level security on site_cells, as the app's database role."""
    code = demo.scalar(select(Street.code).order_by(Street.code).limit(1))
    count_map_cells(demo, DAY)
    token = auth.token("tiles-street", "street_officer", street=code)
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + token
    x, y, _, _ = tile_of(*CENTRE, 9)
    response = client.get(f"/tiles/sites/9/{x}/{y}.mvt")
    own = demo.scalar(
        select(func.count()).where(
            Site.street_id == select(Street.id).where(Street.code == code).scalar_subquery(),
            Site.deleted_at.is_(None),
        )
    )
    shown = sum(f["properties"]["n"] for f in decode(response.data)) if response.data else 0
    assert shown == own > 0
    # the rows of other streets are not visible to the street's transactions at all
    nested = demo.begin_nested()
    demo.execute(text(f"SET LOCAL ROLE {app_role()}"))
    demo.execute(
        text(
            "SELECT set_config('app.role', 'street_officer', true),"
            " set_config('app.street', :code, true)"
        ),
        {"code": code},
    )
    seen = demo.scalars(text("SELECT DISTINCT street_id FROM site_cells")).all()
    nested.rollback()
    own_id = demo.scalar(select(Street.id).where(Street.code == code))
    assert seen == [own_id]
    assert demo.scalar(text("SELECT count(DISTINCT street_id) FROM site_cells")) > 1


def test_the_sites_squares_are_those_the_tiles_compute(demo) -> None:
    """sites.map_x, map_y (migration 0151, an index under row-level security) agree with the
    squares the tiles ask for and with tile_versions' squares."""
    rows = demo.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom), map_x, map_y, map_fx, map_fy FROM sites"
            " WHERE geom IS NOT NULL"
        )
    ).all()
    assert rows
    assert all(square_of(lon, lat) == (mx, my) for lon, lat, mx, my, _, _ in rows)
    # the zoom-18 squares (migration 0200) by the same formula, inside their zoom-14 square
    assert all(square_of(lon, lat, 18) == (fx, fy) for lon, lat, _, _, fx, fy in rows)
    assert all((fx >> 4, fy >> 4) == (mx, my) for _, _, mx, my, fx, fy in rows)
    versioned = set(demo.execute(text("SELECT x, y FROM tile_versions WHERE x >= 0")).all())
    assert {(mx, my) for _, _, mx, my, _, _ in rows} <= versioned


def test_a_views_sites_probed_per_site_are_drawn_as_when_hashed(demo) -> None:
    """/map/sites.json probes each site's own late steps (per_site); the district page hashes
    every late step: both give every site the same key, a late step included."""
    from datetime import UTC, datetime

    from gis_app.features.plans.models import SiteStep

    # a site whose deadline is ahead but with a step of its plan past due: overdue by its step
    no_plan = ~select(SiteStep.id).where(SiteStep.site_id == Site.id).exists()
    site = demo.scalars(
        select(Site)
        .where(Site.status.in_(["registered", "in_progress"]), ~overdue_expr(DAY), no_plan)
        .order_by(Site.id)
        .limit(1)
    ).one()
    before = map_data.site_points(demo, SiteFilter(), DAY, actor=OFFICE).counts["overdue"]
    demo.add(
        SiteStep(
            district_code=site.district_code,
            site_id=site.id,
            position=99,
            title="拆除附属棚架",
            due_date=DAY - timedelta(days=3),
            created_by="test",
            created_at=datetime(2026, 5, 1, tzinfo=UTC),
        )
    )
    demo.flush()
    flt = SiteFilter()
    hashed = map_data.site_points(demo, flt, DAY, actor=OFFICE)
    probed = map_data.site_points(demo, flt, DAY, actor=OFFICE, per_site=True)
    assert probed.payload == hashed.payload
    assert probed.counts == hashed.counts
    assert hashed.counts["overdue"] == before + 1  # the step made it overdue
    one = SiteFilter.from_args(MultiDict({"overdue": "true"}))
    late = map_data.site_points(demo, one, DAY, actor=OFFICE, per_site=True)
    assert late.counts["total"] == hashed.counts["overdue"]
