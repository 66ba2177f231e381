"""Patrols (issue 9): areas, priorities, plans and routes, exports, findings, coverage, scope."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import gpxpy
import pytest
from sqlalchemy import func, select, text

from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, ValidationError
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.patrol import coverage, findings, plans
from gis_app.features.patrol.areas import parse_area
from gis_app.features.patrol.models import Patrol, PatrolFinding, PatrolStop
from gis_app.features.patrol.priorities import parse_priorities, select_candidates
from gis_app.features.photos.models import Photo
from tests.support.accounts import csrf_of
from tests.support.workflow import DZG, LIMITS, OFFICE, ZSM, image_bytes, make_site

DISTRICT = "120102"
BORDER = (117.2470173, 39.1031997)  # on the border of 大直沽 (west) and 中山门 (east)
DZG_INSPECTOR = Actor("巡查队员甲", "inspector", DZG)
ZSM_INSPECTOR = Actor("巡查队员乙", "inspector", ZSM)


def _site(db_session, code, dx=0.0, dy=0.0, origin=BORDER, **fields):
    return make_site(
        db_session,
        OFFICE,
        code=code,
        lon=round(origin[0] + dx, 7),
        lat=round(origin[1] + dy, 7),
        **fields,
    )


@pytest.fixture()
def border_sites(db_session):
    """Two sites 69 m either side of the border, one 173 m east, one 97 m west (inside a
    100 m circle) and one 110 m north (outside it)."""
    return {
        "west": _site(db_session, "P-W", dx=-0.0008, committed_deadline="2026-06-01"),
        "east": _site(db_session, "P-E", dx=0.0008, status="new"),
        "far": _site(db_session, "P-F", dx=0.002, status="new"),
        "edge_in": _site(db_session, "P-I", dx=-0.00112, status="in_progress"),
        "edge_out": _site(db_session, "P-O", dy=0.00099, status="new"),
    }


def _ids(candidates):
    return {c.site_id for c in candidates}


def _select(db_session, area_raw, actor=OFFICE, **prio):
    area = parse_area(db_session, area_raw, actor)
    return select_candidates(db_session, area, parse_priorities(prio), actor)


# ---------------------------------------------------------------- areas


def test_circle_across_a_street_boundary_on_the_geography(db_session, border_sites) -> None:
    s = border_sites
    found, matched = _select(
        db_session, {"kind": "circle", "center": list(BORDER), "radius_m": 100}
    )
    assert _ids(found) == {s["west"].id, s["east"].id, s["edge_in"].id}
    assert {c.street_code for c in found} == {DZG, ZSM}
    assert matched["new"] == 1 and matched["overdue"] == 1 and matched["in_progress"] == 1
    # the street scope: each street's inspector gets its own side only
    west, _ = _select(
        db_session, {"kind": "circle", "center": list(BORDER), "radius_m": 100}, DZG_INSPECTOR
    )
    assert _ids(west) == {s["west"].id, s["edge_in"].id}
    east, _ = _select(
        db_session, {"kind": "circle", "center": list(BORDER), "radius_m": 100}, ZSM_INSPECTOR
    )
    assert _ids(east) == {s["east"].id}


def test_polygon_with_a_hole_leaves_the_hole_out(db_session, border_sites) -> None:
    s = border_sites
    x, y = BORDER
    outer = [[x - 0.003, y - 0.002], [x + 0.003, y - 0.002], [x + 0.003, y + 0.002],
             [x - 0.003, y + 0.002], [x - 0.003, y - 0.002]]  # fmt: skip
    hole = [[x + 0.0005, y - 0.0003], [x + 0.0005, y + 0.0003], [x + 0.0011, y + 0.0003],
            [x + 0.0011, y - 0.0003], [x + 0.0005, y - 0.0003]]  # fmt: skip
    geometry = {"type": "Polygon", "coordinates": [outer, hole]}
    found, _ = _select(db_session, {"kind": "polygon", "geometry": geometry})
    assert _ids(found) == {s["west"].id, s["far"].id, s["edge_in"].id, s["edge_out"].id}
    assert s["east"].id not in _ids(found)  # in the hole


def test_self_intersecting_polygon_is_repaired_or_refused(db_session, border_sites) -> None:
    x, y = BORDER
    bowtie = [[x - 0.003, y - 0.002], [x + 0.003, y + 0.002], [x + 0.003, y - 0.002],
              [x - 0.003, y + 0.002], [x - 0.003, y - 0.002]]  # fmt: skip
    area = parse_area(
        db_session, {"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [bowtie]}},
        OFFICE,
    )  # fmt: skip
    assert area.repaired and "intersection" in area.repaired.lower()
    assert area.geojson["type"] == "MultiPolygon"
    with pytest.raises(ValidationError) as refused:
        parse_area(
            db_session,
            {"kind": "polygon", "repair": False,
             "geometry": {"type": "Polygon", "coordinates": [bowtie]}},
            OFFICE,
        )  # fmt: skip
    assert refused.value.field == "area.geometry" and "无效" in refused.value.message


def test_street_and_map_view_areas(db_session, border_sites) -> None:
    s = border_sites
    found, _ = _select(db_session, {"kind": "street", "street": ZSM})
    assert {s["east"].id, s["far"].id} <= _ids(found)
    assert s["west"].id not in _ids(found)
    x, y = BORDER
    view, _ = _select(
        db_session, {"kind": "bbox", "bbox": [x - 0.0009, y - 0.0001, x + 0.0009, y + 0.0001]}
    )
    assert _ids(view) == {s["west"].id, s["east"].id}
    with pytest.raises(Forbidden):
        parse_area(db_session, {"kind": "street", "street": ZSM}, DZG_INSPECTOR)


def test_priorities_order_cap_and_reasons(db_session, border_sites) -> None:
    s = border_sites
    circle = {"kind": "circle", "center": list(BORDER), "radius_m": 300}
    found, matched = _select(db_session, circle, priorities=["in_progress", "overdue", "new"])
    assert [c.site_id for c in found][:2] == [s["edge_in"].id, s["west"].id]
    assert found[1].priority == "overdue" and "逾期" in found[1].reason
    assert matched == {"in_progress": 1, "overdue": 1, "new": 3}
    capped, _ = _select(db_session, circle, priorities=["new"], cap=2)
    assert len(capped) == 2 and all(c.priority == "new" for c in capped)
    soon = _site(db_session, "P-S", dx=-0.0005, dy=-0.0005, committed_deadline="2026-06-18")
    closed = _site(db_session, "P-C", dx=-0.0004, dy=0.0004, status="closed")
    found, _ = _select(db_session, circle, priorities=["due_soon", "rebound_check"], due_days=5)
    assert [c.site_id for c in found] == [soon.id, closed.id]
    assert "3 天后到期" in found[0].reason and "回潮" in found[1].reason


@pytest.mark.parametrize(
    ("area", "field"),
    [
        ({"kind": "circle", "center": list(BORDER), "radius_m": -5}, "area.radius_m"),
        ({"kind": "circle", "center": list(BORDER), "radius_m": 1e9}, "area.radius_m"),
        ({"kind": "circle", "center": [500, 39], "radius_m": 10}, "area.center"),
        ({"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [[[1, 2], [3]]]}},
         "area.geometry"),
        ({"kind": "polygon", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}},
         "area.geometry"),
        ({"kind": "polygon", "geometry": "{not json"}, "area.geometry"),
        ({"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [
            ["117.2,39.1", "117.3,39.1", "117.3,39.2", "117.2,39.1"]]}}, "area.geometry"),
        ({"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [
            [[117.2, 39.1], [117.2, 39.1], [117.2, 39.1], [117.2, 39.1]]]}}, "area.geometry"),
        ({"kind": "hexagon"}, "area.kind"),
        ({"kind": "bbox", "bbox": "1,2,3"}, "area.bbox"),
    ],
)  # fmt: skip
def test_bad_area_input_names_the_field_and_writes_nothing(client, auth, area, field) -> None:
    headers = auth.headers("office.p", "district_officer")
    before = client.get("/api/v1/patrols", headers=headers).get_json()["patrols"]
    response = client.post("/api/v1/patrols", json={"area": area}, headers=headers)
    assert response.status_code in (400, 422), response.get_json()
    assert response.get_json()["field"] == field
    assert client.get("/api/v1/patrols", headers=headers).get_json()["patrols"] == before


# ---------------------------------------------------------------- plans and routes


def test_plan_saved_with_route_and_exports(client, auth, db_session, border_sites) -> None:
    headers = auth.headers("office.p", "district_officer")
    body = {
        "title": "边界巡查",
        "area": {"kind": "circle", "center": list(BORDER), "radius_m": 300},
        "priorities": ["new", "overdue", "in_progress"],
        "start": [BORDER[0] - 0.004, BORDER[1]],
    }
    response = client.post("/api/v1/patrols", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["created"] and len(doc["stops"]) == 5
    assert {s["site_id"] for s in doc["stops"]} == {s.id for s in border_sites.values()}
    assert doc["total_m"] > 0 and doc["walk_minutes"] > doc["bike_minutes"] > 0
    # the circle spans both streets: a district-wide patrol, not one street's (whose officers
    # would see the route through the other street's sites and could not tick them)
    assert doc["network"] == "geodesic" and doc["street"] is None
    assert all(s["reason"] for s in doc["stops"])
    # GPX read back by a GPX parser: the same stops, in order, and the route
    gpx_response = client.get(f"/api/v1/patrols/{doc['id']}/route.gpx", headers=headers)
    assert gpx_response.mimetype == "application/gpx+xml"
    parsed = gpxpy.parse(gpx_response.get_data(as_text=True))
    names = [w.name for w in parsed.waypoints]
    assert names == ["起点", *[f"{s['ord']}. {s['code']}" for s in doc["stops"]]]
    for waypoint, stop in zip(parsed.waypoints[1:], doc["stops"], strict=True):
        assert (round(waypoint.longitude, 6), round(waypoint.latitude, 6)) == (
            round(stop["lon"], 6),
            round(stop["lat"], 6),
        )
    assert len(parsed.routes[0].points) == len(doc["stops"]) + 2  # start, stops, back to start
    assert len(parsed.tracks[0].segments[0].points) == len(doc["route"])
    # GeoJSON (RFC 7946): lon/lat, no crs
    geo = client.get(f"/api/v1/patrols/{doc['id']}/route.geojson", headers=headers)
    assert geo.mimetype == "application/geo+json"
    fc = geo.get_json()
    assert "crs" not in fc and fc["features"][0]["geometry"]["type"] == "LineString"
    stops = [f for f in fc["features"] if f["properties"]["role"] == "stop"]
    assert [f["properties"]["code"] for f in stops] == [s["code"] for s in doc["stops"]]
    assert 117 < stops[0]["geometry"]["coordinates"][0] < 118
    # the pages: the route on the map, the printable sheet
    auth.login(client, "office.page", "district_officer")
    page = client.get(f"/patrols/{doc['id']}").get_data(as_text=True)
    assert 'name="viewport"' in page and "步行约" in page and "patrol-pin" in page
    sheet = client.get(f"/patrols/{doc['id']}/sheet").get_data(as_text=True)
    assert "@page" not in sheet and "patrol-sheet.css" in sheet
    assert sheet.count("☐") >= 2 * len(doc["stops"])


def test_start_point_outside_the_district_is_refused(client, auth, border_sites) -> None:
    headers = auth.headers("office.p", "district_officer")
    body = {"area": {"kind": "street", "street": DZG}, "start": [116.40, 39.90]}  # Beijing
    response = client.post("/api/v1/patrols", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["field"] == "start"
    assert "不在本区范围内" in response.get_json()["message"]
    response = client.post(
        "/api/v1/patrols/preview", json={**body, "start": None, "end": [117.0, 39.0]},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 422 and response.get_json()["field"] == "end"


def test_empty_area_gives_a_clear_message(client, auth, connection, border_sites) -> None:
    headers = auth.headers("office.p", "district_officer")
    body = {"area": {"kind": "circle", "center": [117.2050, 39.1500], "radius_m": 50}}
    response = client.post("/api/v1/patrols", json=body, headers=headers)
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["created"] is False and "没有需要巡查的点位" in doc["message"]
    assert connection.execute(select(func.count()).select_from(Patrol)).scalar() == 0
    auth.login(client, "office.page", "district_officer")
    page = client.get("/patrols/new")
    assert page.status_code == 200 and 'id="plan-form"' in page.get_data(as_text=True)
    form = {"area_kind": "circle", "center_lon": "117.205", "center_lat": "39.15",
            "radius_m": "50", "csrf_token": csrf_of(page.get_data(as_text=True))}  # fmt: skip
    empty = client.post("/patrols/new", data=form)
    assert empty.status_code == 200
    assert "没有需要巡查的点位" in empty.get_data(as_text=True).split('id="plan-notice"')[1]
    form.update(radius_m="-3")
    bad = client.post("/patrols/new", data=form)
    assert bad.status_code == 422 and 'data-field="area.radius_m"' in bad.get_data(as_text=True)
    assert connection.execute(select(func.count()).select_from(Patrol)).scalar() == 0


def test_office_start_is_the_street_office(db_session, border_sites) -> None:
    plan = plans.build_plan(
        db_session, {"area": {"kind": "street", "street": ZSM}}, ZSM_INSPECTOR, DISTRICT
    )
    assert plan.start_source == "office" and plan.office.approximate
    assert plan.start == (plan.office.lon, plan.office.lat)
    db_session.execute(
        text("UPDATE streets SET office = ST_SetSRID(ST_MakePoint(117.262, 39.101), 4326),"
             " office_address = '中山门街道办事处' WHERE code = :c"), {"c": ZSM}
    )  # fmt: skip
    plan = plans.build_plan(
        db_session, {"area": {"kind": "street", "street": ZSM}}, ZSM_INSPECTOR, DISTRICT
    )
    assert plan.start == (117.262, 39.101) and not plan.office.approximate


# ---------------------------------------------------------------- street scope


def test_an_inspector_of_a_cannot_see_or_plan_bs_sites(client, auth, db_session, border_sites):
    b_headers = auth.headers("insp.b", "inspector", ZSM)
    made = client.post(
        "/api/v1/patrols", json={"area": {"kind": "street"}}, headers=b_headers
    ).get_json()
    assert made["created"] and made["street"] == ZSM
    a_headers = auth.headers("insp.a", "inspector", DZG)
    assert client.get(f"/api/v1/patrols/{made['id']}", headers=a_headers).status_code == 404
    assert (
        client.get(f"/api/v1/patrols/{made['id']}/route.gpx", headers=a_headers).status_code == 404
    )
    stop = made["stops"][0]["id"]
    visit = client.post(f"/api/v1/patrols/{made['id']}/stops/{stop}/visit", headers=a_headers)
    assert visit.status_code == 404
    assert client.get("/api/v1/patrols", headers=a_headers).get_json()["patrols"] == []
    refused = client.post(
        "/api/v1/patrols", json={"area": {"kind": "street", "street": ZSM}}, headers=a_headers
    )
    assert refused.status_code == 403
    # a circle over the border gives A's inspector only A's side
    plan = client.post(
        "/api/v1/patrols/preview",
        json={"area": {"kind": "circle", "center": list(BORDER), "radius_m": 100}},
        headers=a_headers,
    ).get_json()
    assert {s["street_code"] for s in plan["stops"]} == {DZG}


# ---------------------------------------------------------------- findings


def _finding(client, headers, lon, lat, **extra):
    data = {"lon": str(lon), "lat": str(lat), "note": "新搭彩钢棚", **extra}
    data["photos"] = (io.BytesIO(image_bytes((10, 120, 200))), "site.jpg")
    return client.post("/api/v1/findings", data=data, headers=headers,
                       content_type="multipart/form-data")  # fmt: skip


def test_a_finding_creates_a_new_site(client, auth, app, tmp_path, monkeypatch, connection):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    headers = auth.headers("insp.a", "inspector", DZG)
    response = _finding(client, headers, 117.2381, 39.1100)
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["action"] == "created" and doc["street"] == DZG
    site = connection.execute(
        select(Site.id, Site.status, Site.source, Site.note).where(Site.id == doc["site_id"])
    ).one()
    assert (site.status, site.source, site.note) == ("new", "patrol", "新搭彩钢棚")
    photos = connection.execute(select(Photo.id, Photo.kind).where(Photo.site_id == site.id)).all()
    assert [p.kind for p in photos] == ["before"] and doc["photo_ids"] == [photos[0].id]
    # on the office's dashboard: counted as 新发现 in its street
    office = auth.headers("office.p", "district_officer")
    counts = client.get(f"/api/v1/sites/counts?street={DZG}", headers=office).get_json()
    assert counts["new"] >= 1
    code = connection.execute(select(Site.code).where(Site.id == doc["site_id"])).scalar()
    auth.login(client, "office.dash", "district_officer")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    news = dashboard.split('id="patrol-findings"')[1].split("</ul>")[0]
    assert code in news and "新登记点位" in news
    headers = auth.headers("insp.a", "inspector", DZG)
    # a point outside every street, a missing photo: refused, nothing written
    before = connection.execute(select(func.count()).select_from(Site)).scalar()
    assert _finding(client, headers, 117.0, 39.0).status_code == 422
    bare = client.post("/api/v1/findings", data={"lon": "117.2381", "lat": "39.11", "note": "x"},
                       headers=headers, content_type="multipart/form-data")  # fmt: skip
    assert bare.status_code == 422 and bare.get_json()["field"] == "photos"
    assert connection.execute(select(func.count()).select_from(Site)).scalar() == before


def test_a_finding_within_30_m_is_offered_as_that_site(
    client, auth, app, tmp_path, monkeypatch, connection, db_session
) -> None:
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    existing = make_site(db_session, OFFICE, code="P-DUP", lon=117.2381, lat=39.1100)
    headers = auth.headers("insp.a", "inspector", DZG)
    near = (117.2381 + 0.0002, 39.1100 + 0.0001)  # about 20 m away
    offered = _finding(client, headers, *near)
    assert offered.status_code == 409
    body = offered.get_json()
    assert body["candidates"][0]["id"] == existing.id and body["candidates"][0]["offer"] == "attach"
    assert 15 < body["candidates"][0]["distance_m"] < 30
    count = connection.execute(select(func.count()).select_from(PatrolFinding)).scalar()
    assert count == 0
    attached = _finding(client, headers, *near, attach_to=str(existing.id))
    assert attached.status_code == 201 and attached.get_json()["action"] == "attached"
    assert attached.get_json()["site_id"] == existing.id
    forced = _finding(client, headers, *near, force_reason="隔壁院另一处")
    assert forced.status_code == 201 and forced.get_json()["action"] == "created"
    assert forced.get_json()["duplicate_of"] == existing.id
    # 35 m west of it (and 52 m from the forced one): no offer
    far = _finding(client, headers, 117.2381 - 0.0004, 39.1100)
    assert far.status_code == 201 and far.get_json()["action"] == "created"


def test_a_finding_at_a_closed_site_reopens_it(db_session, tmp_path, border_sites) -> None:
    store = findings.PhotoStore(tmp_path / "photos")
    closed = make_site(db_session, OFFICE, code="P-CL", lon=117.2381, lat=39.1100, status="closed")
    raw = {"lon": 117.2381, "lat": 39.11005, "note": "原址又搭起棚子"}
    photo = [findings.Upload(image_bytes((200, 20, 20)), "r.jpg")]
    with pytest.raises(Conflict) as offer:
        findings.record_finding(db_session, store, LIMITS, DZG_INSPECTOR, raw, photo)
    assert offer.value.details["candidates"][0]["offer"] == "rebound"
    result = findings.record_finding(
        db_session, store, LIMITS, DZG_INSPECTOR, {**raw, "attach_to": closed.id}, photo
    )
    assert result.finding.action == "rebound" and not result.created
    db_session.refresh(closed)
    assert closed.status == "in_progress"
    event = db_session.scalars(
        select(SiteEvent).where(SiteEvent.site_id == closed.id, SiteEvent.action == "reopen")
    ).one()
    assert event.changes["cause"] == [None, "rebound"] and "原址又搭起棚子" in event.reason
    # another street's inspector: refused, nothing changes
    other = make_site(db_session, OFFICE, code="P-CL2", lon=117.2620, lat=39.1010, status="closed")
    with pytest.raises((Forbidden, Conflict)):
        findings.record_finding(
            db_session, store, LIMITS, DZG_INSPECTOR,
            {"lon": 117.2620, "lat": 39.1010, "note": "x", "attach_to": other.id}, photo,
        )  # fmt: skip


# ---------------------------------------------------------------- the log and coverage


def test_coverage_on_a_constructed_week(db_session, border_sites) -> None:
    s = border_sites
    # a week: Monday 2026-06-08 to Sunday 06-14 (Asia/Shanghai); ZSM has east, far (open)
    patrol = Patrol(
        district_code=DISTRICT, street_id=db_session.scalar(
            text("SELECT id FROM streets WHERE code = :c"), {"c": ZSM}),
        title="t", area_kind="street", area=func.ST_GeomFromText("POINT(117.26 39.10)", 4326),
        start_point=func.ST_GeomFromText("POINT(117.26 39.10)", 4326), status="finished",
        created_by="t", created_at=datetime(2026, 6, 9, 1, tzinfo=UTC),
        started_at=datetime(2026, 6, 9, 1, tzinfo=UTC),
    )  # fmt: skip
    db_session.add(patrol)
    db_session.flush()
    checks = [
        (s["east"], datetime(2026, 6, 9, 2, tzinfo=UTC), True),  # visited in the week
        (s["far"], datetime(2026, 6, 14, 17, tzinfo=UTC), True),  # Mon 01:00 local: next week
    ]
    for i, (site, at, visited) in enumerate(checks, start=1):
        stop = PatrolStop(patrol_id=patrol.id, district_code=DISTRICT, site_id=site.id, ord=i,
                          priority="new", visited=visited, checked_at=at)  # fmt: skip
        db_session.add(stop)
    db_session.execute(  # registered before the week
        text("UPDATE sites SET created_at = '2026-06-01T00:00:00Z' WHERE id = ANY(:ids)"),
        {"ids": [x.id for x in s.values()]},
    )
    db_session.flush()
    week = coverage.weekly_coverage(db_session, OFFICE, DISTRICT, coverage.parse_week("2026-W24"))
    zsm = next(r for r in week["streets"] if r["street"] == ZSM)
    assert week["from"] == "2026-06-08" and week["to"] == "2026-06-14"
    zsm_open = db_session.scalar(
        text("SELECT count(*) FROM sites s JOIN streets t ON t.id = s.street_id "
             "WHERE t.code = :c AND s.status <> 'closed'"), {"c": ZSM}
    )  # fmt: skip
    assert (zsm["open_sites"], zsm["visited"]) == (zsm_open, 1)
    assert zsm["share"] == round(1 / zsm_open, 4)
    nxt = coverage.weekly_coverage(db_session, OFFICE, DISTRICT, coverage.parse_week("2026-W25"))
    assert next(r for r in nxt["streets"] if r["street"] == ZSM)["visited"] == 1
    # streets without a patrol in the last N days (today 2026-06-15): ZSM patrolled on 06-09
    stale = coverage.stale_streets(db_session, OFFICE, DISTRICT, 6)  # since 06-10
    assert ZSM in [r["street"] for r in stale["streets"]] and len(stale["streets"]) == 12
    stale = coverage.stale_streets(db_session, OFFICE, DISTRICT, 7)  # since 06-09
    assert ZSM not in [r["street"] for r in stale["streets"]] and len(stale["streets"]) == 11
    with pytest.raises(ValidationError):
        coverage.parse_week("2026-W99")


def test_patrol_log_start_tick_finish(client, auth, border_sites) -> None:
    headers = auth.headers("insp.b", "inspector", ZSM)
    made = client.post("/api/v1/patrols", json={"area": {"kind": "street"}}, headers=headers)
    doc = made.get_json()
    stop = doc["stops"][0]["id"]
    ticked = client.post(
        f"/api/v1/patrols/{doc['id']}/stops/{stop}/visit", json={"note": "无变化"}, headers=headers
    ).get_json()
    assert ticked["status"] == "active" and ticked["started_by"] == "insp.b"
    assert ticked["stops"][0]["visited"] and ticked["stops"][0]["note"] == "无变化"
    done = client.post(f"/api/v1/patrols/{doc['id']}/finish", headers=headers).get_json()
    assert done["status"] == "finished"
    again = client.post(f"/api/v1/patrols/{doc['id']}/finish", headers=headers)
    assert again.status_code == 409
    log = client.get("/api/v1/patrols", headers=headers).get_json()["patrols"]
    assert log[0]["id"] == doc["id"] and log[0]["visited"] == 1
    cov = client.get("/api/v1/patrols/coverage?week=2026-W25", headers=headers).get_json()
    assert [r["street"] for r in cov["streets"]] == [ZSM] and cov["streets"][0]["visited"] == 1
    assert cov["stale"]["streets"] == []
    office = auth.headers("office.p", "district_officer")
    stale = client.get("/api/v1/patrols/stale?days=3", headers=office).get_json()
    assert ZSM not in [r["street"] for r in stale["streets"]]
    auth.login(client, "office.page", "district_officer")
    page = client.get("/patrols/coverage?week=2026-W25").get_data(as_text=True)
    assert f'<tr data-street="{ZSM}">' in page and 'id="coverage"' in page
    assert client.get("/patrols/coverage?week=bad").status_code == 422


def test_openapi_lists_the_patrol_api(client, auth) -> None:
    doc = client.get("/api/v1/openapi.json", headers=auth.headers("office.o", "district_officer"))
    paths = json.loads(doc.get_data())["paths"]
    for path in ("/patrols", "/patrols/preview", "/patrols/{patrol_id}/route.gpx",
                 "/findings", "/patrols/coverage", "/patrols/stale"):  # fmt: skip
        assert path in paths
    # declared: the operations' ids, bodies, queries and answers come from patrol/schemas.py
    ids = {op["operationId"] for path, item in paths.items() for op in item.values()}
    assert {"previewPatrol", "createPatrol", "listPatrols", "getPatrol", "patrolGpx",
            "patrolGeojson", "startPatrol", "finishPatrol", "visitStop", "patrolCoverage",
            "staleStreets", "createFinding", "getFinding"} <= ids  # fmt: skip
    create = paths["/patrols"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PatrolPlanCreate"
    )
    assert {"200", "201", "400", "422"} <= set(create["responses"])
    finding = paths["/findings"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert finding["schema"]["$ref"].endswith("/FindingForm")
    assert (
        "application/gpx+xml"
        in paths["/patrols/{patrol_id}/route.gpx"]["get"]["responses"]["200"]["content"]
    )
    geojson = paths["/patrols/{patrol_id}/route.geojson"]["get"]["responses"]["200"]
    assert "application/geo+json" in geojson["content"]
    query = paths["/patrols/coverage"]["get"]["parameters"]
    assert {(p["name"], p["in"]) for p in query} == {("week", "query"), ("days", "query")}


def test_the_declared_api_refuses_before_the_service_runs(client, auth) -> None:
    headers = auth.headers("office.p", "district_officer")
    # a kind that is not text was a server error; a bad tick is named before the patrol is
    # looked up (as the service did)
    kind = client.post(
        "/api/v1/patrols/preview", json={"area": {"kind": ["street"]}}, headers=headers
    )
    assert kind.status_code == 422 and kind.get_json()["field"] == "area.kind"
    tick = client.post(
        "/api/v1/patrols/999999/stops/1/visit", json={"visited": "maybe"}, headers=headers
    )
    assert tick.status_code == 422 and tick.get_json()["field"] == "visited"
    untitled = client.post(
        "/api/v1/patrols", json={"title": 5, "area": {"kind": "x"}}, headers=headers
    )
    assert untitled.get_json()["field"] == "title"


def test_a_finding_keeps_every_photo_of_the_form(client, auth, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    headers = auth.headers("insp.a", "inspector", DZG)
    data = {"lon": "117.2381", "lat": "39.1100", "note": "两处彩钢棚",
            "photos": [(io.BytesIO(image_bytes((10, 120, 200))), "a.jpg"),
                       (io.BytesIO(image_bytes((200, 20, 10))), "b.jpg")]}  # fmt: skip
    response = client.post("/api/v1/findings", data=data, headers=headers,
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["photo_ids"]) == 2


def test_cli_sets_the_street_office_and_prints_coverage(app_ctx, connection) -> None:
    from click.testing import CliRunner

    from gis_app.cli import cli

    runner = CliRunner()
    outside = runner.invoke(cli, ["patrol", "office", ZSM, "116.4", "39.9"], obj={"app": app_ctx})
    assert outside.exit_code == 1 and "不在本区范围内" in outside.output
    ok = runner.invoke(
        cli,
        ["patrol", "office", ZSM, "117.262", "39.101", "--address", "中山门街道办事处"],
        obj={"app": app_ctx},
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["approximate"] is False
    row = connection.execute(
        text("SELECT ST_X(office), office_address FROM streets WHERE code = :c"), {"c": ZSM}
    ).one()
    assert tuple(row) == (117.262, "中山门街道办事处")
    cov = runner.invoke(cli, ["patrol", "coverage", "--week", "2026-W24"], obj={"app": app_ctx})
    assert cov.exit_code == 0, cov.output
    assert json.loads(cov.stdout)["week"] == "2026-W24"


# ---------------------------------------------------------------- review fixes


def test_a_plan_across_streets_is_district_wide_and_hidden_from_a_street(
    client, auth, border_sites
) -> None:
    body = {"area": {"kind": "circle", "center": list(BORDER), "radius_m": 300}}
    created = client.post(
        "/api/v1/patrols", json=body, headers=auth.headers("office.p", "district_officer")
    ).get_json()
    assert created["street"] is None and len(created["stops"]) == 5  # both sides of the border
    street = auth.headers("officer.dzg", "street_officer", DZG)
    assert client.get(f"/api/v1/patrols/{created['id']}", headers=street).status_code in (403, 404)
    gpx = client.get(f"/api/v1/patrols/{created['id']}/route.gpx", headers=street)
    assert gpx.status_code in (403, 404)
    # a plan inside one street stays that street's
    west = {"area": {"kind": "circle", "center": [BORDER[0] - 0.0008, BORDER[1]], "radius_m": 30}}
    one = client.post(
        "/api/v1/patrols", json=west, headers=auth.headers("office.p", "district_officer")
    ).get_json()
    assert one["street"] == DZG
    assert client.get(f"/api/v1/patrols/{one['id']}", headers=street).status_code == 200


def test_stop_tooltips_cannot_break_out_of_the_map_script(client, auth, db_session) -> None:
    hostile = "`);alert(1);(`${document.cookie}\\"
    _site(db_session, "P-X", dx=-0.0008, status="new", address=hostile)
    headers = auth.headers("office.p", "district_officer")
    west = {"area": {"kind": "circle", "center": [BORDER[0] - 0.0008, BORDER[1]], "radius_m": 30}}
    created = client.post("/api/v1/patrols", json=west, headers=headers).get_json()
    assert [s["address"] for s in created["stops"]] == [hostile]
    auth.login(client, "office.page", "district_officer")
    page = client.get(f"/patrols/{created['id']}").get_data(as_text=True)
    assert "&#96;);alert(1);(&#96;&#36;{document.cookie}&#92;" in page
    scripts = "".join(re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S))
    assert "`);alert(1)" not in scripts and "${document.cookie}" not in scripts


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"area": {"kind": "polygon", "repair": "perhaps", "geometry": None}}, "area.repair"),
        ({"area": {"kind": "street"}}, "area.street"),
    ],
)
def test_review_refusals_name_the_field(client, auth, body, field) -> None:
    headers = auth.headers("office.p", "district_officer")
    response = client.post("/api/v1/patrols/preview", json=body, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == field


def test_repair_false_as_text_refuses_a_bowtie(db_session) -> None:
    x, y = BORDER
    bowtie = [[x - 0.003, y - 0.002], [x + 0.003, y + 0.002], [x + 0.003, y - 0.002],
              [x - 0.003, y + 0.002], [x - 0.003, y - 0.002]]  # fmt: skip
    raw = {"kind": "polygon", "repair": "false",
           "geometry": {"type": "Polygon", "coordinates": [bowtie]}}  # fmt: skip
    with pytest.raises(ValidationError):
        parse_area(db_session, raw, OFFICE)


@pytest.mark.parametrize("week", ["9999-W52", "0001-W01", "1999-W10"])
def test_weeks_out_of_range_are_refused(client, auth, week) -> None:
    headers = auth.headers("office.p", "district_officer")
    response = client.get(f"/api/v1/patrols/coverage?week={week}", headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "week"


def test_a_bad_latitude_is_named_lat(client, auth) -> None:
    headers = auth.headers("insp.dzg", "inspector", DZG)
    data = {"lon": "117.24", "lat": "north", "note": "新搭建彩钢棚",
            "photos": (io.BytesIO(image_bytes()), "a.jpg")}  # fmt: skip
    response = client.post("/api/v1/findings", data=data, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "lat"
