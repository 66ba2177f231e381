"""Sites chosen in the ledger list handed to a patrol (issue 15, point 1): a new patrol of
exactly those sites for an inspector and a day, or more stops of a planned patrol; the street
scope, the refusals in Chinese beside their field, nothing written when refused, the audit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, ValidationError
from gis_app.features.patrol import assign, plans
from gis_app.features.patrol.models import Patrol, PatrolStop
from tests.support.accounts import csrf_of
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

DISTRICT = "120102"
BORDER = (117.2470173, 39.1031997)  # on the border of 大直沽 (west) and 中山门 (east)
DZG_OFFICER = Actor("officer.assign.dzg", "street_officer", DZG)


@pytest.fixture()
def sites(db_session, auth):
    """Four 大直沽 sites west of the border, two 中山门 sites east of it; an inspector of each."""
    auth.user("insp.assign.dzg", "inspector", DZG, display_name="大直沽队员王")
    auth.user("insp.assign.zsm", "inspector", ZSM, display_name="中山门队员李")
    west = [
        make_site(
            db_session,
            OFFICE,
            code=f"A-W{i}",
            lon=round(BORDER[0] - 0.0008 - 0.0004 * i, 7),
            lat=round(BORDER[1] + 0.0003 * i, 7),
            status="registered" if i == 3 else "new",
        )
        for i in range(4)
    ]
    east = [
        make_site(
            db_session,
            OFFICE,
            code=f"A-E{i}",
            lon=round(BORDER[0] + 0.0009 + 0.0004 * i, 7),
            lat=BORDER[1],
        )
        for i in range(2)
    ]
    return {"west": west, "east": east}


def _tomorrow() -> str:
    return (clock.today() + timedelta(days=1)).isoformat()


def _stop_sites(db_session, patrol_id: int) -> list[int]:
    return list(
        db_session.scalars(
            select(PatrolStop.site_id)
            .where(PatrolStop.patrol_id == patrol_id)
            .order_by(PatrolStop.ord)
        )
    )


def _patrols(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Patrol))


def test_a_new_patrol_has_exactly_the_chosen_sites(db_session, sites) -> None:
    chosen = [s.id for s in sites["west"][:3]] + [sites["west"][3].id]  # one in no class too
    done = assign.assign_sites(
        db_session,
        {"sites": chosen, "assignee": "insp.assign.dzg", "date": _tomorrow()},
        OFFICE,
        DISTRICT,
    )
    patrol = done.patrol
    assert done.created and done.added == 4
    assert sorted(_stop_sites(db_session, patrol.id)) == sorted(chosen)
    assert patrol.area_kind == "sites" and patrol.assignee == "insp.assign.dzg"
    assert patrol.planned_for.isoformat() == _tomorrow()
    doc = plans.patrol_dict(db_session, patrol, OFFICE)
    assert doc["street"] == DZG and doc["area_label"] == "所选点位"
    assert "大直沽队员王" in doc["title"]
    # a registered site without a deadline is in no priority class: a stop all the same
    other = next(s for s in doc["stops"] if s["site_id"] == sites["west"][3].id)
    assert other["priority_label"] == "指定巡查" and other["reason"]
    assert [s["ord"] for s in doc["stops"]] == [1, 2, 3, 4]
    # the inspector of the street sees it, and the area holds every stop
    inspector = Actor("insp.assign.dzg", "inspector", DZG)
    assert plans.get_patrol(db_session, patrol.id, inspector).id == patrol.id
    outside = db_session.execute(
        text(
            "SELECT count(*) FROM patrol_stops ps JOIN sites s ON s.id = ps.site_id "
            "JOIN patrols p ON p.id = ps.patrol_id WHERE p.id = :p "
            "AND NOT ST_Covers(p.area, s.geom)"
        ),
        {"p": patrol.id},
    ).scalar()
    assert outside == 0


def test_adding_sites_to_a_planned_patrol_routes_them_again(db_session, sites) -> None:
    west = sites["west"]
    first = assign.assign_sites(
        db_session,
        {"sites": [west[0].id], "assignee": "insp.assign.dzg", "date": _tomorrow()},
        DZG_OFFICER,
        DISTRICT,
    ).patrol
    before_stop = db_session.scalar(select(PatrolStop.id).where(PatrolStop.patrol_id == first.id))
    done = assign.assign_sites(
        db_session,
        {"sites": [west[0].id, west[1].id, west[2].id], "patrol_id": first.id},
        DZG_OFFICER,
        DISTRICT,
    )
    assert not done.created and done.added == 2 and done.already == 1
    stops = _stop_sites(db_session, first.id)
    assert sorted(stops) == sorted(s.id for s in west[:3])
    ords = db_session.scalars(
        select(PatrolStop.ord).where(PatrolStop.patrol_id == first.id).order_by(PatrolStop.ord)
    ).all()
    assert ords == [1, 2, 3]
    # the first stop keeps its id (a phone may hold it); the route covers the new stops
    assert (
        before_stop
        in db_session.scalars(select(PatrolStop.id).where(PatrolStop.patrol_id == first.id)).all()
    )
    assert len(first.route["order"]) == 3 and first.total_m > 0
    # a started patrol takes no more stops
    plans.start_patrol(db_session, first.id, DZG_OFFICER)
    with pytest.raises(Conflict) as refused:
        assign.assign_sites(
            db_session, {"sites": [west[3].id], "patrol_id": first.id}, DZG_OFFICER, DISTRICT
        )
    assert refused.value.field == "patrol_id" and "尚未开始" in refused.value.message


def test_a_street_may_hand_only_its_own_sites(db_session, sites) -> None:
    mixed = [sites["west"][0].id, sites["east"][0].id]
    before = _patrols(db_session)
    with pytest.raises(Forbidden) as refused:
        assign.assign_sites(
            db_session,
            {"sites": mixed, "assignee": "insp.assign.dzg", "date": _tomorrow()},
            DZG_OFFICER,
            DISTRICT,
        )
    assert refused.value.field == "sites" and "A-E0" in refused.value.message
    assert "本街道" in refused.value.message
    # an inspector of the street may patrol, not hand out patrols
    with pytest.raises(Forbidden):
        assign.assign_sites(
            db_session,
            {"sites": [sites["west"][0].id], "assignee": "insp.assign.dzg", "date": _tomorrow()},
            Actor("insp.assign.dzg", "inspector", DZG),
            DISTRICT,
        )
    assert _patrols(db_session) == before


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"sites": []}, "sites", "请至少勾选一个点位"),
        ({"sites": ["x"]}, "sites", "无效的编号"),
        ({"assignee": ""}, "assignee", "请选择执行巡查的执法队员"),
        ({"assignee": "nobody.here"}, "assignee", "没有名为"),
        ({"assignee": "insp.assign.zsm"}, "assignee", "中山门队员李是中山门"),
        ({"date": ""}, "date", "请填写巡查日期"),
        ({"date": "明天"}, "date", "格式不对"),
        ({"date": "2000-01-01"}, "date", "已过去"),
        ({"east": True}, "sites", "分属多个街道"),
        ({"patrol_id": "0"}, "patrol_id", "所选巡查无效"),
    ],
)
def test_bad_input_is_refused_naming_the_field(db_session, sites, change, field, words) -> None:
    raw = {
        "sites": [s.id for s in sites["west"][:2]],
        "assignee": "insp.assign.dzg",
        "date": _tomorrow(),
    }
    if change.pop("east", False):
        raw["sites"].append(sites["east"][0].id)
    raw.update(change)
    before = _patrols(db_session)
    with pytest.raises(ValidationError) as refused:
        assign.assign_sites(db_session, raw, OFFICE, DISTRICT)
    assert refused.value.field == field
    assert words in refused.value.message
    assert not re.search(r"[A-Za-z_]{3,}", refused.value.message.replace("nobody.here", ""))
    assert _patrols(db_session) == before


def test_the_api_assigns_and_is_declared(client, auth, db_session, sites) -> None:
    headers = auth.headers("office.assign", "district_officer")
    chosen = [s.id for s in sites["west"][:3]]
    body = {"sites": chosen, "assignee": "insp.assign.dzg", "date": _tomorrow()}
    made = client.post("/api/v1/patrols/assign", json=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    doc = made.get_json()
    assert sorted(s["site_id"] for s in doc["stops"]) == sorted(chosen)
    assert doc["assignee"] == "insp.assign.dzg" and doc["planned_for"] == _tomorrow()
    added = client.post(
        "/api/v1/patrols/assign",
        json={"sites": [sites["west"][3].id], "patrol_id": doc["id"]},
        headers=headers,
    )
    assert added.status_code == 200 and len(added.get_json()["stops"]) == 4
    refused = client.post(
        "/api/v1/patrols/assign", json={**body, "date": "2000-01-01"}, headers=headers
    )
    assert refused.status_code == 422 and refused.get_json()["field"] == "date"
    spec = client.get("/api/v1/openapi.json", headers=headers).get_json()
    assert spec["paths"]["/patrols/assign"]["post"]["operationId"] == "assignPatrol"
    # the database's audit chain has the patrol and its stops, by the office
    rows = db_session.execute(
        text(
            "SELECT table_name, count(*) FROM audit.events WHERE actor = 'office.assign' "
            "AND table_name IN ('patrols', 'patrol_stops') AND action = 'insert' GROUP BY 1"
        )
    ).all()
    assert dict(rows) == {"patrols": 1, "patrol_stops": 4}


def test_the_list_page_hands_the_ticked_sites_to_a_patrol(client, auth, db_session, sites):
    auth.login(client, "officer.assign.page", "street_officer", DZG)
    listing = client.get("/sites").get_data(as_text=True)
    assert 'id="bulk-patrol"' in listing
    chosen = [s.id for s in sites["west"][:3]]
    page = client.get("/patrols/assign", query_string=[("id", i) for i in chosen])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and all(f"A-W{i}" in html for i in range(3))
    assert "大直沽队员王" in html and "中山门队员李" not in html  # its own inspectors only
    token = csrf_of(html)
    form = [("csrf_token", token), ("mode", "new"), ("assignee", "insp.assign.dzg")]
    form += [("date", "2000-01-01"), ("title", "周五夜查")] + [("id", str(i)) for i in chosen]
    refused = client.post("/patrols/assign", data=MultiDict(form))
    text_ = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="date-error"' in text_ and "已过去" in text_
    assert 'value="周五夜查"' in text_ and 'value="insp.assign.dzg" selected' in text_
    form = [(k, _tomorrow() if k == "date" else v) for k, v in form]
    done = client.post("/patrols/assign", data=MultiDict(form))
    assert done.status_code == 303
    patrol_id = int(re.search(r"/patrols/(\d+)", done.headers["Location"])[1])
    assert sorted(_stop_sites(db_session, patrol_id)) == sorted(chosen)
    route = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "大直沽队员王" in route and _tomorrow() in route and "周五夜查" in route
    # the planning form offers areas only, and points to the list for chosen sites
    plan_form = client.get("/patrols/new").get_data(as_text=True)
    assert 'value="sites"' not in plan_form and 'id="assign-hint"' in plan_form
    # an inspector is not offered the button, and the page refuses them
    auth.login(client, "insp.assign.dzg", "inspector", DZG)
    assert 'id="bulk-patrol"' not in client.get("/sites").get_data(as_text=True)
    assert client.get("/patrols/assign").status_code == 403
