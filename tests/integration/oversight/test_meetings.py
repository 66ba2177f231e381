"""例会 (tasks on the owner's to-do list until done; figures frozen) and 追责 (grounds linked
to 通报, 督查 findings and overdue sites; the decision when it comes); scope and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.oversight import service as oversight
from gis_app.features.todo import service as todo
from tests.support.rls import as_app
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)
HOUSING = Actor("住建委", "bureau_housing")
POLICE = Actor("公安", "bureau_police")


def _meeting(session):
    make_site(session, committed_deadline="2026-06-01")
    return oversight.record_meeting(
        session, OFFICE, "2026-06-15", "6月例会", "区领导、各街道主任",
        [{"street": DZG, "summary": "拆除进度滞后"}], "对大直沽街道督办",
        [{"owner": DZG, "task": "月底前拆除3处", "due_date": "2026-06-30"},
         {"owner": "bureau_housing", "task": "审批改造方案", "due_date": "2026-06-20"}],
    )  # fmt: skip


def test_tasks_go_to_their_owners_until_done_and_figures_are_frozen(db_session) -> None:
    meeting = _meeting(db_session)
    view = oversight.meeting_view(db_session, meeting.id, OFFICE)
    assert [f["code"] for f in view["figures"]] == [DZG]
    assert view["figures"][0]["overdue"] == 1
    make_site(db_session, committed_deadline="2026-05-01")
    assert oversight.meeting_view(db_session, meeting.id, OFFICE)["figures"][0]["overdue"] == 1
    street = dict(todo.grouped(todo.items_for(db_session, DZG_OFFICER)))
    assert [i["text"] for i in street["例会任务"]] == [
        "月底前拆除3处（2026-06-15 6月例会，期限 2026-06-30）"
    ]
    assert "例会任务" not in dict(todo.grouped(todo.items_for(db_session, ZSM_OFFICER)))
    bureau = dict(todo.grouped(todo.items_for(db_session, HOUSING)))
    assert bureau["例会任务"][0]["text"].startswith("审批改造方案")
    assert todo.items_for(db_session, POLICE) == []
    (task,) = oversight.meeting_tasks(db_session, DZG_OFFICER)
    (other,) = oversight.meeting_tasks(db_session, HOUSING)
    with pytest.raises(NotFound):
        oversight.complete_task(db_session, other["id"], DZG_OFFICER, "不是我的")
    with pytest.raises(NotFound):
        oversight.complete_task(db_session, task["id"], POLICE, "不是我的")
    with pytest.raises(ValidationError):
        oversight.complete_task(db_session, task["id"], DZG_OFFICER, " ")
    oversight.complete_task(db_session, task["id"], DZG_OFFICER, "已拆除3处")
    assert "例会任务" not in dict(todo.grouped(todo.items_for(db_session, DZG_OFFICER)))
    with pytest.raises(Conflict):
        oversight.complete_task(db_session, task["id"], DZG_OFFICER, "再次")
    with pytest.raises(Forbidden):
        oversight.meeting_view(db_session, meeting.id, DZG_OFFICER)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"held_on": "2026-06-16"}, "held_on"),
        ({"attendees": ""}, "attendees"),
        ({"reports": [{"street": "999", "summary": "x"}]}, "reports[0].street"),
        ({"tasks": [{"owner": "bureau_media", "task": "x", "due_date": "2026-06-30"}]},
         "tasks[0].owner"),
        ({"tasks": [{"owner": DZG, "task": "x", "due_date": "2026-06-01"}]}, "tasks[0].due_date"),
        ({"tasks": [{"owner": [DZG], "task": "x", "due_date": "2026-06-30"}]}, "tasks[0].owner"),
    ],
)  # fmt: skip
def test_bad_meetings_are_refused(db_session, change, field) -> None:
    args = {"held_on": "2026-06-15", "title": "例会", "attendees": "各街道", "reports": [],
            "decisions": "", "tasks": [], **change}  # fmt: skip
    with pytest.raises(ValidationError) as err:
        oversight.record_meeting(db_session, OFFICE, **args)
    assert err.value.field == field
    assert oversight.list_meetings(db_session, OFFICE) == []


def test_escalation_links_its_grounds_and_records_the_decision(db_session) -> None:
    overdue = make_site(db_session, committed_deadline="2026-06-01")
    zsm_site = make_site(db_session, lon=117.2620, lat=39.1010)
    notice = oversight.issue(db_session, OFFICE, "通报", "2026-06-20", [{"street": DZG}])
    ins = oversight.create_inspection(
        db_session, OFFICE, "2026-06-12", "督查", [DZG],
        [{"site": overdue.code, "finding": "未拆", "correction": "拆除", "due_date": "2026-06-14"}],
    )  # fmt: skip
    finding = oversight.inspection_view(db_session, ins.id, OFFICE)["findings"][0]["id"]
    for kwargs, field in (
        ({"street_code": None, "person": ""}, "street"),
        ({"escalated_to": "mayor"}, "escalated_to"),
        ({"grounds": ""}, "grounds"),
        ({"site_codes": [zsm_site.code]}, "site_codes"),  # another street's site
        ({"notice_ids": [notice.id + 1000]}, "notice_ids"),
        ({"finding_ids": "abc"}, "finding_ids"),
    ):
        args = {"street_code": DZG, "person": "", "escalated_to": "committee",
                "grounds": "整改不力", **kwargs}  # fmt: skip
        with pytest.raises(ValidationError) as err:
            oversight.escalate(db_session, OFFICE, **args)
        assert err.value.field == field
    row = oversight.escalate(
        db_session, OFFICE, DZG, "某副主任", "committee", "通报后仍逾期，督查整改未落实",
        [notice.id], [finding], [overdue.code],
    )  # fmt: skip
    with pytest.raises(Forbidden):
        oversight.escalate(db_session, DZG_OFFICER, DZG, "", "committee", "x")
    with pytest.raises(Forbidden):
        oversight.list_escalations(db_session, DZG_OFFICER)
    listed = oversight.list_escalations(db_session, OFFICE)[0]
    assert listed["sites"] == [overdue.code] and listed["notice_ids"] == [notice.id]
    assert listed["finding_ids"] == [finding] and listed["escalated_to"] == "区委"
    oversight.decide_escalation(db_session, row.id, OFFICE, "诫勉谈话")
    with pytest.raises(Conflict):
        oversight.decide_escalation(db_session, row.id, OFFICE, "再议")


def test_rls_and_api(db_session, connection, client, auth) -> None:
    _meeting(db_session)
    db_session.flush()
    with as_app(connection, "street_officer", ZSM):
        assert connection.execute(text("SELECT count(*) FROM meeting_tasks")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM meetings")).scalar() == 0
    with as_app(connection, "bureau_civil"):
        assert connection.execute(text("SELECT count(*) FROM meeting_tasks")).scalar() == 0
    with as_app(connection, "bureau_housing"):
        assert connection.execute(text("SELECT count(*) FROM meeting_tasks")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM escalations")).scalar() == 0
    housing = auth.headers("住建委", "bureau_housing")
    police = auth.headers("公安", "bureau_police")
    office = auth.headers("区办王", "district_officer")
    (task,) = client.get("/api/v1/meeting-tasks", headers=housing).json["tasks"]
    assert client.get("/api/v1/meeting-tasks", headers=police).json == {"tasks": []}
    assert client.get("/api/v1/meetings", headers=housing).status_code == 403
    done = client.post(f"/api/v1/meeting-tasks/{task['id']}/done", json={"note": "已审批"},
                       headers=housing)  # fmt: skip
    assert done.status_code == 200 and done.json["status"] == "done"
    bad = client.post("/api/v1/escalations", json={"grounds": "x"}, headers=office)
    assert bad.status_code == 422 and bad.json["field"] == "street"
    body = {"street": DZG, "escalated_to": "government", "grounds": "屡次逾期"}
    made = client.post("/api/v1/escalations", json=body, headers=office)
    assert made.status_code == 201


def test_pages_record_a_meeting_and_an_escalation_and_close_a_task(
    client, auth, db_session
) -> None:
    from sqlalchemy import select

    from gis_app.features.oversight.models import MeetingTask
    from tests.support.accounts import csrf

    make_site(db_session)
    auth.login(client, "区办王", "district_officer")
    token = csrf(client, "/meetings")
    refused = client.post("/meetings", data={"csrf_token": token, "held_on": "2026-06-15",
                                              "title": "例会", "attendees": ""})  # fmt: skip
    assert refused.status_code == 422 and "缺少参会人员" in refused.text
    made = client.post(
        "/meetings",
        data={"csrf_token": token, "held_on": "2026-06-15", "title": "6月例会",
              "attendees": "各街道", f"report_{DZG}": "进度正常", "decisions": "继续推进",
              "owner": [DZG, DZG], "task": ["报送台账", ""], "due_date": ["2026-06-30", ""]},
    )  # fmt: skip
    assert made.status_code == 302
    page = client.get(made.headers["Location"]).text
    assert "报送台账" in page and "进度正常" in page and 'id="meeting-figures"' in page
    form = {"csrf_token": token, "street": DZG, "escalated_to": "committee", "grounds": "多次通报"}
    esc = client.post("/escalations", data=form)
    assert esc.status_code == 302 and "多次通报" in client.get("/escalations").text
    auth.login(client, "大直沽李", "street_officer", DZG)
    assert client.get("/meetings").status_code == 403
    task_id = db_session.scalar(select(MeetingTask.id))
    token = csrf(client, "/meeting-tasks")
    assert "报送台账" in client.get("/meeting-tasks").text
    done = client.post(f"/meeting-tasks/{task_id}/done", data={"csrf_token": token, "note": "已报"})
    assert done.status_code == 302
    assert db_session.get(MeetingTask, task_id).status == "done"
    auth.login(client, "中山门赵", "street_officer", ZSM)
    token = csrf(client, "/meeting-tasks")
    other = client.post(f"/meeting-tasks/{task_id}/done", data={"csrf_token": token, "note": "x"})
    assert other.status_code == 404
