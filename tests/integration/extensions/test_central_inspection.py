"""应拆尽拆 (issue 14, point 4): a site flagged 中央第二次环保督查 is 拆除. A street cannot change
it to 规范治理 nor clear the flag (403 naming the field); it asks, and the office approves or
refuses with a reason; an import refuses a flagged non-拆除 row, naming the row."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from gis_app.core import codes
from gis_app.features.ledger.models import Site, SiteEvent
from tests.support.sites import site_payload
from tests.support.workflow import DZG

STREET: dict[str, str] = {}
OFFICE: dict[str, str] = {}
RULE = (
    "标记为中央第二次环保督查的点位应拆尽拆：治理方式须为「拆除」"
    "（改为规范治理或取消标记须提出申请，由区领导小组办公室审批）"
)


@pytest.fixture(autouse=True)
def _tokens(auth):
    STREET.update(auth.headers("街道李", "street_officer", DZG))
    OFFICE.update(auth.headers("区办王", "district_officer"))


def _flagged(client, **overrides) -> dict:
    body = site_payload(flag_central_inspection=True, **overrides)
    r = client.post("/api/v1/sites", json=body, headers=STREET)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _site_row(connection, site_id: int):
    return connection.execute(
        select(Site.disposition, Site.flag_central_inspection, Site.version).where(
            Site.id == site_id
        )
    ).one()


def test_the_flag_is_labelled_in_the_plans_words() -> None:
    assert codes.FLAGS["central_inspection"] == "中央第二次环保督查"


def test_a_flagged_site_is_registered_only_as_demolish(client, connection) -> None:
    before = connection.execute(select(func.count()).select_from(Site)).scalar_one()
    body = site_payload(flag_central_inspection=True, disposition="rectify")
    for headers in (STREET, OFFICE):
        r = client.post("/api/v1/sites", json=body, headers=headers)
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["field"] == "disposition" and r.get_json()["message"] == RULE
    assert connection.execute(select(func.count()).select_from(Site)).scalar_one() == before


@pytest.mark.parametrize(
    ("body", "field", "what"),
    [
        ({"disposition": "rectify"}, "disposition", "治理方式改为「规范治理」"),
        (
            {"flag_central_inspection": False},
            "flag_central_inspection",
            "取消中央第二次环保督查标记",
        ),
        (
            {"flag_central_inspection": False, "disposition": "rectify"},
            "flag_central_inspection",
            "取消中央第二次环保督查标记",
        ),
    ],
)
def test_a_street_cannot_change_a_flagged_site(client, connection, body, field, what) -> None:
    site = _flagged(client)
    r = client.patch(f"/api/v1/sites/{site['id']}", json={"version": 1, **body}, headers=STREET)
    assert r.status_code == 403, r.get_json()
    assert r.get_json()["field"] == field
    assert r.get_json()["message"].startswith(
        f"点位 T-0001 为中央第二次环保督查点位，应拆尽拆：街道不能直接{what}；"
        "确需变更的，请提出变更申请"
    )
    assert tuple(_site_row(connection, site["id"])) == ("demolish", True, 1)


def test_flagging_a_rectify_site_needs_demolish_in_the_same_edit(client) -> None:
    r = client.post("/api/v1/sites", json=site_payload(disposition="rectify"), headers=STREET)
    site_id = r.get_json()["id"]
    url = f"/api/v1/sites/{site_id}"
    r = client.patch(url, json={"version": 1, "flag_central_inspection": True}, headers=STREET)
    assert r.status_code == 422 and r.get_json()["field"] == "disposition"
    both = {"version": 1, "flag_central_inspection": True, "disposition": "demolish"}
    assert client.patch(url, json=both, headers=STREET).status_code == 200


def test_the_office_may_change_it_directly_only_with_a_reason(client, connection) -> None:
    site = _flagged(client)
    url = f"/api/v1/sites/{site['id']}"
    r = client.patch(url, json={"version": 1, "disposition": "rectify"}, headers=OFFICE)
    assert r.status_code == 422 and r.get_json()["field"] == "reason"
    r = client.patch(
        url,
        json={"version": 1, "disposition": "rectify", "reason": "督查组书面同意"},
        headers=OFFICE,
    )
    assert r.status_code == 200
    reason = connection.execute(
        select(SiteEvent.reason)
        .where(SiteEvent.site_id == site["id"])
        .order_by(SiteEvent.id.desc())
    ).first()[0]
    assert reason == "督查组书面同意"


def test_request_refused_then_approved(client, connection) -> None:
    site = _flagged(client)
    url = f"/api/v1/sites/{site['id']}/central-requests"
    bad = client.post(url, json={"change": "move", "reason": "x"}, headers=STREET)
    assert bad.status_code == 422 and bad.get_json()["field"] == "change"
    no_reason = client.post(url, json={"change": "rectify"}, headers=STREET)
    assert no_reason.status_code == 422 and no_reason.get_json()["field"] == "reason"
    by_office = client.post(url, json={"change": "rectify", "reason": "x"}, headers=OFFICE)
    assert by_office.status_code == 403
    r = client.post(
        url, json={"change": "rectify", "reason": "紧邻文物，拆除将危及主体结构"}, headers=STREET
    )
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert first["status"] == "pending" and first["change_label"] == "治理方式改为「规范治理」"
    again = client.post(url, json={"change": "unflag", "reason": "再申请"}, headers=STREET)
    assert again.status_code == 409 and again.get_json()["field"] == "site_id"

    queue = client.get("/api/v1/central-requests?status=pending", headers=OFFICE).get_json()
    assert [q["id"] for q in queue["requests"]] == [first["id"]]
    decision = f"/api/v1/central-requests/{first['id']}/decision"
    r = client.post(decision, json={"decision": "approve", "comment": "同意"}, headers=STREET)
    assert r.status_code == 403
    r = client.post(decision, json={"decision": "reject"}, headers=OFFICE)
    assert r.status_code == 422 and r.get_json()["field"] == "comment"
    r = client.post(
        decision, json={"decision": "reject", "comment": "须按督查要求拆除"}, headers=OFFICE
    )
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert tuple(_site_row(connection, site["id"]))[:2] == ("demolish", True)

    r = client.post(
        url, json={"change": "unflag", "reason": "经核实不属督查交办点位"}, headers=STREET
    )
    second = r.get_json()
    decision = f"/api/v1/central-requests/{second['id']}/decision"
    r = client.post(decision, json={"decision": "approve", "comment": "核实无误"}, headers=OFFICE)
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    assert tuple(_site_row(connection, site["id"]))[:2] == ("demolish", False)
    twice = client.post(decision, json={"decision": "approve", "comment": "再批"}, headers=OFFICE)
    assert twice.status_code == 409
    actions = connection.execute(
        select(SiteEvent.action, SiteEvent.reason)
        .where(SiteEvent.site_id == site["id"])
        .order_by(SiteEvent.id)
    ).all()
    assert [a for a, _ in actions] == [
        "create",
        "central_request",
        "central_rejected",
        "central_request",
        "central_approved",
    ]
    assert actions[2][1] == "须按督查要求拆除" and actions[4][1] == "核实无误"


def test_import_refuses_a_flagged_row_not_demolished(client, connection) -> None:
    headers = ["编号", "地址", "经度", "纬度", "治理方式", "中央第二次环保督查"]
    rows = [
        ["C-1", "大直沽中路1号", 117.2381, 39.1100, "拆除", "是"],
        ["C-2", "大直沽中路2号", 117.2382, 39.1100, "规范治理", "是"],
        ["C-3", "大直沽中路3号", 117.2383, 39.1100, "规范治理", "否"],
    ]
    text = "\n".join(",".join(str(v) for v in r) for r in [headers, *rows]) + "\n"
    before = connection.execute(select(func.count()).select_from(Site)).scalar_one()
    r = client.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(text.encode()), "ledger.csv")},
        content_type="multipart/form-data",
        headers=STREET,
    )
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert errors == [{"row": 3, "field": "disposition", "message": f"第 3 行：{RULE}"}]
    assert connection.execute(select(func.count()).select_from(Site)).scalar_one() == before
