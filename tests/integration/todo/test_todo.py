"""The to-do list (待办) of each role on a constructed district: what is on it, in order,
each item a link; and the pages (home block, /todo, the count in the navigation, the API)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import text

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.features.extensions import service as extensions
from gis_app.features.ledger.service import record_event
from gis_app.features.oversight import service as notices
from gis_app.features.patrol import plans
from gis_app.features.plans import service as steps
from gis_app.features.todo import service as todo
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

ZSM_POINT = {"lon": 117.2620, "lat": 39.1010}
DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)
NEW_PLAN = [{"title": "恢复原状", "due_date": "2026-11-30"}]


@pytest.fixture()
def district(db_session):
    """大直沽: a site due in 3 days with steps in 2 and 3, an overdue site, two sites waiting for
    acceptance (since 06-01 and 06-10), a pending and a rejected extension request, a 新发现;
    中山门: a site, and a 通报 naming both streets of which 中山门 answered."""
    s = db_session
    w: dict[str, int] = {}
    soon = make_site(s, committed_deadline="2026-06-18")
    plan = [
        {"title": "拆除", "due_date": "2026-06-17"},
        {"title": "复绿", "due_date": "2026-06-18"},
    ]
    steps.set_plan(s, soon.id, DZG_OFFICER, plan)
    w["soon"] = soon.id
    w["overdue"] = make_site(s, committed_deadline="2026-06-01").id
    for key, when in (("wait_old", "2026-06-01T09:00:00+08:00"),
                      ("wait_new", "2026-06-10T09:00:00+08:00")):  # fmt: skip
        site = make_site(s)
        site.status = "awaiting_acceptance"  # (the photos the move needs are not this test's)
        event = record_event(
            s, site, DZG_OFFICER, "transition", {"status": ("in_progress", "awaiting_acceptance")}
        )
        event.at = site.status_since = datetime.fromisoformat(when)  # as the move sets them
        w[key] = site.id
    pending = make_site(s, committed_deadline="2026-09-30")
    extensions.request_extension(s, pending.id, DZG_OFFICER, "2026-11-30", "住院", NEW_PLAN)
    w["pending"] = pending.id
    rejected = make_site(s, committed_deadline="2026-09-30")
    req = extensions.request_extension(s, rejected.id, DZG_OFFICER, "2026-11-30", "晚", NEW_PLAN)
    extensions.decide(s, req.id, OFFICE, "reject", "理由不充分")
    w["rejected"] = rejected.id
    w["new"] = make_site(s, status="new").id
    w["zsm"] = make_site(s, **ZSM_POINT).id
    notice = notices.issue(s, OFFICE, "通报", "2026-06-25", [{"street": DZG}, {"street": ZSM}])
    notices.reply(s, notice.id, ZSM_OFFICER, "中山门整改措施")
    w["notice"] = notice.id
    s.flush()
    return w


def _groups(items) -> dict[str, list[dict]]:
    return {g: list(i) for g, i in todo.grouped(items)}


def test_office_list(db_session, district) -> None:
    groups = _groups(todo.items_for(db_session, OFFICE))
    assert list(groups) == ["延期申请待审批", "待验收", "月报逾期未报送", "通报回复未到"]
    assert [i["args"]["site_id"] for i in groups["延期申请待审批"]] == [district["pending"]]
    waiting = groups["待验收"]  # the longest waiting first, with the days waited
    assert [(i["args"]["site_id"], i["days"]) for i in waiting] == [
        (district["wait_old"], 14),
        (district["wait_new"], 5),
    ]
    assert waiting[0]["alert"] and not waiting[1]["alert"] and "已等待 14 天" in waiting[0]["text"]
    # the May report was due 2026-05-25 17:00: both streets with sites missed it
    reports = groups["月报逾期未报送"]
    assert {i["args"]["code"] for i in reports} == {DZG, ZSM}
    assert all(i["args"]["month_text"] == "2026-05" for i in reports)
    (reply,) = groups["通报回复未到"]  # 中山门 answered, 大直沽 not yet
    assert reply["args"] == {"notice_id": district["notice"]} and "大直沽街道" in reply["text"]
    assert reply["days"] == 10


def test_street_list(db_session, district) -> None:
    groups = _groups(todo.items_for(db_session, DZG_OFFICER))
    assert list(groups) == ["近期到期", "逾期点位", "申请被驳回", "新发现待建档", "月报",
                            "通报待回复整改措施"]  # fmt: skip
    assert [(i["date"], i["days"]) for i in groups["近期到期"]] == [
        ("2026-06-17", 2), ("2026-06-18", 3), ("2026-06-18", 3)
    ]  # fmt: skip
    assert [i["args"]["site_id"] for i in groups["逾期点位"]] == [district["overdue"]]
    assert "理由不充分" in groups["申请被驳回"][0]["text"]
    assert [i["args"]["site_id"] for i in groups["新发现待建档"]] == [district["new"]]
    assert [i["args"]["month_text"] for i in groups["月报"]] == ["2026-05", "2026-06"]
    assert groups["月报"][0]["alert"] and not groups["月报"][1]["alert"]
    assert [i["args"] for i in groups["通报待回复整改措施"]] == [{"notice_id": district["notice"]}]
    # 中山门 sees nothing of 大直沽's, and has answered its 通报
    zsm = _groups(todo.items_for(db_session, ZSM_OFFICER))
    assert list(zsm) == ["月报"]
    site_ids = {i["args"].get("site_id") for i in todo.items_for(db_session, ZSM_OFFICER)}
    assert site_ids == {None}


def test_inspector_and_bureau_lists(db_session, district, auth, connection) -> None:
    inspector_id = auth.user("大直沽队员", "inspector", DZG)
    inspector = Actor("大直沽队员", "inspector", DZG, inspector_id)
    patrol, _ = plans.create_patrol(
        db_session, {"title": "今日巡查线", "area": {"kind": "street"}}, inspector, "120102"
    )
    pool = connection.execute(
        text(
            "INSERT INTO inspectors (district_code, name, street_code, user_id, created_by)"
            " VALUES ('120102', '队员', :st, :u, 'test') RETURNING id"
        ),
        {"u": inspector_id, "st": DZG},
    ).scalar_one()
    batch = connection.execute(
        text(
            "INSERT INTO sample_batches (district_code, title, method, allocation, seed,"
            " frame_size, sample_size, frame_sha256, params, created_by) VALUES ('120102',"
            " '抽查', 'srs', 'proportional', 1, 1, 1, repeat('0', 64), CAST(:p AS jsonb),"
            " 'test') RETURNING id"
        ),
        {"p": json.dumps({"strata_sizes": {DZG: 1}})},
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO sample_sites (batch_id, district_code, site_id, stratum, ord, frame_ord,"
            " inspector_id, notes) VALUES (:b, '120102', :s, :st, 1, 1, :i, '')"
        ),
        {"b": batch, "s": district["overdue"], "st": DZG, "i": pool},
    )
    groups = _groups(todo.items_for(db_session, inspector))
    assert [i["args"] for i in groups["今日巡查"]] == [{"patrol_id": patrol.id}]
    assert [i["args"] for i in groups["抽查任务"]] == [{"batch_id": batch}]
    # tomorrow the planned patrol is no longer today's
    clock.freeze("2026-06-16T10:00:00+08:00")
    try:
        assert "今日巡查" not in _groups(todo.items_for(db_session, inspector))
    finally:
        clock.freeze("2026-06-15T10:00:00+08:00")
    renovation = make_site(db_session, flag_renovation=True)
    housing = todo.items_for(db_session, Actor("住建委", "bureau_housing"))
    assert [(i["group"], i["endpoint"]) for i in housing] == [
        ("旧楼区改造待完工", "bureau.housing")
    ]
    assert renovation.code in housing[0]["text"]
    assert todo.items_for(db_session, Actor("民政局", "bureau_civil")) == []


def test_pages_show_the_list_with_links_and_the_count(client, auth, db_session, district) -> None:
    auth.login(client, "区办王", "district_officer")
    home = client.get("/")
    assert home.status_code == 200
    block = home.text.split('id="todo"')[1]
    assert f'href="/sites/{district["wait_old"]}/workflow"' in block
    assert f'href="/notices/{district["notice"]}"' in block
    count = len(todo.items_for(db_session, OFFICE))
    assert f'data-count="{count}"' in home.text
    api = client.get("/api/v1/todo").json
    assert api["count"] == count and api["items"][0]["url"].startswith("/sites/")
    auth.login(client, "中山门赵", "street_officer", ZSM)
    page = client.get("/todo").text
    assert "月报" in page and f"/sites/{district['overdue']}" not in page
    auth.login(client, "民政局", "bureau_civil")
    assert "目前没有待办事项" in client.get("/todo").text
