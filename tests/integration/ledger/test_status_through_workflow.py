"""Point 3 of issue 14: a site's status moves only through the workflow.

No API or import registers a site past 已建档; a 已销账 site is frozen for its street (the
1,643.5 → 101,642.5 m² bypass is refused) and only the office corrects it, with a reason kept in
the history; sites closed before the system existed come in only by a district administrator,
as historical closures with their source, listed apart, and count as 销账 with evidence only once
the office accepts their photo pair."""

from __future__ import annotations

import io
from io import BytesIO

import pytest
from sqlalchemy import func, select

from gis_app.features.ledger.models import Site, SiteEvent
from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes

STREET: dict[str, str] = {}
OFFICE: dict[str, str] = {}
ADMIN: dict[str, str] = {}
NOTICE = "2020年12月区城管委销账通知"
WHY = "台账录入时数字颠倒，按测绘报告更正"


@pytest.fixture(autouse=True)
def _tokens(client, auth):
    STREET.update(auth.headers("街道李", "street_officer", DZG))
    OFFICE.update(auth.headers("区办王", "district_officer"))
    ADMIN.update(auth.headers("区管理员", "district_admin"))


@pytest.fixture()
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))


def _count(connection) -> int:
    return connection.execute(select(func.count()).select_from(Site)).scalar_one()


def _photo(client, site_id: int, kind: str, colour, headers) -> None:
    r = client.post(
        f"/api/v1/sites/{site_id}/photos",
        data={"kind": kind, "file": (BytesIO(image_bytes(colour)), f"{kind}.jpg")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()


def _closed_site(client, **overrides) -> int:
    """A site of 大直沽 taken through the whole workflow to 已销账 (photos, 验收)."""
    r = client.post("/api/v1/sites", json=site_payload(**overrides), headers=STREET)
    assert r.status_code == 201, r.get_json()
    site_id = r.get_json()["id"]
    url = f"/api/v1/sites/{site_id}"
    r = client.post(f"{url}/transitions", json={"to": "in_progress"}, headers=STREET)
    assert r.status_code == 200, r.get_json()
    _photo(client, site_id, "before", (10, 10, 10), STREET)
    _photo(client, site_id, "after", (200, 200, 200), STREET)
    r = client.post(f"{url}/transitions", json={"to": "awaiting_acceptance"}, headers=STREET)
    assert r.status_code == 200, r.get_json()
    assert client.get(f"{url}/acceptance", headers=OFFICE).status_code == 200
    r = client.post(f"{url}/close", json={"comment": "验收合格"}, headers=OFFICE)
    assert r.status_code == 200 and r.get_json()["status"] == "closed", r.get_json()
    return site_id


def _street_figures(client) -> dict:
    body = client.get("/api/v1/statistics", headers=OFFICE).get_json()
    return next(s for s in body["streets"] if s["code"] == DZG)


# ---------------------------------------------------------------- no site born past 已建档


@pytest.mark.parametrize("headers", [STREET, OFFICE, ADMIN], ids=["street", "office", "admin"])
@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("closed", "已销账"),
        ("已销账", "已销账"),
        ("awaiting_acceptance", "待验收"),
        ("in_progress", "治理中"),
    ],
)
def test_create_past_registered_is_refused(client, connection, headers, status, label) -> None:
    before = _count(connection)
    r = client.post("/api/v1/sites", json=site_payload(status=status), headers=headers)
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["field"] == "status"
    assert body["message"].startswith(f"状态不能登记为「{label}」")
    assert "新发现" in body["message"] and "已建档" in body["message"]
    assert _count(connection) == before


@pytest.mark.parametrize("status", ["registered", "new"])
def test_create_in_the_first_states_still_works(client, status) -> None:
    r = client.post("/api/v1/sites", json=site_payload(status=status), headers=STREET)
    assert r.status_code == 201 and r.get_json()["properties"]["status"] == status


HEADERS = ["编号", "地址", "经度", "纬度", "治理方式", "面积", "状态"]


def _csv(rows: list[list[object]], extra: tuple[str, ...] = ()) -> bytes:
    lines = [",".join([*HEADERS, *extra])] + [",".join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def _import(client, data: bytes, headers):
    return client.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(data), "ledger.csv")},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_import_with_a_status_past_registered_is_refused_naming_the_row(client, connection):
    rows = [
        ["I-1", "大直沽中路1号", 117.2381, 39.1100, "拆除", 20, "已建档"],
        ["I-2", "大直沽中路2号", 117.2382, 39.1100, "拆除", 1643.5, "已销账"],
        ["I-3", "大直沽中路3号", 117.2383, 39.1100, "拆除", 30, "待验收"],
    ]
    before = _count(connection)
    for headers in (STREET, OFFICE):
        r = _import(client, _csv(rows), headers)
        assert r.status_code == 422, r.get_json()
        errors = r.get_json()["errors"]
        assert [(e["row"], e["field"]) for e in errors] == [(3, "status"), (4, "status")]
        assert errors[0]["message"].startswith("第 3 行：状态不能登记为「已销账」")
        assert "历史来源" in errors[0]["message"]  # says how a historical closure comes in
        assert errors[1]["message"].startswith("第 4 行：状态不能登记为「待验收」")
    # the office with a 历史来源 column: still not a district administrator
    hist = [[*rows[1], "2020年区城管委销账台账"]]
    r = _import(client, _csv(hist, ("历史来源",)), OFFICE)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "status"
    assert _count(connection) == before


def test_import_of_historical_closures_by_the_district_administrator(client, connection):
    no_source = [["H-1", "大直沽中路5号", 117.2381, 39.1100, "拆除", 40, "已销账", ""]]
    r = _import(client, _csv(no_source, ("历史来源",)), ADMIN)
    assert r.status_code == 422
    error = r.get_json()["errors"][0]
    assert error["row"] == 2 and error["field"] == "historical_source"
    assert "历史来源" in error["message"]
    source_on_open = [["H-2", "大直沽中路6号", 117.2381, 39.1100, "拆除", 40, "已建档", "某台账"]]
    r = _import(client, _csv(source_on_open, ("历史来源",)), ADMIN)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "historical_source"

    good = [["H-3", "大直沽中路7号", 117.2381, 39.1100, "拆除", 40, "已销账", "2020年销账台账"]]
    r = _import(client, _csv(good, ("历史来源",)), ADMIN)
    assert r.status_code == 201, r.get_json()
    site = connection.execute(
        select(Site.status, Site.historical_source, Site.historical_accepted_at).where(
            Site.code == "H-3"
        )
    ).one()
    assert tuple(site) == ("closed", "2020年销账台账", None)
    listed = client.get("/api/v1/sites/historical", headers=OFFICE).get_json()
    assert [s["code"] for s in listed["sites"]] == ["H-3"] and listed["pending"] == 1
    figures = _street_figures(client)
    assert figures["closed"] == 0 and figures["historical_pending"] == 1


# ---------------------------------------------------------------- 已销账 is frozen for its street


def test_closed_site_is_frozen_for_its_street(client, connection, photo_dir) -> None:
    site_id = _closed_site(client, area_m2=1643.5)
    assert _street_figures(client)["area_demolished"] == 1643.5
    version = client.get(f"/api/v1/sites/{site_id}", headers=STREET).get_json()["properties"][
        "version"
    ]
    attempts = [
        ({"area_m2": 101642.5}, "area_m2", "面积"),
        ({"disposition": "rectify"}, "disposition", "治理方式"),
        ({"address": "别处1号"}, "address", "地址"),
    ]
    for body, field, label in attempts:
        r = client.patch(
            f"/api/v1/sites/{site_id}",
            json={"version": version, "reason": "更正", **body},
            headers=STREET,
        )
        assert r.status_code == 403, r.get_json()
        answer = r.get_json()
        assert answer["field"] == field
        assert answer["message"] == (
            f"点位 T-0001 已销账，街道不能再修改{label}："
            "已销账点位只能由区领导小组办公室更正（须说明原因）"
        )
    assert _street_figures(client)["area_demolished"] == 1643.5  # nothing changed
    site = connection.execute(select(Site.area_m2, Site.version).where(Site.id == site_id)).one()
    assert float(site.area_m2) == 1643.5 and site.version == version


def test_the_office_corrects_a_closed_site_with_a_reason(client, connection, photo_dir) -> None:
    site_id = _closed_site(client, area_m2=1643.5)
    url = f"/api/v1/sites/{site_id}"
    version = client.get(url, headers=OFFICE).get_json()["properties"]["version"]
    r = client.patch(url, json={"version": version, "area_m2": 1463.5}, headers=OFFICE)
    assert r.status_code == 422 and r.get_json()["field"] == "reason"
    assert r.get_json()["message"] == "更正已销账点位 T-0001 的面积须说明原因（修改原因）"
    r = client.patch(
        url,
        json={"version": version, "area_m2": 1463.5, "reason": WHY},
        headers=OFFICE,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["properties"]["area_m2"] == 1463.5
    event = connection.execute(
        select(SiteEvent.action, SiteEvent.actor, SiteEvent.reason, SiteEvent.changes)
        .where(SiteEvent.site_id == site_id)
        .order_by(SiteEvent.id.desc())
    ).first()
    assert event.action == "correct" and event.actor == "区办王"
    assert event.reason == WHY
    assert event.changes == {"area_m2": [1643.5, 1463.5]}
    assert _street_figures(client)["area_demolished"] == 1463.5


# ---------------------------------------------------------------- historical closures


def test_historical_closure_needs_the_district_administrator_and_a_source(client, connection):
    body = site_payload(historical_source=NOTICE, historical_closed_on="2020-12-20")
    before = _count(connection)
    for headers in (STREET, OFFICE):
        r = client.post("/api/v1/sites/historical", json=body, headers=headers)
        assert r.status_code == 403, r.get_json()
    r = client.post("/api/v1/sites/historical", json=site_payload(), headers=ADMIN)
    assert r.status_code == 422 and r.get_json()["field"] == "historical_source"
    assert "历史来源" in r.get_json()["message"]
    future = {**body, "historical_closed_on": "2027-01-01"}
    r = client.post("/api/v1/sites/historical", json=future, headers=ADMIN)
    assert r.status_code == 422 and r.get_json()["field"] == "historical_closed_on"
    assert _count(connection) == before


def test_historical_closure_counts_only_after_the_office_accepts_its_pair(
    client, connection, photo_dir
) -> None:
    body = site_payload(historical_source=NOTICE, historical_closed_on="2020-12-20")
    r = client.post("/api/v1/sites/historical", json=body, headers=ADMIN)
    assert r.status_code == 201, r.get_json()
    site_id = r.get_json()["id"]
    assert r.get_json()["properties"]["status"] == "closed"
    actions = (
        connection.execute(
            select(SiteEvent.action).where(SiteEvent.site_id == site_id).order_by(SiteEvent.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["create", "historical_closure"]
    figures = _street_figures(client)
    assert figures["closed"] == 0 and figures["historical_pending"] == 1
    assert figures["by_status"]["closed"] == 1

    url = f"/api/v1/sites/{site_id}/historical-acceptance"
    r = client.post(url, json={}, headers=OFFICE)
    assert r.status_code == 409 and r.get_json()["field"] == "photos"
    assert "整改前" in r.get_json()["message"]
    _photo(client, site_id, "before", (5, 5, 5), ADMIN)
    _photo(client, site_id, "after", (250, 250, 250), ADMIN)
    r = client.post(url, json={"comment": "照片核实"}, headers=STREET)
    assert r.status_code == 403
    r = client.post(url, json={"comment": "照片核实"}, headers=OFFICE)
    assert r.status_code == 200, r.get_json()
    again = client.post(url, json={}, headers=OFFICE)
    assert again.status_code == 409 and "已于" in again.get_json()["message"]
    figures = _street_figures(client)
    assert figures["closed"] == 1 and figures["historical_pending"] == 0
    listed = client.get("/api/v1/sites/historical", headers=OFFICE).get_json()
    assert listed["pending"] == 0 and listed["sites"][0]["accepted_by"] == "区办王"
    # an ordinary site is not a historical closure
    other = client.post("/api/v1/sites", json=site_payload(code="T-2"), headers=STREET)
    r = client.post(
        f"/api/v1/sites/{other.get_json()['id']}/historical-acceptance", json={}, headers=OFFICE
    )
    assert r.status_code == 409 and r.get_json()["field"] == "historical_source"
