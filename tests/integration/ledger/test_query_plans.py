"""The queries behind the pages stay index-driven at city scale: their plans, checked.

A city of 30,000 sites over eight districts (gis_app.demo.city, loaded with COPY into a
transaction that is rolled back at the end of the module) is ANALYZEd; then each page query is
run through the app's own service, the statements it sent are captured, and EXPLAIN (FORMAT
JSON) of each must read the named index. Dropping or breaking that index fails the test (the
last test shows it). No timings here: those are in bench/city_bench.py.

Roles: the plans are checked as the database owner. With row-level security, add an entry to
ROLES that switches the transaction to the app's role (SET LOCAL ROLE …, the app.* settings)
before the service runs; every test then runs once per role.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis_app.core import query_plans
from gis_app.demo.city import build_city
from gis_app.demo.city_load import load_city
from gis_app.features.ledger.queries import SiteFilter, counts_by_status, list_features
from gis_app.features.maps import service as map_data
from gis_app.features.maps import tiles

pytestmark = pytest.mark.slow

TODAY = date(2026, 6, 15)
SITES = 30_000
DISTRICTS = ("120101", "120102", "120103", "120104", "120105", "120106", "120110", "120113")
# what to do to the transaction before the service runs, per database role
ROLES: dict[str, Callable[[Session], None]] = {"owner": lambda _s: None}

STEPS_SQL = """
INSERT INTO site_steps (district_code, site_id, position, title, due_date, done_at, done_by,
                        created_by, created_at)
SELECT s.district_code, s.id, p.n, 'step ' || p.n, s.current_deadline - 30 * (3 - p.n),
       CASE WHEN p.n < 3 THEN s.created_at END, CASE WHEN p.n < 3 THEN 'test' END,
       'test', s.created_at
FROM sites s CROSS JOIN generate_series(1, 3) AS p(n)
WHERE s.status = 'in_progress' AND s.current_deadline IS NOT NULL
"""


@pytest.fixture(scope="module")
def city(engine: Engine, demo_streets: None) -> Iterator[Session]:
    """30,000 sites in eight districts, analysed; everything rolled back afterwards."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    load_city(session, build_city(seed=3, codes=DISTRICTS), SITES, 11, TODAY)
    session.execute(text(STEPS_SQL))
    session.execute(text("ANALYZE districts, streets, sites, site_steps"))
    yield session
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture(params=sorted(ROLES))
def plans(request: pytest.FixtureRequest, city: Session) -> Callable[..., list[dict[str, Any]]]:
    """plans(call): the plans of the statements the service call sent (as the role)."""

    def run(call: Callable[[Session], Any]) -> list[dict[str, Any]]:
        nested = city.begin_nested()
        try:
            ROLES[request.param](city)
            return query_plans.explain_call(city, lambda: call(city))
        finally:
            nested.rollback()

    return run


def _one(session: Session, sql: str) -> Any:
    return session.execute(text(sql)).one()


def _street(session: Session) -> str:
    """A street of a central district with an ordinary number of sites."""
    return _one(
        session,
        "SELECT t.code FROM streets t JOIN sites s ON s.street_id = t.id "
        "WHERE t.district_code = '120104' GROUP BY t.code ORDER BY count(*), t.code "
        "OFFSET 5 LIMIT 1",
    )[0]


def _point(session: Session) -> tuple[float, float]:
    return tuple(
        _one(session, "SELECT ST_X(geom), ST_Y(geom) FROM sites ORDER BY id OFFSET 4321 LIMIT 1")
    )


def _km_bbox(lon: float, lat: float) -> tuple[float, float, float, float]:
    dlat = 0.5 / 111.32
    dlon = dlat / math.cos(math.radians(lat))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def _view(lon: float, lat: float, z: int) -> tuple[float, float, float, float]:
    half_w, half_h = 700 * 360 / (256 * 2**z), 450 * 360 / (256 * 2**z)
    return (lon - half_w, lat - half_h * 0.78, lon + half_w, lat + half_h * 0.78)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(fy)


def _site_statements(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plans that read the sites table (the map's origin query reads streets only)."""
    out = [
        p
        for p in found
        if any(n.get("Relation Name") == "sites" for n in query_plans.nodes(p))
        or any("sites" in n.get("Index Name", "") for n in query_plans.nodes(p))
    ]
    assert out, "the call sent no statement on sites"
    return out


def walks_the_primary_key(plan: dict[str, Any]) -> bool:
    """Whether the plan reads sites in id order along the primary key (the trap at a million
    sites). Looking up the page's own ids (`id = …`, to build their features) is no walk."""
    return any(
        n.get("Index Name") == "sites_pkey" and not n.get("Index Cond", "").startswith("(id = ")
        for n in query_plans.nodes(plan)
    )


def _assert_every_statement_uses(found: list[dict[str, Any]], index: str) -> None:
    for plan in _site_statements(found):
        assert index in query_plans.indexes_used(plan), query_plans.summary(plan)
        assert "sites" not in query_plans.seq_scanned(plan), query_plans.summary(plan)


def test_a_streets_list_page_reads_the_street_index(plans, city) -> None:
    street = _street(city)
    found = plans(lambda s: list_features(s, SiteFilter(streets=[street]), TODAY, 100, 0))
    assert len(found) == 2  # numberMatched, then the page
    _assert_every_statement_uses(found, "ix_sites_street_status")


@pytest.mark.parametrize("district", ["120101", "120113"])
def test_a_districts_list_page_reads_the_district_index(plans, city, district: str) -> None:
    """The page walks the district's sites in id order (not the whole primary key), whether
    the district's sites were loaded first (120101) or last (120113), on a server set up as
    docs/operations/scaling.md says (random_page_cost for solid-state disks, as localdb sets it)."""

    def page(s: Session) -> Any:
        s.execute(text("SET LOCAL random_page_cost = 1.1"))
        return list_features(s, SiteFilter(districts=[district]), TODAY, 100, 500)

    found = plans(page)
    count, page = _site_statements(found)
    assert query_plans.indexes_used(count) & {
        "ix_sites_district_id",
        "uq_sites_live_code",
        "uq_sites_live_code_normal",  # (district_code, the code's normal form): 0041
    }
    assert "sites" not in query_plans.seq_scanned(count)
    assert "ix_sites_district_id" in query_plans.indexes_used(page), query_plans.summary(page)
    assert not walks_the_primary_key(page), query_plans.summary(page)
    assert "sites" not in query_plans.seq_scanned(page)


def test_a_streets_counts_read_the_street_index(plans, city) -> None:
    street = _street(city)
    found = plans(lambda s: counts_by_status(s, SiteFilter(streets=[street]), TODAY))
    _assert_every_statement_uses(found, "ix_sites_street_status")


def test_the_overdue_rule_finds_late_steps_by_their_index(plans, city) -> None:
    street = _street(city)
    found = plans(lambda s: counts_by_status(s, SiteFilter(streets=[street]), TODAY))
    overdue_count = found[-1]
    # one of the partial indexes of the open steps: by due date (0002), or by site and due
    # date (0211, for a tile's per-site probe; the planner may take it for the range too)
    open_steps = {"ix_site_steps_open_due", "ix_site_steps_open"}
    assert open_steps & query_plans.indexes_used(overdue_count)
    assert "site_steps" not in query_plans.seq_scanned(overdue_count)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: SiteFilter(bbox=_km_bbox(*p)), id="bbox-1km2"),
        pytest.param(lambda p: SiteFilter(near=(p[0], p[1], 500.0)), id="near-500m"),
    ],
)
def test_an_area_list_page_reads_the_geometry_index(plans, city, make) -> None:
    flt = make(_point(city))
    found = plans(lambda s: list_features(s, flt, TODAY, 100, 0))
    _assert_every_statement_uses(found, "ix_sites_geom")
    # the page is not read by walking the primary key in id order (the trap at a million)
    assert not walks_the_primary_key(found[1]), query_plans.summary(found[1])


@pytest.mark.parametrize("zoom", [14, 17])
def test_a_map_view_reads_the_geometry_index(plans, city, zoom: int) -> None:
    flt = SiteFilter(bbox=_view(*_point(city), zoom))
    found = plans(lambda s: map_data.site_points(s, flt, TODAY))
    _assert_every_statement_uses(found, "ix_sites_geom")


@pytest.mark.parametrize("zoom", [11, 14, 17])
def test_a_vector_tile_reads_the_geometry_index(plans, city, zoom: int) -> None:
    x, y = _tile(*_point(city), zoom)
    found = plans(lambda s: tiles.site_tile(s, SiteFilter(), TODAY, zoom, x, y))
    assert len(found) == 1
    _assert_every_statement_uses(found, "ix_sites_geom")


def test_a_lost_index_fails_these_checks(plans, city) -> None:
    """Without ix_sites_geom (dropped inside a savepoint), the bbox page's plan no longer
    passes the check above: the tests watch the index, not just any plan."""
    flt = SiteFilter(bbox=_km_bbox(*_point(city)))
    nested = city.begin_nested()
    try:
        city.execute(text("DROP INDEX ix_sites_geom"))
        found = plans(lambda s: list_features(s, flt, TODAY, 100, 0))
        with pytest.raises(AssertionError):
            _assert_every_statement_uses(found, "ix_sites_geom")
    finally:
        nested.rollback()
    assert "ix_sites_geom" in query_plans.indexes_used(
        plans(lambda s: list_features(s, flt, TODAY, 100, 0))[0]
    )
