"""公安 support requests: a street asks for a site and a date, the police accept or decline
and record the outcome (a case number for 暴力抗法); on the site's timeline; scoped."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.bureaus import service as bureaus
from gis_app.features.ledger.history import timeline
from gis_app.features.ledger.models import SiteEvent
from gis_app.features.ledger.service import site_history
from gis_app.features.todo import service as todo
from tests.support.rls import as_app
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)
POLICE = Actor("公安", "bureau_police")
HOUSING = Actor("住建委", "bureau_housing")


def test_request_answer_outcome_and_timeline(db_session) -> None:
    site = make_site(db_session)
    with pytest.raises(ValidationError) as err:
        bureaus.request_police(db_session, site.id, DZG_OFFICER, "2026-06-14", "强拆")
    assert err.value.field == "wanted_on"
    with pytest.raises(NotFound):  # another street's site
        bureaus.request_police(db_session, site.id, ZSM_OFFICER, "2026-06-20", "强拆")
    with pytest.raises(Forbidden):
        bureaus.request_police(db_session, site.id, OFFICE, "2026-06-20", "强拆")
    req = bureaus.request_police(db_session, site.id, DZG_OFFICER, "2026-06-20", "当事人阻挠拆除")
    groups = dict(todo.grouped(todo.items_for(db_session, POLICE)))
    assert [i["endpoint"] for i in groups["协助申请待受理"]] == ["bureau.police_requests"]
    with pytest.raises(Forbidden):
        bureaus.answer_police(db_session, req.id, DZG_OFFICER, "accept")
    with pytest.raises(ValidationError) as err:
        bureaus.answer_police(db_session, req.id, POLICE, "decline", "")
    assert err.value.field == "note"
    with pytest.raises(Conflict):
        bureaus.police_outcome(db_session, req.id, POLICE, "处置完毕", False, "")
    bureaus.answer_police(db_session, req.id, POLICE, "accept", "派出警力4人")
    with pytest.raises(ValidationError) as err:
        bureaus.police_outcome(db_session, req.id, POLICE, "现场有暴力抗法", True, "")
    assert err.value.field == "case_number"
    done = bureaus.police_outcome(db_session, req.id, POLICE, "现场有暴力抗法，已立案", True,
                                  "津公东刑立字〔2026〕118号")  # fmt: skip
    assert done.status == "done"
    # the request, the answer and the outcome are on the site's timeline, in Chinese
    events = db_session.scalars(
        select(SiteEvent).where(SiteEvent.site_id == site.id).order_by(SiteEvent.id)
    ).all()
    assert [e.action for e in events][-3:] == [
        "police_request",
        "police_accepted",
        "police_outcome",
    ]
    shown = timeline(db_session, site_history(db_session, site.id, OFFICE))
    labels = [e["action_label"] for e in shown[:3]]
    assert labels == ["公安记录处置结果", "公安受理协助申请", "申请公安协助"]
    outcome = {c["label"]: c["after"] for c in shown[0]["changes"]}
    assert outcome == {
        "处置结果": "现场有暴力抗法，已立案",
        "暴力抗法案件编号": "津公东刑立字〔2026〕118号",
    }
    assert shown[1]["reason"] == "派出警力4人"
    assert bureaus.police_requests(db_session, ZSM_OFFICER) == []
    assert [r["case_number"] for r in bureaus.police_requests(db_session, DZG_OFFICER)] == [
        "津公东刑立字〔2026〕118号"
    ]
    with pytest.raises(Forbidden):
        bureaus.police_requests(db_session, HOUSING)


def test_rls_and_api(db_session, connection, client, auth) -> None:
    site = make_site(db_session)
    bureaus.request_police(db_session, site.id, DZG_OFFICER, "2026-06-20", "阻挠")
    db_session.flush()
    count = text("SELECT count(*) FROM police_requests")
    for role, street, seen in (("street_officer", ZSM, 0), ("street_officer", DZG, 1),
                               ("bureau_police", "", 1), ("bureau_housing", "", 0),
                               ("bureau_civil", "", 0), ("district_officer", "", 1)):  # fmt: skip
        with as_app(connection, role, street):
            assert connection.execute(count).scalar() == seen, role
    police = auth.headers("公安", "bureau_police")
    housing = auth.headers("住建委", "bureau_housing")
    dzg = auth.headers("大直沽李", "street_officer", DZG)
    zsm = auth.headers("中山门赵", "street_officer", ZSM)
    assert client.get("/api/v1/police-requests", headers=housing).status_code == 403
    assert client.get("/api/v1/police-requests", headers=zsm).json == {"requests": []}
    (req,) = client.get("/api/v1/police-requests", headers=police).json["requests"]
    url = f"/api/v1/police-requests/{req['id']}"
    assert client.post(f"{url}/answer", json={"decision": "accept"}, headers=dzg).status_code == 403
    assert client.post(f"{url}/answer", json={"decision": "x"}, headers=police).status_code == 422
    ok = client.post(f"{url}/answer", json={"decision": "accept"}, headers=police)
    assert ok.status_code == 200 and ok.json["status"] == "accepted"
    # the police's answer reached the timeline under the app's row-level security
    answered = text("SELECT count(*) FROM site_events WHERE action = 'police_accepted'")
    assert connection.execute(answered).scalar() == 1
    bad = client.post(f"{url}/outcome", json={"outcome": "x", "violent": "yes"}, headers=police)
    assert bad.status_code == 422 and bad.json["field"] == "violent"
    body = {"wanted_on": "2026-06-21", "reason": "再次阻挠"}
    made = client.post(f"/api/v1/sites/{site.id}/police-requests", json=body, headers=dzg)
    assert made.status_code == 201 and made.json["status"] == "requested"
    refused = client.post(f"/api/v1/sites/{site.id}/police-requests", json=body, headers=zsm)
    assert refused.status_code == 404
