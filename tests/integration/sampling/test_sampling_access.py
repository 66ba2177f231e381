"""Spot checks with accounts, through the app: the pool linked to inspectors' logins, what an
inspector sees and records (and reopens, in another street), the report archived by the
office, the published summary for the open-data roles, and everyone else kept out."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site
from gis_app.features.sampling.models import SampleBatch
from tests.support.accounts import csrf_of

pytestmark = pytest.mark.slow

JSON = {"Accept": "application/json"}


@pytest.fixture()
def office_token(auth) -> dict[str, str]:
    return auth.headers("office.spot", "district_officer")


@pytest.fixture()
def batch(app, client, connection, auth, office_token):
    """300 demo sites; a batch of 12 closed sites; a pool of one inspector per street, each
    linked to a login of role inspector; the batch assigned."""
    from gis_app.http.database import session

    with app.app_context():
        load_demo(session(), n_sites=300, seed=5, today=date(2026, 6, 15))
        session().commit()
    body = {"frame": {}, "size_mode": "fixed", "n": 12, "seed": "20260615"}
    doc = client.post("/api/v1/samples", json=body, headers=office_token).get_json()
    logins = {}
    for street in client.get("/api/v1/samples/frame", headers=office_token).get_json()["by_street"]:
        username = f"insp.{street['code']}"
        auth.user(username, "inspector", street["code"], display_name=f"{street['name']}队员")
        added = client.post("/api/v1/inspectors", json={"username": username}, headers=office_token)
        assert added.status_code == 201, added.get_json()
        logins[added.get_json()["id"]] = (username, street["code"])
    assigned = client.post(
        f"/api/v1/samples/{doc['id']}/assignments",
        json={"cap": 3, "seed": "9"},
        headers=office_token,
    )
    assert assigned.status_code == 200, assigned.get_json()
    return {"id": doc["id"], "sites": assigned.get_json()["sites"], "logins": logins}


def _inspector_of(batch: dict, sample: dict) -> tuple[str, str]:
    return batch["logins"][sample["inspector_id"]]


def test_the_pool_links_only_active_inspector_logins(client, auth, office_token) -> None:
    auth.user("officer.link", "street_officer", "120102002")
    auth.user("insp.link", "inspector", "120102002", display_name="李队员")

    def add(body: dict):
        return client.post("/api/v1/inspectors", json=body, headers=office_token)

    wrong_role = add({"username": "officer.link"})
    assert wrong_role.status_code == 422 and wrong_role.get_json()["field"] == "username"
    assert add({"name": "某", "username": "nobody"}).get_json()["field"] == "username"
    other_street = add({"username": "insp.link", "street": "120102003"})
    assert other_street.status_code == 422 and other_street.get_json()["field"] == "street"
    linked = add({"username": "insp.link"})
    assert linked.status_code == 201
    assert linked.get_json()["name"] == "李队员" and linked.get_json()["street_code"] == "120102002"
    again = add({"name": "李队员二", "username": "insp.link"})
    assert again.status_code == 409 and again.get_json()["field"] == "username"
    pool = client.get("/api/v1/inspectors", headers=office_token).get_json()["inspectors"]
    assert [(p["name"], p["username"]) for p in pool] == [("李队员", "insp.link")]


def test_an_inspector_sees_and_records_only_the_sites_assigned_to_him(
    client, auth, batch, connection
) -> None:
    mine = batch["sites"][0]
    username, street = _inspector_of(batch, mine)
    headers = auth.headers(username, "inspector", street)
    own = [s for s in batch["sites"] if s["inspector_id"] == mine["inspector_id"]]
    doc = client.get(f"/api/v1/samples/{batch['id']}", headers=headers).get_json()
    assert [s["site_id"] for s in doc["sites"]] == [s["site_id"] for s in own]
    assert "estimates" not in doc and "assignment" not in doc
    listed = client.get("/api/v1/samples", headers=headers).get_json()["batches"]
    assert [(b["id"], b["sampled"]) for b in listed] == [(batch["id"], len(own))]
    for url in (
        f"/api/v1/samples/{batch['id']}/estimate",
        f"/api/v1/samples/{batch['id']}/report.xlsx",
        f"/api/v1/samples/{batch['id']}/public",
        f"/api/v1/samples/{batch['id']}/audit",
        "/api/v1/inspectors",
        "/api/v1/samples/frame",
    ):
        assert client.get(url, headers=headers).status_code == 403, url
    # the site lies in another street: the inspector records a fail and it is reopened
    site_street = connection.execute(
        text("SELECT t.code FROM sites s JOIN streets t ON t.id = s.street_id WHERE s.id = :i"),
        {"i": mine["site_id"]},
    ).scalar()
    assert site_street != street
    url = f"/api/v1/samples/{batch['id']}/sites/{{}}/result"
    failed = client.post(
        url.format(mine["site_id"]), json={"result": "fail", "notes": "棚顶仍在"}, headers=headers
    )
    assert failed.status_code == 200 and failed.get_json()["reopened"] is True
    status = connection.execute(select(Site.status).where(Site.id == mine["site_id"])).scalar()
    assert status == "in_progress"
    # after the result the site is out of the inspector's sight again
    assert client.get(f"/api/v1/sites/{mine['site_id']}", headers=headers).status_code == 404
    again = client.post(url.format(mine["site_id"]), json={"result": "pass"}, headers=headers)
    assert again.status_code == 409
    other = next(s for s in batch["sites"] if s["inspector_id"] != mine["inspector_id"])
    refused = client.post(url.format(other["site_id"]), json={"result": "pass"}, headers=headers)
    assert refused.status_code == 403
    unsampled = client.post(url.format(10**9), json={"result": "pass"}, headers=headers)
    assert unsampled.status_code == 403  # not told whether a site is in the sample


def test_the_inspector_pages_carry_his_tasks(client, auth, batch) -> None:
    mine = batch["sites"][0]
    username, street = _inspector_of(batch, mine)
    auth.login(client, username, "inspector", street)
    tasks = client.get("/sampling").get_data(as_text=True)
    assert f'data-batch="{batch["id"]}"' in tasks and "抽取样本" not in tasks
    page = client.get(f"/sampling/batches/{batch['id']}").get_data(as_text=True)
    own = {s["site_id"] for s in batch["sites"] if s["inspector_id"] == mine["inspector_id"]}
    shown = {int(v) for v in re.findall(r'data-site="(\d+)"', page)}
    assert shown == own
    assert "assign-form" not in page and "整改到位率估计" not in page
    response = client.post(
        f"/sampling/batches/{batch['id']}/sites/{mine['site_id']}/result",
        data={"result": "pass", "notes": "", "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 303
    after = client.get(f"/sampling/batches/{batch['id']}").get_data(as_text=True)
    assert f'id="site-{mine["site_id"]}"' in after and "result-pass" in after


def test_the_office_archives_the_report_an_inspector_completed(
    client, auth, batch, connection, office_token
) -> None:
    """Only a district session sees the whole batch: when an inspector records the last
    result, the office's next look at the batch keeps the report."""
    url = f"/api/v1/samples/{batch['id']}/sites/{{}}/result"
    for sample in batch["sites"]:
        username, street = _inspector_of(batch, sample)
        recorded = client.post(
            url.format(sample["site_id"]),
            json={"result": "pass"},
            headers=auth.headers(username, "inspector", street),
        )
        assert recorded.status_code == 200
    kept = select(SampleBatch.report_xlsx).where(SampleBatch.id == batch["id"])
    assert connection.execute(kept).scalar() is None
    doc = client.get(f"/api/v1/samples/{batch['id']}", headers=office_token).get_json()
    assert doc["report_archived_at"] is not None
    stored = connection.execute(kept).scalar()
    report = client.get(f"/api/v1/samples/{batch['id']}/report.xlsx", headers=office_token)
    assert report.data == stored
    rows = list(load_workbook(io.BytesIO(stored))["抽中点位"].iter_rows(values_only=True))
    assert len(rows) == len(batch["sites"]) + 1 and all(r[8] == "合格" for r in rows[1:])


@pytest.mark.parametrize("role", ["bureau_media", "agency"])
def test_open_data_roles_read_the_published_summary_only(client, auth, batch, role) -> None:
    headers = auth.headers(f"pub.{role}", role)
    public = client.get(f"/api/v1/samples/{batch['id']}/public", headers=headers)
    assert public.status_code == 200 and len(public.get_json()["sites"]) == len(batch["sites"])
    listed = client.get("/api/v1/samples", headers=headers).get_json()["batches"]
    assert [b["id"] for b in listed] == [batch["id"]] and "seed" not in listed[0]
    for username, _street in batch["logins"].values():
        assert username not in public.get_data(as_text=True)
    for url in (f"/api/v1/samples/{batch['id']}", f"/api/v1/samples/{batch['id']}/report.xlsx"):
        assert client.get(url, headers=headers).status_code == 403, url
    result = client.post(
        f"/api/v1/samples/{batch['id']}/sites/{batch['sites'][0]['site_id']}/result",
        json={"result": "pass"},
        headers=headers,
    )
    assert result.status_code == 403


@pytest.mark.parametrize(
    ("role", "street"),
    [
        ("street_officer", "120102002"),
        ("bureau_civil", None),
        ("bureau_housing", None),
        ("bureau_police", None),
    ],
)
def test_others_get_nothing_of_spot_checks(client, auth, batch, role, street) -> None:
    headers = {**auth.headers(f"no.{role}", role, street), **JSON}
    for url in (
        "/api/v1/samples",
        f"/api/v1/samples/{batch['id']}",
        f"/api/v1/samples/{batch['id']}/public",
        "/sampling",
        f"/sampling/batches/{batch['id']}",
        f"/sampling/batches/{batch['id']}/public",
    ):
        assert client.get(url, headers=headers).status_code == 403, url


def test_a_refused_result_keeps_the_office_s_notes(client, auth, batch) -> None:
    """The office records a result on the batch page; refused, the page comes back with the
    reason beside that site's form and the notes typed (not a bare error page)."""
    auth.login(client, "office.spot.page", "district_officer")
    page = client.get(f"/sampling/batches/{batch['id']}").get_data(as_text=True)
    site = batch["sites"][0]["site_id"]
    refused = client.post(
        f"/sampling/batches/{batch['id']}/sites/{site}/result",
        data={"result": "maybe", "notes": "现场大门上锁，未能进入", "csrf_token": csrf_of(page)},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'id="result-{site}-error"' in html
    row = re.search(rf'id="site-{site}".*?</tr>', html, re.S)[0]
    assert 'value="现场大门上锁，未能进入"' in row
    message = re.search(rf'id="result-{site}-error"[^>]*>(.*?)</p>', html, re.S)[1]
    assert not re.search(r"[A-Za-z]{2,}", message), message
