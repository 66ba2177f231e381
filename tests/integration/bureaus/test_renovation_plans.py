"""住建委 and the 规范治理 plans of old-building renovation sites: a street submits, the housing
committee approves or returns with comments, the street resubmits, the committee records the
works; every act on the site's timeline and in the audit trail; scoped (others: 404)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.audit.models import AuditEvent
from gis_app.features.bureaus import renovation
from gis_app.features.bureaus.models import RenovationPlan, RenovationPlanWork
from gis_app.features.ledger.history import timeline
from gis_app.features.ledger.service import site_history
from gis_app.features.todo import service as todo
from tests.support.accounts import csrf
from tests.support.rls import as_app
from tests.support.workflow import (
    CIVIL,
    DZG,
    DZG_INSPECTOR,
    DZG_OFFICER,
    HOUSING,
    OFFICE,
    POLICE,
    ZSM,
    ZSM_OFFICER,
    make_site,
)

STEPS = [
    {"title": "入户动员", "due_date": "2026-07-01"},
    {"title": "拆除外挂构筑物，恢复外立面", "due_date": "2026-08-31"},
]
CONTENT = "结合文华里旧楼区改造，统一拆除外挂构筑物，按改造图样恢复外立面"


def renovation_site(session, **overrides):
    overrides.setdefault("flag_renovation", True)
    overrides.setdefault("disposition", "rectify")
    return make_site(session, **overrides)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_submit_return_resubmit_approve_works_on_the_timeline(db_session) -> None:
    site = renovation_site(db_session)
    plan = renovation.submit(db_session, site.id, DZG_OFFICER, CONTENT, STEPS)
    assert (plan.status, plan.revision) == ("submitted", 1)
    groups = dict(todo.grouped(todo.items_for(db_session, HOUSING)))
    (waiting,) = groups["改造治理方案待审核"]
    assert waiting["args"] == {"renovation_plan_id": plan.id}
    assert waiting["endpoint"] == "bureau.renovation_plan"
    assert site.code in waiting["text"]

    with pytest.raises(ValidationError) as err:  # a return needs its comments
        renovation.review(db_session, plan.id, HOUSING, "return", "  ")
    assert err.value.field == "comment" and "审核意见" in err.value.message
    renovation.review(db_session, plan.id, HOUSING, "return", "外立面材料须与小区改造一致")
    assert plan.status == "returned"
    assert "改造治理方案待审核" not in dict(todo.grouped(todo.items_for(db_session, HOUSING)))
    (returned,) = dict(todo.grouped(todo.items_for(db_session, DZG_OFFICER)))["改造治理方案被退回"]
    assert "外立面材料须与小区改造一致" in returned["text"] and returned["alert"]
    zsm_groups = dict(todo.grouped(todo.items_for(db_session, ZSM_OFFICER)))
    assert "改造治理方案被退回" not in zsm_groups

    revised = [*STEPS, {"title": "铝塑板统一饰面", "due_date": "2026-09-15"}]
    renovation.resubmit(db_session, plan.id, DZG_OFFICER, CONTENT + "，外立面用铝塑板", revised)
    assert (plan.status, plan.revision, len(plan.steps)) == ("submitted", 2, 3)
    assert "改造治理方案被退回" not in dict(todo.grouped(todo.items_for(db_session, DZG_OFFICER)))
    renovation.review(db_session, plan.id, HOUSING, "approve")
    assert plan.status == "approved"
    renovation.record_works(db_session, plan.id, HOUSING, "2026-06-15", "拆除外挂构筑物 3 处")

    events = site_history(db_session, site.id, None)
    lines = timeline(db_session, events)
    labels = [e["action_label"] for e in lines[:5]]
    assert labels == [
        "区住建委记录改造施工",
        "区住建委批准改造方案",
        "修改后重新报送改造方案",
        "区住建委退回改造方案",
        "报送改造规范治理方案",
    ]
    returned_line = lines[3]
    assert returned_line["reason"] == "外立面材料须与小区改造一致"
    assert returned_line["changes"][0]["after"] == "已退回待修改"
    steps_change = next(c for c in lines[4]["changes"] if c["label"] == "方案步骤")
    assert steps_change["after"].startswith("1. 入户动员（2026年7月1日）")
    works = lines[0]["changes"][0]
    assert (works["label"], works["after"]) == ("改造施工", "2026年6月15日：拆除外挂构筑物 3 处")
    # no internal names in what a person reads
    shown = [
        (line["action_label"], line["reason"], c["label"], c["before"], c["after"])
        for line in lines[:5]
        for c in line["changes"]
    ]
    assert shown and not any("renovation" in str(s) or "submitted" in str(s) for s in shown)

    db_session.flush()
    tables = set(
        db_session.scalars(select(AuditEvent.table_name).where(AuditEvent.site_id == site.id))
    )
    assert {"renovation_plans", "renovation_plan_works", "site_events"} <= tables
    updates = db_session.scalar(
        select(func.count()).where(
            AuditEvent.table_name == "renovation_plans",
            AuditEvent.row_id == str(plan.id),
            AuditEvent.action == "update",
        )
    )
    assert updates == 3  # returned, resubmitted, approved


def test_state_machine(db_session) -> None:
    site = renovation_site(db_session)
    plan = renovation.submit(db_session, site.id, DZG_OFFICER, CONTENT, STEPS)
    with pytest.raises(Conflict) as err:  # works before approval
        renovation.record_works(db_session, plan.id, HOUSING, "2026-06-15", "施工")
    assert err.value.field == "status" and "批准后" in err.value.message
    with pytest.raises(Conflict):  # a second plan for the site
        renovation.submit(db_session, site.id, DZG_OFFICER, CONTENT, STEPS)
    with pytest.raises(Conflict):  # only a returned plan is resubmitted
        renovation.resubmit(db_session, plan.id, DZG_OFFICER, CONTENT, STEPS)
    renovation.review(db_session, plan.id, HOUSING, "approve", "同意")
    with pytest.raises(Conflict) as err:  # cannot approve twice
        renovation.review(db_session, plan.id, HOUSING, "approve")
    assert "已批准" in err.value.message
    with pytest.raises(Conflict):
        renovation.review(db_session, plan.id, HOUSING, "return", "再改")
    with pytest.raises(Conflict):
        renovation.resubmit(db_session, plan.id, DZG_OFFICER, CONTENT, STEPS)
    with pytest.raises(ValidationError) as err:  # works before the approval day: refused
        renovation.record_works(db_session, plan.id, HOUSING, "2026-06-14", "施工")
    assert err.value.field == "done_on"
    renovation.record_works(db_session, plan.id, HOUSING, "2026-06-15", "第一次施工")
    renovation.record_works(db_session, plan.id, HOUSING, "2026-06-15", "第二次施工", "完工")
    assert count(db_session, RenovationPlanWork) == 2


@pytest.mark.parametrize(
    ("content", "steps", "field"),
    [
        ("", STEPS, "content"),
        (12, STEPS, "content"),
        (CONTENT, [], "steps"),
        (CONTENT, "入户动员", "steps"),
        (CONTENT, [{"title": "", "due_date": "2026-07-01"}], "steps[1].title"),
        (CONTENT, [{"title": "入户", "due_date": "2026-06-01"}], "steps[1].due_date"),
        (CONTENT, [{"title": "入户", "due_date": "7月"}], "steps[1].due_date"),
        (CONTENT, [{"title": "入户", "due_date": "2026-10-31"}], "steps[1].due_date"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(db_session, content, steps, field) -> None:
    site = renovation_site(db_session)  # its current deadline: 2026-09-30
    events = len(site_history(db_session, site.id, None))
    with pytest.raises(ValidationError) as err:
        renovation.submit(db_session, site.id, DZG_OFFICER, content, steps)
    assert err.value.field == field
    assert count(db_session, RenovationPlan) == 0
    assert len(site_history(db_session, site.id, None)) == events


def test_who_may_do_what(db_session) -> None:
    plain = make_site(db_session)  # not in a renovation project
    with pytest.raises(Conflict) as err:
        renovation.submit(db_session, plain.id, DZG_OFFICER, CONTENT, STEPS)
    assert "未纳入旧楼区改造" in err.value.message
    site = renovation_site(db_session)
    with pytest.raises(NotFound):  # another street's site
        renovation.submit(db_session, site.id, ZSM_OFFICER, CONTENT, STEPS)
    for actor in (OFFICE, DZG_INSPECTOR):  # the street's officer submits
        with pytest.raises(Forbidden):
            renovation.submit(db_session, site.id, actor, CONTENT, STEPS)
    plan = renovation.submit(db_session, site.id, DZG_OFFICER, CONTENT, STEPS)
    for actor in (OFFICE, DZG_OFFICER):  # only the committee reviews and records
        with pytest.raises(Forbidden):
            renovation.review(db_session, plan.id, actor, "approve")
        with pytest.raises(Forbidden):
            renovation.record_works(db_session, plan.id, actor, "2026-06-15", "施工")
    for actor in (ZSM_OFFICER, POLICE, CIVIL):  # others: the plan does not exist
        with pytest.raises(NotFound):
            renovation.plan_view(db_session, plan.id, actor)
        with pytest.raises(NotFound):
            renovation.review(db_session, plan.id, actor, "approve")
    for actor in (OFFICE, DZG_OFFICER, DZG_INSPECTOR, HOUSING):
        assert renovation.plan_view(db_session, plan.id, actor)["site_code"] == site.code
    assert renovation.list_plans(db_session, ZSM_OFFICER) == []
    with pytest.raises(Forbidden):
        renovation.list_plans(db_session, POLICE)


def test_row_level_security(db_session, connection) -> None:
    site = renovation_site(db_session)
    renovation.submit(db_session, site.id, DZG_OFFICER, CONTENT, STEPS)
    db_session.flush()
    query = text("SELECT count(*) FROM renovation_plans")
    for role, street, seen in (("street_officer", ZSM, 0), ("street_officer", DZG, 1),
                               ("inspector", DZG, 1), ("bureau_housing", "", 1),
                               ("bureau_police", "", 0), ("bureau_civil", "", 0),
                               ("bureau_media", "", 0), ("district_officer", "", 1)):  # fmt: skip
        with as_app(connection, role, street):
            assert connection.execute(query).scalar() == seen, role


def _headers(auth):
    return {
        "office": auth.headers("区办王", "district_officer"),
        "dzg": auth.headers("大直沽李", "street_officer", DZG),
        "zsm": auth.headers("中山门赵", "street_officer", ZSM),
        "housing": auth.headers("住建委", "bureau_housing"),
        "police": auth.headers("公安", "bureau_police"),
        "civil": auth.headers("民政局", "bureau_civil"),
    }


def test_api_walk_and_scope(db_session, client, auth) -> None:
    site = renovation_site(db_session)
    db_session.flush()
    h = _headers(auth)
    body = {"content": CONTENT, "steps": STEPS}
    url = f"/api/v1/sites/{site.id}/renovation-plan"
    assert client.post(url, json=body, headers=h["zsm"]).status_code == 404
    assert client.post(url, json=body, headers=h["office"]).status_code == 403
    bad = client.post(url, json={"content": CONTENT, "steps": [{"title": "x"}]}, headers=h["dzg"])
    assert bad.status_code == 422 and bad.json["field"] == "steps[1].due_date"
    made = client.post(url, json=body, headers=h["dzg"])
    assert made.status_code == 201, made.json
    plan = made.json
    assert (plan["status"], plan["status_label"], plan["works_done"]) == (
        "submitted",
        "待住建委审核",
        [],
    )
    item = f"/api/v1/renovation-plans/{plan['id']}"
    for who in ("zsm", "police", "civil"):
        assert client.get(item, headers=h[who]).status_code == 404, who
        refused = client.post(f"{item}/review", json={"decision": "approve"}, headers=h[who])
        assert refused.status_code == 404, who
    for who in ("office", "dzg", "housing"):
        assert client.get(item, headers=h[who]).status_code == 200, who
    assert client.get("/api/v1/renovation-plans", headers=h["police"]).status_code == 403
    assert client.get("/api/v1/renovation-plans", headers=h["zsm"]).json == {"plans": []}
    listed = client.get("/api/v1/renovation-plans?status=submitted", headers=h["housing"])
    assert [p["id"] for p in listed.json["plans"]] == [plan["id"]]
    assert client.get("/api/v1/renovation-plans?status=x", headers=h["housing"]).status_code == 422

    no_comment = client.post(f"{item}/review", json={"decision": "return"}, headers=h["housing"])
    assert no_comment.status_code == 422 and no_comment.json["field"] == "comment"
    early = client.post(f"{item}/works", json={"what": "施工"}, headers=h["housing"])
    assert early.status_code == 422 and early.json["field"] == "done_on"
    early = client.post(
        f"{item}/works", json={"done_on": "2026-06-15", "what": "施工"}, headers=h["housing"]
    )
    assert early.status_code == 409
    back = client.post(
        f"{item}/review", json={"decision": "return", "comment": "补充步骤"}, headers=h["housing"]
    )
    assert back.status_code == 200 and back.json["status"] == "returned"
    again = client.post(f"{item}/resubmit", json=body, headers=h["dzg"])
    assert again.status_code == 200 and again.json["revision"] == 2
    ok = client.post(f"{item}/review", json={"decision": "approve"}, headers=h["housing"])
    assert ok.status_code == 200 and ok.json["status"] == "approved"
    twice = client.post(f"{item}/review", json={"decision": "approve"}, headers=h["housing"])
    assert twice.status_code == 409 and twice.json["field"] == "status"
    works = client.post(
        f"{item}/works",
        json={"done_on": "2026-06-15", "what": "拆除外挂构筑物", "note": "附施工日志"},
        headers=h["housing"],
    )
    assert works.status_code == 201
    assert [(w["done_on"], w["what"]) for w in works.json["works_done"]] == [
        ("2026-06-15", "拆除外挂构筑物")
    ]


def test_pages(db_session, client, auth) -> None:
    site = renovation_site(db_session)
    other = renovation_site(db_session, code="WF-RENO-2")
    db_session.flush()
    auth.login(client, "大直沽李", "street_officer", DZG)
    page = client.get("/bureau/renovation-plans")
    assert page.status_code == 200 and "renovation-plan-form" in page.text
    token = csrf(client, "/bureau/renovation-plans")
    form = {
        "csrf_token": token,
        "site": site.code,
        "content": "",
        "step_title": ["入户动员"],
        "step_date": ["2026-07-01"],
    }
    refused = client.post("/bureau/renovation-plans", data=form)
    assert refused.status_code == 422 and "缺少治理内容" in refused.text
    assert "入户动员" in refused.text  # the form as typed
    form["content"] = CONTENT
    done = client.post("/bureau/renovation-plans", data=form)
    assert done.status_code == 302
    plan_url = done.headers["Location"]
    shown = client.get(plan_url)
    assert "待住建委审核" in shown.text and "review-form" not in shown.text

    auth.login(client, "住建委", "bureau_housing")
    queue = client.get("/bureau/housing")
    assert "待审核的规范治理方案（1）" in queue.text
    assert "review-form" in client.get(plan_url).text
    token = csrf(client, plan_url)
    no_comment = client.post(
        f"{plan_url}/review", data={"csrf_token": token, "decision": "return", "comment": ""}
    )
    assert no_comment.status_code == 422 and "审核意见" in no_comment.text
    back = client.post(
        f"{plan_url}/review",
        data={"csrf_token": token, "decision": "return", "comment": "补充步骤"},
    )
    assert back.status_code == 302
    home = client.get("/")
    assert "改造治理方案待审核" not in home.text

    auth.login(client, "中山门赵", "street_officer", ZSM)
    assert client.get(plan_url).status_code == 404
    auth.login(client, "公安", "bureau_police")
    assert client.get(plan_url).status_code == 404

    auth.login(client, "大直沽李", "street_officer", DZG)
    assert "改造治理方案被退回" in client.get("/").text
    assert "resubmit-form" in client.get(plan_url).text
    resent = client.post(
        f"{plan_url}/resubmit",
        data={
            "csrf_token": csrf(client, plan_url),
            "content": CONTENT,
            "step_title": ["入户动员"],
            "step_date": ["2026-07-01"],
        },
    )
    assert resent.status_code == 302
    assert "第 2 次报送" in client.get(plan_url).text
    assert other.code not in client.get("/bureau/renovation-plans").text
    # the site's page links to its plan
    site_page = client.get(f"/sites/{site.id}/workflow").text
    assert f"/bureau/renovation-plans?site={site.code}" in site_page
    mine = client.get(f"/bureau/renovation-plans?site={site.code}").text
    assert f'data-plan="{plan_url.rsplit("/", 1)[-1]}" data-status="submitted"' in mine
