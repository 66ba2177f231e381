"""Street boundaries: import from files, repair, refusals, and the point-in-street rule."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import func, select, text

from gis_app.core.errors import ImportRejected, NotFound, ValidationError
from gis_app.demo.loader import STREETS_FILE
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import (
    get_street,
    import_streets,
    normalise_street_code,
    street_for_point,
    street_ids_for_points,
)

# two test streets far from Hedong (in an empty part of the map) so they never touch the demo
WEST = box(100.00, 30.00, 100.01, 30.01)
EAST = box(100.01, 30.00, 100.02, 30.01)


def _write(
    tmp_path: Path, name: str, rows: list[dict], crs: str = "EPSG:4326", driver: str = "GeoJSON"
) -> Path:
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    path = tmp_path / name
    gdf.to_file(path, driver=driver)
    return path


def test_demo_streets_partition_the_district(db_session) -> None:
    n, union_area, district_area, overlaps = db_session.execute(
        text(
            """
        SELECT (SELECT count(*) FROM streets WHERE code LIKE '120102%'),
               (SELECT ST_Area(ST_Union(geom)::geography) FROM streets WHERE code LIKE '120102%'),
               (SELECT ST_Area(geom::geography) FROM districts WHERE code = '120102'),
               (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                  FROM streets a JOIN streets b ON a.code < b.code
                  AND ST_Intersects(a.geom, b.geom)
                  WHERE a.code LIKE '120102%' AND b.code LIKE '120102%')
        """
        )
    ).one()
    assert n == 12
    assert abs(union_area - district_area) / district_area < 1e-4
    assert overlaps < 1.0
    names = set(db_session.scalars(select(Street.name).where(Street.code.like("120102%"))))
    assert "大王庄街道" in names and "鲁山道街道" in names
    assert all(db_session.scalars(select(Street.approximate).where(Street.code.like("120102%"))))


def test_known_points_fall_in_their_street(db_session) -> None:
    doc = json.loads(STREETS_FILE.read_text(encoding="utf-8"))
    from shapely.geometry import shape

    for feature in doc["features"]:
        inner = shape(feature["geometry"]).representative_point()
        street = street_for_point(db_session, inner.x, inner.y)
        assert street is not None and street.code == feature["properties"]["code"]
    assert street_for_point(db_session, 117.10, 39.12) is None  # Heping, across the river


def test_point_on_shared_edge_goes_to_lowest_code_deterministically(db_session) -> None:
    x, y, a, b = db_session.execute(
        text(
            """
        SELECT ST_X(p), ST_Y(p), a, b FROM (
          SELECT ST_LineInterpolatePoint(
                   ST_LineMerge(ST_Intersection(ST_Boundary(s1.geom), ST_Boundary(s2.geom))), 0.5)
                   AS p, s1.code AS a, s2.code AS b
          FROM streets s1 JOIN streets s2 ON s1.code < s2.code
          WHERE s1.code = '120102002' AND ST_Touches(s1.geom, s2.geom)
            AND GeometryType(ST_LineMerge(ST_Intersection(ST_Boundary(s1.geom),
                ST_Boundary(s2.geom)))) = 'LINESTRING'
          ORDER BY s2.code LIMIT 1) q
        """
        )
    ).one()
    on_edge = db_session.execute(
        text(
            "SELECT count(*) FROM streets "
            "WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"x": x, "y": y},
    ).scalar_one()
    assert on_edge == 2  # the point really touches both streets
    ids = street_ids_for_points(db_session, [(x, y)] * 5)
    codes = {db_session.get(Street, i).code for i in ids}
    assert codes == {min(a, b)}


@pytest.mark.slow
def test_import_geojson_gpkg_and_zipped_shapefile(db_session, tmp_path: Path) -> None:
    rows = [
        {"code": "999001001", "name": "西测试街道", "geometry": WEST},
        {"code": "999001002000", "name": "东测试街道", "geometry": EAST},
    ]
    gj = _write(tmp_path, "s.geojson", rows)
    report = import_streets(db_session, gj)
    assert sorted(report.created) == ["999001001", "999001002"]  # 12-digit code normalised

    gpkg = _write(tmp_path, "s.gpkg", rows, driver="GPKG")
    report = import_streets(db_session, gpkg)
    assert sorted(report.updated) == ["999001001", "999001002"]

    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    _write(shp_dir, "s.shp", rows, driver="ESRI Shapefile")
    archive = tmp_path / "streets.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in shp_dir.iterdir():
            z.write(f, f.name)
    report = import_streets(db_session, archive)
    assert sorted(report.updated) == ["999001001", "999001002"]
    assert get_street(db_session, "999001002000").name == "东测试街道"


def test_import_reprojects_to_4326(db_session, tmp_path: Path) -> None:
    projected = gpd.GeoSeries([WEST], crs=4326).to_crs(3857).iloc[0]
    path = _write(
        tmp_path,
        "p.geojson",
        [{"code": "999002001", "name": "投影街道", "geometry": projected}],
        crs="EPSG:3857",
    )
    # GeoJSON written by GDAL in 3857 carries its crs; the import must bring it back to degrees
    import_streets(db_session, path)
    minx, _miny, _maxx, maxy = db_session.execute(
        select(
            func.ST_XMin(Street.geom),
            func.ST_YMin(Street.geom),
            func.ST_XMax(Street.geom),
            func.ST_YMax(Street.geom),
        ).where(Street.code == "999002001")
    ).one()
    assert minx == pytest.approx(100.0, abs=1e-6) and maxy == pytest.approx(30.01, abs=1e-6)


def test_invalid_polygon_is_repaired(db_session, tmp_path: Path) -> None:
    bowtie = Polygon([(100.0, 31.0), (100.01, 31.01), (100.01, 31.0), (100.0, 31.01)])
    assert not bowtie.is_valid
    path = _write(
        tmp_path, "b.geojson", [{"code": "999003001", "name": "自交街道", "geometry": bowtie}]
    )
    report = import_streets(db_session, path)
    assert report.repaired == ["999003001"]
    valid = db_session.execute(
        select(func.ST_IsValid(Street.geom)).where(Street.code == "999003001")
    ).scalar_one()
    assert valid


def test_duplicate_codes_are_refused_and_nothing_written(db_session, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.geojson",
        [
            {"code": "999004001", "name": "甲", "geometry": WEST},
            {"code": "999004001", "name": "乙", "geometry": EAST},
        ],
    )
    with pytest.raises(ImportRejected) as info:
        import_streets(db_session, path)
    assert "重复" in info.value.errors[0]["message"]
    assert info.value.errors[0]["row"] == 2
    assert db_session.scalar(select(Street).where(Street.code == "999004001")) is None


def test_overlap_beyond_a_sliver_is_refused_naming_both(db_session, tmp_path: Path) -> None:
    overlapping = box(100.005, 30.0, 100.02, 30.01)  # half of WEST
    path = _write(
        tmp_path,
        "o.geojson",
        [
            {"code": "999005001", "name": "甲街道", "geometry": WEST},
            {"code": "999005002", "name": "乙街道", "geometry": overlapping},
        ],
    )
    with pytest.raises(ImportRejected) as info:
        import_streets(db_session, path)
    message = info.value.errors[0]["message"]
    assert "甲街道" in message and "乙街道" in message and "重叠" in message
    assert (
        db_session.scalar(
            select(func.count()).select_from(Street).where(Street.code.like("999005%"))
        )
        == 0
    )


def test_sliver_overlap_is_accepted(db_session, tmp_path: Path) -> None:
    sliver = box(100.00999, 30.0, 100.02, 30.01)  # ~1 m into WEST
    path = _write(
        tmp_path,
        "s.geojson",
        [
            {"code": "999006001", "name": "甲", "geometry": WEST},
            {"code": "999006002", "name": "乙", "geometry": sliver},
        ],
    )
    assert len(import_streets(db_session, path).created) == 2


def test_overlap_with_a_street_already_in_the_database(db_session, tmp_path: Path) -> None:
    first = _write(tmp_path, "a.geojson", [{"code": "999007001", "name": "甲", "geometry": WEST}])
    import_streets(db_session, first)
    second = _write(
        tmp_path,
        "b.geojson",
        [{"code": "999007002", "name": "乙", "geometry": box(100.0, 30.0, 100.005, 30.01)}],
    )
    with pytest.raises(ImportRejected, match="重叠"):
        import_streets(db_session, second)


def test_bad_files_are_refused_with_a_message(db_session, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="不存在"):
        import_streets(db_session, tmp_path / "none.geojson")
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(ValidationError, match="不支持"):
        import_streets(db_session, tmp_path / "x.csv")
    (tmp_path / "broken.geojson").write_text("{not json")
    with pytest.raises(ValidationError, match="无法读取"):
        import_streets(db_session, tmp_path / "broken.geojson")
    nocode = _write(tmp_path, "n.geojson", [{"title": "x", "geometry": WEST}])
    with pytest.raises(ValidationError, match="缺少属性"):
        import_streets(db_session, nocode)
    badcode = _write(tmp_path, "c.geojson", [{"code": "12AB", "name": "x", "geometry": WEST}])
    with pytest.raises(ImportRejected, match="错误"):
        import_streets(db_session, badcode)


def test_normalise_street_code() -> None:
    assert normalise_street_code("120102001000") == "120102001"
    assert normalise_street_code(120102001) == "120102001"
    assert normalise_street_code("120102001.0") == "120102001"
    assert normalise_street_code("1201020") is None
    assert normalise_street_code("abc") is None


def test_unknown_street_is_not_found(db_session) -> None:
    with pytest.raises(NotFound):
        get_street(db_session, "999999999")
