"""专项督查: the office records findings and corrections per visited site; the street answers
each; the office accepts or returns; open corrections on both to-do lists and the street's
dashboard; scope (another street's: 404) and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.oversight import service as oversight
from gis_app.features.oversight.models import Inspection, InspectionFinding
from gis_app.features.todo import service as todo
from tests.support.accounts import csrf
from tests.support.rls import as_app
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)


def _sites(session):
    return make_site(session), make_site(session, lon=117.2620, lat=39.1010)


def _record(session, dzg, zsm):
    return oversight.create_inspection(
        session,
        OFFICE,
        "2026-06-12",
        "6月专项督查",
        [DZG, ZSM],
        [
            {"site": dzg.code, "finding": "违建未拆", "correction": "限期拆除",
             "due_date": "2026-06-20"},
            {"site": zsm.code, "finding": "围挡缺失", "correction": "补设围挡",
             "due_date": "2026-06-10"},
        ],
    )  # fmt: skip


def test_record_answer_review_and_to_do_lists(db_session) -> None:
    dzg, zsm = _sites(db_session)
    with pytest.raises(ValidationError) as err:  # due before the inspection
        _record(db_session, dzg, zsm)
    assert err.value.field == "findings[1].due_date"
    ins = oversight.create_inspection(
        db_session, OFFICE, "2026-06-12", "6月专项督查", [DZG, ZSM],
        [{"site": dzg.code, "finding": "违建未拆", "correction": "限期拆除",
          "due_date": "2026-06-20"},
         {"site": zsm.code, "finding": "围挡缺失", "correction": "补设围挡",
          "due_date": "2026-06-13"}],
    )  # fmt: skip
    view = oversight.inspection_view(db_session, ins.id, OFFICE)
    assert [f["site_code"] for f in view["findings"]] == [zsm.code, dzg.code]  # by due date
    assert view["findings"][0]["overdue"] is True  # 06-13 < 06-15
    # each street sees its own finding only, on its to-do list too
    mine = oversight.inspection_view(db_session, ins.id, DZG_OFFICER)["findings"]
    assert [f["site_code"] for f in mine] == [dzg.code]
    groups = dict(todo.grouped(todo.items_for(db_session, DZG_OFFICER)))
    assert [i["args"] for i in groups["督查整改待答复"]] == [{"inspection_id": ins.id}]
    office = dict(todo.grouped(todo.items_for(db_session, OFFICE)))
    assert (
        len(office["督查整改逾期未答复"]) == 1
        and "中山门街道" in office["督查整改逾期未答复"][0]["text"]
    )
    # the street answers; the office returns it (a comment is required), then accepts
    finding = mine[0]["id"]
    with pytest.raises(NotFound):
        oversight.answer_correction(db_session, finding, ZSM_OFFICER, "不是我的")
    with pytest.raises(Conflict):
        oversight.review_correction(db_session, finding, OFFICE, "accept")
    oversight.answer_correction(db_session, finding, DZG_OFFICER, "已拆除")
    office = dict(todo.grouped(todo.items_for(db_session, OFFICE)))
    assert next(i["text"] for i in office["督查整改待审核"]).startswith("大直沽街道")
    with pytest.raises(ValidationError) as err:
        oversight.review_correction(db_session, finding, OFFICE, "return", "")
    assert err.value.field == "comment"
    oversight.review_correction(db_session, finding, OFFICE, "return", "未见照片")
    assert db_session.get(InspectionFinding, finding).status == "open"
    oversight.answer_correction(db_session, finding, DZG_OFFICER, "已拆除，照片已上传")
    oversight.review_correction(db_session, finding, OFFICE, "accept")
    assert db_session.get(InspectionFinding, finding).status == "closed"
    assert "督查整改待答复" not in dict(todo.grouped(todo.items_for(db_session, DZG_OFFICER)))
    with pytest.raises(Conflict):
        oversight.answer_correction(db_session, finding, DZG_OFFICER, "再答")


@pytest.mark.parametrize(
    ("actor", "held_on", "streets", "finding", "error", "field"),
    [
        (OFFICE, "2026-06-16", [DZG], None, ValidationError, "held_on"),
        (OFFICE, "", [DZG], None, ValidationError, "held_on"),
        (OFFICE, "2026-06-12", [], None, ValidationError, "streets"),
        (OFFICE, "2026-06-12", ["999"], None, ValidationError, "streets[0]"),
        (OFFICE, "2026-06-12", [DZG], {"site": "NOPE"}, ValidationError, "findings[0].site"),
        (OFFICE, "2026-06-12", [ZSM], {}, ValidationError, "findings[0].site"),  # not in ZSM
        (OFFICE, "2026-06-12", [DZG], {"correction": ""}, ValidationError,
         "findings[0].correction"),
        (OFFICE, "2026-06-12", [DZG], {"photo_ids": [999999]}, ValidationError,
         "findings[0].photo_ids"),
        (DZG_OFFICER, "2026-06-12", [DZG], None, Forbidden, "role"),
    ],
)  # fmt: skip
def test_bad_records_are_refused_and_write_nothing(
    db_session, actor, held_on, streets, finding, error, field
) -> None:
    dzg, _ = _sites(db_session)
    findings = []
    if finding is not None:
        findings = [{"site": dzg.code, "finding": "发现", "correction": "整改",
                     "due_date": "2026-06-30", **finding}]  # fmt: skip
    with pytest.raises(error) as err:
        oversight.create_inspection(db_session, actor, held_on, "督查", streets, findings)
    assert err.value.field == field
    assert db_session.scalar(select(func.count()).select_from(Inspection)) == 0


def test_scope_through_rls_and_the_api(db_session, connection, client, auth) -> None:
    dzg, _ = _sites(db_session)
    ins = oversight.create_inspection(
        db_session, OFFICE, "2026-06-12", "督查", [DZG],
        [{"site": dzg.code, "finding": "发现", "correction": "整改", "due_date": "2026-06-30"}],
    )  # fmt: skip
    db_session.flush()
    with as_app(connection, "street_officer", ZSM):
        assert connection.execute(text("SELECT count(*) FROM inspections")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM inspection_findings")).scalar() == 0
    with as_app(connection, "street_officer", DZG):
        assert connection.execute(text("SELECT count(*) FROM inspection_findings")).scalar() == 1
    zsm = auth.headers("中山门赵", "street_officer", ZSM)
    dzg_h = auth.headers("大直沽李", "street_officer", DZG)
    office = auth.headers("区办王", "district_officer")
    assert client.get(f"/api/v1/inspections/{ins.id}", headers=zsm).status_code == 404
    assert client.get("/api/v1/inspections", headers=zsm).json == {"inspections": []}
    fid = client.get(f"/api/v1/inspections/{ins.id}", headers=dzg_h).json["findings"][0]["id"]
    url = f"/api/v1/inspection-findings/{fid}"
    assert client.post(f"{url}/answer", json={"answer": "x"}, headers=zsm).status_code == 404
    bad = client.post(f"{url}/answer", json={"answer": ""}, headers=dzg_h)
    assert bad.status_code == 422 and bad.json["field"] == "answer"
    assert client.post(f"{url}/answer", json={"answer": "已整改"}, headers=dzg_h).json == {
        "id": fid,
        "status": "answered",
    }
    assert client.post(f"{url}/review", json={"decision": "ok"}, headers=office).status_code == 422
    assert (
        client.post(f"{url}/review", json={"decision": "accept"}, headers=dzg_h).status_code == 403
    )
    done = client.post(f"{url}/review", json={"decision": "accept"}, headers=office)
    assert done.json["status"] == "closed"
    made = client.post(
        "/api/v1/inspections",
        json={"held_on": "2026-06-14", "title": "复查", "streets": [DZG], "findings": []},
        headers=office,
    )
    assert made.status_code == 201 and made.json["streets"] == ["大直沽街道"]


def test_pages_record_answer_and_the_street_dashboard(client, auth, db_session) -> None:
    dzg, _ = _sites(db_session)
    auth.login(client, "区办王", "district_officer")
    token = csrf(client, "/inspections/new")
    refused = client.post("/inspections", data={"csrf_token": token, "held_on": "2026-06-12",
                                                 "title": "督查", "street": []})  # fmt: skip
    assert refused.status_code == 422 and "请至少选择一个督查的街道" in refused.text
    made = client.post(
        "/inspections",
        data={"csrf_token": token, "held_on": "2026-06-12", "title": "6月督查",
              "street": [DZG], "site": [dzg.code, ""], "finding": ["未拆除", ""],
              "correction": ["限期拆除", ""], "due_date": ["2026-06-30", ""]},
    )  # fmt: skip
    assert made.status_code == 302
    ins_id = db_session.scalar(select(Inspection.id))
    auth.login(client, "大直沽李", "street_officer", DZG)
    board = client.get(f"/dashboard/street/{DZG}").text
    assert 'id="open-corrections"' in board and "限期拆除" in board
    fid = db_session.scalar(select(InspectionFinding.id))
    token = csrf(client, f"/inspections/{ins_id}")
    form = {"csrf_token": token, "answer": "已拆除", "inspection_id": ins_id}
    sent = client.post(f"/inspection-findings/{fid}/answer", data=form)
    assert sent.status_code == 302
    assert db_session.get(InspectionFinding, fid).status == "answered"
    auth.login(client, "中山门赵", "street_officer", ZSM)
    assert client.get(f"/inspections/{ins_id}").status_code == 404


def test_refused_answers_and_reviews_keep_what_was_typed(client, auth, db_session) -> None:
    """A refused answer or review comes back on the inspection page with the typed text in
    that finding's form and the reason beside it, in Chinese."""
    dzg, _ = _sites(db_session)
    auth.login(client, "区办王", "district_officer")
    token = csrf(client, "/inspections/new")
    client.post(
        "/inspections",
        data={"csrf_token": token, "held_on": "2026-06-12", "title": "6月督查",
              "street": [DZG], "site": [dzg.code], "finding": ["未拆除"],
              "correction": ["限期拆除"], "due_date": ["2026-06-30"]},
    )  # fmt: skip
    ins_id = db_session.scalar(select(Inspection.id))
    fid = db_session.scalar(select(InspectionFinding.id))
    auth.login(client, "大直沽李", "street_officer", DZG)
    token = csrf(client, f"/inspections/{ins_id}")
    typed = "已拆除并清运。" * 700  # longer than an answer may be
    refused = client.post(
        f"/inspection-findings/{fid}/answer",
        data={"csrf_token": token, "answer": typed, "inspection_id": ins_id},
    )
    assert refused.status_code == 422
    assert f">{typed}</textarea>" in refused.text and f'id="finding-{fid}-error"' in refused.text
    client.post(
        f"/inspection-findings/{fid}/answer",
        data={"csrf_token": token, "answer": "已拆除", "inspection_id": ins_id},
    )
    auth.login(client, "区办王", "district_officer")
    token = csrf(client, f"/inspections/{ins_id}")
    refused = client.post(
        f"/inspection-findings/{fid}/review",
        data={"csrf_token": token, "decision": "maybe", "comment": "照片看不清拆除后的现场",
              "inspection_id": ins_id},
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'value="照片看不清拆除后的现场"' in refused.text
    message = refused.text.split(f'id="finding-{fid}-error"')[1].split("</p>")[0]
    assert "通过" in message and not any(w in message for w in ("accept", "return", "decision"))
