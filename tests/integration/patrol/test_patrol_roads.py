"""Road network: `gis-app import-roads` (all or nothing) and routes that follow the roads."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod
from sqlalchemy import text

from gis_app.core.errors import ImportRejected, ValidationError
from gis_app.features.patrol.roads_import import import_roads
from gis_app.features.patrol.routing import END, START, plan_route

GEOD = Geod(ellps="WGS84")
DISTRICT = "120102"
# a 6 × 5 grid of streets inside 大直沽/中山门 (well inside the demo district)
X0, Y0, DX, DY = 117.240, 39.110, 0.0025, 0.0020
XS = [X0 + i * DX for i in range(6)]
YS = [Y0 + j * DY for j in range(5)]


def geodesic(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def polyline_m(line) -> float:
    return sum(geodesic(a, b) for a, b in itertools.pairwise(line))


def write_geojson(path: Path, geometries: list[dict], crs: str | None = None) -> Path:
    fc: dict = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": f"路{i}"}, "geometry": g}
            for i, g in enumerate(geometries)
        ],
    }
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


def grid_lines() -> list[dict]:
    """Streets sharing a vertex at every crossing; the last two rows as one MultiLineString."""
    rows = [[[x, y] for x in XS] for y in YS]
    cols = [[[x, y] for y in YS] for x in XS]
    lines = [{"type": "LineString", "coordinates": c} for c in rows[:-2] + cols]
    lines.append({"type": "MultiLineString", "coordinates": rows[-2:]})
    return lines


@pytest.fixture()
def grid_file(tmp_path: Path) -> Path:
    return write_geojson(tmp_path / "grid.geojson", grid_lines())


def count_roads(session) -> int:
    return session.execute(text("SELECT count(*) FROM roads")).scalar_one()


def test_a_route_follows_the_imported_roads(db_session, grid_file: Path) -> None:
    report = import_roads(db_session, grid_file, DISTRICT)
    assert report.lines == 3 + 6 + 2 and report.features == 3 + 6 + 1
    assert count_roads(db_session) == 11

    # stops in the middle of blocks (off the roads), start and end on crossings
    start, end = (XS[0], YS[0]), (XS[5], YS[4])
    stops = [
        (XS[i] + DX / 2, YS[j] + DY * 0.3) for i, j in ((0, 0), (3, 2), (1, 3), (4, 1), (2, 2))
    ]
    route = plan_route(db_session, start, stops, end)
    assert route.network == "roads"
    assert route.legs[0].from_index == START
    assert route.legs[-1].to_index == END
    grid = shapely.MultiLineString([[(x, y) for x in XS] for y in YS]
                                   + [[(x, y) for y in YS] for x in XS])  # fmt: skip
    pts = {START: start, END: end} | dict(enumerate(stops))
    for leg in route.legs:
        a, b = pts[leg.from_index], pts[leg.to_index]
        assert leg.path[0] == pytest.approx(a) and leg.path[-1] == pytest.approx(b)
        assert leg.metres >= geodesic(a, b) - 1e-6
        # between the two points, every vertex is on a road
        for vertex in leg.path[1:-1]:
            assert grid.distance(shapely.Point(vertex)) < 1e-9, vertex
        assert polyline_m(leg.path) == pytest.approx(leg.metres, abs=0.01)
    assert route.total_m == pytest.approx(sum(leg.metres for leg in route.legs))
    # the snap distance (block centre → road) is walked at both ends of a leg
    assert route.snapped_m == pytest.approx(
        sum(geodesic(s, (s[0], s[1] - DY * 0.3)) for s in stops), rel=1e-6
    )

    geo = plan_route(db_session, start, stops, end, use_roads=False)
    assert geo.network == "geodesic" and geo.total_m < route.total_m


def test_road_distance_between_crossings_is_the_walk_along_the_grid(
    db_session, grid_file: Path
) -> None:
    import_roads(db_session, grid_file, DISTRICT)
    a, b = (XS[0], YS[0]), (XS[3], YS[2])
    route = plan_route(db_session, a, [b], use_roads=True)
    # east–west blocks are shorter further north: up first, then east along the top row
    walk = geodesic(a, (XS[0], YS[2])) + geodesic((XS[0], YS[2]), b)
    assert walk < geodesic(a, (XS[3], YS[0])) + geodesic((XS[3], YS[0]), b)
    assert route.legs[0].metres == pytest.approx(walk, rel=1e-6)
    assert route.total_m == pytest.approx(2 * walk, rel=1e-6)
    assert route.legs[0].metres > 1.2 * geodesic(a, b)


def test_no_roads_means_geodesic_and_use_roads_true_is_refused(db_session) -> None:
    assert count_roads(db_session) == 0
    route = plan_route(db_session, (117.25, 39.12), [(117.26, 39.12)])
    assert route.network == "geodesic"
    with pytest.raises(ValidationError) as err:
        plan_route(db_session, (117.25, 39.12), [(117.26, 39.12)], use_roads=True)
    assert err.value.field == "use_roads"


def test_points_far_from_the_roads_use_geodesic_unless_roads_are_required(
    db_session, grid_file: Path
) -> None:
    import_roads(db_session, grid_file, DISTRICT)
    east = [(117.262, 39.112), (117.263, 39.115), (117.2625, 39.118)]  # ~800 m off the grid
    auto = plan_route(db_session, east[0], east[1:])
    assert auto.network == "geodesic" and auto.snapped_m == 0
    forced = plan_route(db_session, east[0], east[1:], use_roads=True)
    assert forced.network == "roads" and forced.snapped_m > 3 * 700  # each point, once
    assert forced.total_m > auto.total_m + 2 * 700


def audit_summaries(session) -> list[tuple[str, dict | None, dict | None]]:
    return [
        tuple(r)
        for r in session.execute(
            text(
                "SELECT action, before, after FROM audit.events "
                "WHERE table_name = 'roads' AND xact = txid_current() ORDER BY id"
            )
        )
    ]


def test_reimport_needs_replace_and_reprojects(db_session, grid_file: Path, tmp_path) -> None:
    import_roads(db_session, grid_file, DISTRICT)
    # one audit event per statement, with a summary of the rows
    ((action, before, after),) = audit_summaries(db_session)
    assert action == "insert" and before is None
    assert after["rows"] == 11 and after["source"] == ["grid.geojson"]
    assert after["district_code"] == [DISTRICT]
    with pytest.raises(ValidationError) as err:
        import_roads(db_session, grid_file, DISTRICT)
    assert err.value.field == "replace" and count_roads(db_session) == 11
    # the same streets in Web Mercator come back in EPSG:4326
    from pyproj import Transformer

    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    merc = [{"type": "LineString", "coordinates": [list(to_3857.transform(x, YS[0])) for x in XS]}]
    path = write_geojson(tmp_path / "merc.geojson", merc, crs="urn:ogc:def:crs:EPSG::3857")
    report = import_roads(db_session, path, DISTRICT, replace=True)
    assert report.replaced == 11 and report.lines == 1
    events = audit_summaries(db_session)
    assert [(a, (b or {}).get("rows"), (c or {}).get("rows")) for a, b, c in events] == [
        ("insert", None, 11), ("delete", 11, None), ("insert", None, 1),
    ]  # fmt: skip
    x0, y0 = db_session.execute(
        text("SELECT ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)) FROM roads")
    ).one()
    assert (x0, y0) == pytest.approx((XS[0], YS[0]), abs=1e-9)
    length = db_session.execute(text("SELECT ST_Length(geom::geography) FROM roads")).scalar_one()
    assert report.length_km * 1000 == pytest.approx(length, abs=1)


def test_import_refuses_bad_files_and_writes_nothing(db_session, tmp_path: Path) -> None:
    mixed = write_geojson(
        tmp_path / "mixed.geojson",
        [*grid_lines()[:2], {"type": "Point", "coordinates": [117.25, 39.12]}],
    )
    with pytest.raises(ImportRejected) as err:
        import_roads(db_session, mixed, DISTRICT)
    assert [e["row"] for e in err.value.errors] == [3]
    assert "Point" in err.value.errors[0]["message"]
    empty = write_geojson(tmp_path / "empty.geojson", [])
    with pytest.raises(ValidationError) as err2:
        import_roads(db_session, empty, DISTRICT)
    assert err2.value.field == "file"
    projected = write_geojson(
        tmp_path / "noprj.geojson",
        [{"type": "LineString", "coordinates": [[500000, 4330000], [500100, 4330000]]}],
    )
    projected.write_text(projected.read_text().replace('"crs"', '"x"'), encoding="utf-8")
    with pytest.raises(ValidationError):
        import_roads(db_session, projected, DISTRICT)
    with pytest.raises(ValidationError) as err3:
        import_roads(db_session, tmp_path / "grid.shp", DISTRICT)
    assert err3.value.field == "file"
    assert count_roads(db_session) == 0


def test_cli_import_roads_reports_progress_and_refusals(app_ctx, connection, tmp_path) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    points = write_geojson(
        tmp_path / "points.geojson",
        [{"type": "Point", "coordinates": [117.25 + k / 1000, 39.12]} for k in range(3)],
    )
    refused = runner.invoke(cli, ["import-roads", str(points)], obj={"app": app_ctx})
    assert refused.exit_code == 1
    assert "路网只能是线" in refused.output and "未写入任何数据" in refused.output
    empty = write_geojson(tmp_path / "empty.geojson", [])
    refused = runner.invoke(cli, ["import-roads", str(empty)], obj={"app": app_ctx})
    assert refused.exit_code == 1 and "没有要素" in refused.output
    assert connection.execute(text("SELECT count(*) FROM roads")).scalar_one() == 0

    grid = write_geojson(tmp_path / "grid.geojson", grid_lines())
    ok = runner.invoke(cli, ["import-roads", str(grid)], obj={"app": app_ctx})
    assert ok.exit_code == 0, ok.output
    assert "已写入 11/11 条道路" in ok.output
    assert json.loads(ok.stdout.strip().splitlines()[-1])["lines"] == 11
    again = runner.invoke(cli, ["import-roads", str(grid)], obj={"app": app_ctx})
    assert again.exit_code == 1 and "--replace" in again.output
    replaced = runner.invoke(cli, ["import-roads", str(grid), "--replace"], obj={"app": app_ctx})
    assert replaced.exit_code == 0, replaced.output
    assert connection.execute(text("SELECT count(*) FROM roads")).scalar_one() == 11


def test_roads_are_read_by_patrol_roles_and_written_by_no_web_role(connection) -> None:
    """Row-level security: the app's role reads roads as a street or district role, sees
    nothing as the public or a bureau, and may never write."""
    from gis_app.core.db_security import app_role

    connection.execute(
        text(
            "INSERT INTO roads (district_code, geom) VALUES "
            "(:d, ST_GeomFromText('LINESTRING(117.25 39.12, 117.26 39.12)', 4326))"
        ),
        {"d": DISTRICT},
    )

    def visible(role: str) -> int:
        nested = connection.begin_nested()
        try:
            connection.exec_driver_sql(f'SET LOCAL ROLE "{app_role()}"')
            connection.execute(text("SELECT set_config('app.role', :r, true)"), {"r": role})
            return connection.execute(text("SELECT count(*) FROM roads")).scalar_one()
        finally:
            nested.rollback()
            connection.exec_driver_sql("RESET ROLE")

    assert {r: visible(r) for r in ("district_admin", "street_officer", "inspector")} == {
        "district_admin": 1, "street_officer": 1, "inspector": 1,
    }  # fmt: skip
    assert visible("") == 0 and visible("bureau_police") == 0 and visible("agency") == 0
    nested = connection.begin_nested()
    try:
        connection.exec_driver_sql(f'SET LOCAL ROLE "{app_role()}"')
        connection.execute(text("SELECT set_config('app.role', 'district_admin', true)"))
        with pytest.raises(Exception, match="permission denied"):
            connection.execute(text("DELETE FROM roads"))
    finally:
        nested.rollback()
        connection.exec_driver_sql("RESET ROLE")
