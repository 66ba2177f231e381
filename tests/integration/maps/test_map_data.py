"""The compact site arrays, outlines and popups the map pages draw, queried in PostGIS."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from gis_app.core.errors import NotFound
from gis_app.core.geo.gcj02 import wgs84_to_gcj02
from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import SiteFilter, base_select, overdue_expr
from gis_app.features.maps import service as map_data
from gis_app.features.streets.models import Street
from layers import palette

TODAY = date(2026, 6, 15)


@pytest.fixture()
def demo(db_session):
    load_demo(db_session, n_sites=400, seed=11, today=TODAY)
    return db_session


def _truth(session, flt: SiteFilter) -> dict[int, dict]:
    """What the database says about every site the filter selects."""
    rows = session.execute(
        base_select(
            [
                Site.id,
                func.ST_X(Site.geom),
                func.ST_Y(Site.geom),
                Site.status,
                Site.disposition,
                overdue_expr(TODAY),
            ]
        ).where(*flt.conditions(TODAY))
    ).all()
    return {
        r[0]: {
            "lon": r[1],
            "lat": r[2],
            "key": palette.display_status(r[3], r[5]),
            "disposition": r[4],
        }
        for r in rows
    }


def _filter(**params) -> SiteFilter:
    return SiteFilter.from_args(MultiDict(params))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "in_progress,awaiting_acceptance"},
        {"overdue": "true"},
        {"disposition": "rectify", "status": "closed"},
        {"flag": "central_inspection"},
        {"street": "120102002", "deadline_from": "2026-06-01", "deadline_to": "2026-12-31"},
    ],
)
def test_points_hold_exactly_the_filtered_sites(demo, params) -> None:
    flt = _filter(**params)
    points = map_data.site_points(demo, flt, TODAY)
    truth = _truth(demo, flt)
    decoded = map_data.decode_points(points.payload)
    assert points.total == len(decoded) == len(truth) > 0
    assert [p["id"] for p in decoded] == sorted(truth)
    for p in decoded:
        site = truth[p["id"]]
        assert abs(p["lon"] - site["lon"]) < 1e-6 and abs(p["lat"] - site["lat"]) < 1e-6
        assert (p["key"], p["disposition"]) == (site["key"], site["disposition"])
    for key in palette.legend_keys():
        assert points.counts[key] == sum(1 for s in truth.values() if s["key"] == key), key
    assert sum(points.counts[k] for k in palette.legend_keys()) == points.counts["total"]


def test_no_sites_gives_an_empty_payload(db_session) -> None:
    points = map_data.site_points(db_session, SiteFilter(), TODAY)
    assert points.total == 0 and map_data.decode_points(points.payload) == []
    assert set(points.counts) == {*palette.legend_keys(), "total"}


def test_payload_is_small(demo) -> None:
    """Well under 20 bytes a site (a folium Marker with a popup is about 1 KB)."""
    points = map_data.site_points(demo, SiteFilter(), TODAY)
    assert len(points.payload.encode()) < 20 * points.total


def test_gcj02_shift_moves_every_point(demo) -> None:
    plain = map_data.decode_points(map_data.site_points(demo, SiteFilter(), TODAY).payload)
    shifted = map_data.decode_points(
        map_data.site_points(demo, SiteFilter(), TODAY, shift=wgs84_to_gcj02).payload
    )
    assert [p["id"] for p in plain] == [p["id"] for p in shifted]
    for a, b in zip(plain, shifted, strict=True):
        lon, lat = wgs84_to_gcj02(a["lon"], a["lat"])
        assert abs(b["lon"] - lon) < 2e-6 and abs(b["lat"] - lat) < 2e-6
        assert b["key"] == a["key"]


def test_outlines_with_labels_inside_and_the_street_frame(db_session) -> None:
    shapes = map_data.outlines(db_session, "120102", frame_street="120102002")
    features = shapes.streets["features"]
    assert len(features) == 12 and shapes.district is not None and shapes.any_approximate
    for f in features:
        lon, lat = f["properties"]["label"]
        inside = db_session.execute(
            select(
                func.ST_Contains(Street.geom, func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326))
            ).where(Street.code == f["properties"]["code"])
        ).scalar_one()
        assert inside, f["properties"]["name"]
    extent = db_session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) e FROM streets WHERE code = '120102002') x"
        )
    ).one()
    assert shapes.bounds == pytest.approx(tuple(extent))
    whole = map_data.outlines(db_session, "120102").bounds
    assert whole[0] < shapes.bounds[0] and whole[2] > shapes.bounds[2]


def test_outlines_shifted_for_gcj02(db_session) -> None:
    plain = map_data.outlines(db_session, "120102")
    shifted = map_data.outlines(db_session, "120102", shift=wgs84_to_gcj02)
    a = plain.streets["features"][0]["geometry"]["coordinates"][0][0]
    b = shifted.streets["features"][0]["geometry"]["coordinates"][0][0]
    assert b == pytest.approx(list(wgs84_to_gcj02(*a)))
    assert shifted.bounds[0] == pytest.approx(wgs84_to_gcj02(plain.bounds[0], plain.bounds[1])[0])


def test_popup_has_no_personal_data(demo) -> None:
    site = demo.scalar(select(Site).where(Site.person_name != "").limit(1))
    popup = map_data.site_popup(demo, site.id, TODAY)
    assert popup["code"] == site.code and popup["address"] == site.address
    assert popup["disposition_label"] in ("拆除", "规范治理")
    assert site.person_name not in str(popup) and site.person_contact not in str(popup)
    with pytest.raises(NotFound):
        map_data.site_popup(demo, 10**9, TODAY)
