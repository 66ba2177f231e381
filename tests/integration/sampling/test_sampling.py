"""Spot checks against PostGIS: frame, draw, audit, double random, results, estimates, pages."""

from __future__ import annotations

import io
from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select, text, update

from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.sampling.models import Inspector, SampleBatch, SampleFrameUnit, SampleSite
from gis_app.features.streets.models import Street
from tests.support.accounts import csrf_of

pytestmark = pytest.mark.slow

#: bearer-token headers of the district office and of a street officer, made afresh for each
#: test (in its rolled-back transaction) by `_credentials`
DISTRICT: dict[str, str] = {}
STREET: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _credentials(auth) -> None:
    DISTRICT.clear()
    DISTRICT.update(auth.headers("office", "district_officer"))
    STREET.clear()
    STREET.update(auth.headers("street-a", "street_officer", "120102001"))


@pytest.fixture()
def client(client, _credentials):
    """Requests without credentials of their own come from the district office, with its
    bearer token (the identity these tests had before accounts); the pages' test logs in."""
    client.environ_base["HTTP_AUTHORIZATION"] = DISTRICT["Authorization"]
    return client


@pytest.fixture()
def demo(app, client, connection):
    """300 demo sites (half of them closed) inside the test's transaction. The app context
    ends before the requests: each request then has a session of its own (one kept open
    across requests would roll back, with its savepoint, what the test writes between them)."""
    from gis_app.http.database import session

    with app.app_context():
        load_demo(session(), n_sites=300, seed=5, today=date(2026, 6, 15))
        session().commit()
    return app


def _closed_count(connection) -> int:
    return connection.execute(
        select(func.count()).select_from(Site).where(Site.status == "closed")
    ).scalar_one()


def _draw(client, **body):
    payload = {"frame": {}, "size_mode": "fixed", "n": 24, "seed": "20260615"}
    payload.update(body)
    return client.post("/api/v1/samples", json=payload, headers=DISTRICT)


def _add_inspectors(client, auth=None, per_street: int = 1, district_level: int = 2) -> list[dict]:
    """A pool: per street `per_street` inspectors (linked to logins of role inspector when
    `auth` is given), and district-level ones without a login."""
    streets = client.get("/api/v1/samples/frame").get_json()["by_street"]
    added = []
    for s in streets:
        for k in range(per_street):
            body = {"name": f"{s['name']}队员{k}", "street": s["code"]}
            if auth is not None:
                body["username"] = f"insp.{s['code']}.{k}"
                auth.user(body["username"], "inspector", s["code"])
            r = client.post("/api/v1/inspectors", json=body, headers=DISTRICT)
            assert r.status_code == 201, r.get_json()
            added.append(r.get_json())
    for k in range(district_level):
        r = client.post("/api/v1/inspectors", json={"name": f"区级{k}"}, headers=DISTRICT)
        added.append(r.get_json())
    return added


# ---------------------------------------------------------------- frame


def test_frame_size_by_street_and_gbt_sizes(demo, client, connection) -> None:
    body = client.get("/api/v1/samples/frame").get_json()
    closed = _closed_count(connection)
    assert body["frame_size"] == closed == 150  # the demo closes half of its sites
    assert sum(s["count"] for s in body["by_street"]) == closed
    assert body["gbt2828"]["II"]["code_letter"] == "F"  # 91-150 at level II
    dz = client.get("/api/v1/samples/frame?street=120102002").get_json()
    assert dz["streets_with_sites"] == 1
    assert 0 < dz["frame_size"] < closed


def test_frame_date_range_uses_the_close_time(demo, client, connection) -> None:
    site_id = connection.execute(
        select(Site.id).where(Site.status == "closed").order_by(Site.id).limit(1)
    ).scalar_one()
    # a close event in the range decides, whatever updated_at says
    connection.execute(
        text(
            "INSERT INTO site_events (district_code, site_id, at, actor, action, changes) "
            "VALUES ('120102', :id, '2030-03-10T04:00:00Z', 't', 'transition', "
            '\'{"status": ["awaiting_acceptance", "closed"]}\')'
        ),
        {"id": site_id},
    )
    body = client.get("/api/v1/samples/frame?closed_from=2030-03-10&closed_to=2030-03-10")
    assert body.get_json()["frame_size"] == 1
    assert client.get("/api/v1/samples/frame?closed_from=2030-03-11").get_json()["frame_size"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("street=999999999", "street"),
        ("street=abc", "street"),
        ("closed_from=明天", "closed_from"),
        ("closed_from=2026-06-10&closed_to=2026-06-01", "closed_from"),
        ("status=finished", "status"),
    ],
)
def test_frame_refusals(client, query, field) -> None:
    r = client.get(f"/api/v1/samples/frame?{query}")
    assert r.status_code == 422 and r.get_json()["field"] == field


# ---------------------------------------------------------------- draw and audit


def test_draw_stores_everything_and_the_audit_draws_the_same(demo, client, connection) -> None:
    r = _draw(client, size_mode="gbt2828", n=None, level="II")
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()
    closed = _closed_count(connection)
    assert doc["frame_size"] == closed and doc["params"]["size"]["code_letter"] == "F"
    assert doc["sample_size"] == 20 == len(doc["sites"])
    assert doc["method"] == "lpm" and doc["seed"] == "20260615"
    alloc = doc["params"]["allocation_by_street"]
    assert sum(alloc.values()) == 20 and all(v >= 1 for v in alloc.values())
    bal = doc["balance"]
    assert bal["srs_draws"] == 100 and bal["voronoi_variance"] < bal["srs_voronoi_variance_mean"]
    assert bal["voronoi_variance"] < bal["srs_within_streets"]["variance"]
    assert all(s["status"] == "closed" for s in doc["sites"])
    frame_rows = connection.execute(
        select(func.count())
        .select_from(SampleFrameUnit)
        .where(SampleFrameUnit.batch_id == doc["id"])
    ).scalar_one()
    assert frame_rows == closed

    audit = client.get(f"/api/v1/samples/{doc['id']}/audit").get_json()
    assert audit["match"] and audit["frame_ok"] and audit["sample_ok"]
    assert audit["balance_redrawn"] == pytest.approx(bal["voronoi_variance"])

    again = _draw(client, size_mode="gbt2828", n=None, level="II").get_json()
    assert [s["site_id"] for s in again["sites"]] == [s["site_id"] for s in doc["sites"]]
    other = _draw(client, size_mode="gbt2828", n=None, seed="7").get_json()
    assert {s["site_id"] for s in other["sites"]} != {s["site_id"] for s in doc["sites"]}


def test_audit_survives_moved_sites_and_catches_a_tampered_frame(demo, client, connection) -> None:
    doc = _draw(client).get_json()
    moved = doc["sites"][0]["site_id"]
    version = client.get(f"/api/v1/sites/{moved}").get_json()["properties"]["version"]
    r = client.patch(
        f"/api/v1/sites/{moved}",
        json={"lon": 117.2381, "lat": 39.1100, "version": version, "reason": "坐标更正"},
    )  # the sampled site may be closed: the office corrects it with a reason
    assert r.status_code == 200, r.get_json()
    assert client.get(f"/api/v1/samples/{doc['id']}/audit").get_json()["match"]

    connection.execute(
        update(SampleFrameUnit)
        .where(SampleFrameUnit.batch_id == doc["id"], SampleFrameUnit.ord == 1)
        .values(x=SampleFrameUnit.x + 50)
    )
    audit = client.get(f"/api/v1/samples/{doc['id']}/audit").get_json()
    assert not audit["frame_ok"] and not audit["match"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"n": 100000}, "n"),
        ({"n": -5}, "n"),
        ({"n": "abc"}, "n"),
        ({"method": "cluster"}, "method"),
        ({"allocation": "neyman"}, "allocation"),
        ({"seed": "-1"}, "seed"),
        ({"frame": {"street": "999999999"}}, "street"),
        ({"frame": {"closed_from": "2031-01-01"}}, "frame"),
        ({"size_mode": "gbt2828", "level": "IV"}, "level"),
        ({"frame": "all"}, "frame"),
    ],
)
def test_draw_refusals_write_nothing(demo, client, connection, body, field) -> None:
    before = connection.execute(select(func.count()).select_from(SampleBatch)).scalar_one()
    r = _draw(client, **body)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["field"] == field and r.get_json()["message"]
    after = connection.execute(select(func.count()).select_from(SampleBatch)).scalar_one()
    assert after == before


def test_street_users_may_not_draw(demo, client) -> None:
    r = client.post(
        "/api/v1/samples", json={"frame": {}, "n": 5, "size_mode": "fixed"}, headers=STREET
    )
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"


# ---------------------------------------------------------------- double random


def test_double_random_assignment(demo, client) -> None:
    doc = _draw(client, n=30).get_json()
    too_few = client.post(f"/api/v1/samples/{doc['id']}/assignments", json={"cap": 5})
    assert too_few.status_code == 422 and too_few.get_json()["field"] == "inspectors"

    pool = _add_inspectors(client)
    street_of = {p["id"]: p["street_code"] for p in pool}
    r = client.post(f"/api/v1/samples/{doc['id']}/assignments", json={"cap": 4, "seed": "11"})
    assert r.status_code == 200, r.get_json()
    sites = r.get_json()["sites"]
    assert all(s["inspector_id"] for s in sites)
    assert all(street_of[s["inspector_id"]] != s["street_code"] for s in sites)
    loads = [sum(1 for s in sites if s["inspector_id"] == p) for p in street_of]
    assert max(loads) <= 4
    assert client.get(f"/api/v1/samples/{doc['id']}/audit").get_json()["assignment_ok"] is True

    again = client.post(f"/api/v1/samples/{doc['id']}/assignments", json={"cap": 4, "seed": "11"})
    assert [s["inspector_id"] for s in again.get_json()["sites"]] == [
        s["inspector_id"] for s in sites
    ]
    cap = client.post(f"/api/v1/samples/{doc['id']}/assignments", json={"cap": 0})
    assert cap.status_code == 422 and cap.get_json()["field"] == "cap"


def test_inspector_pool_refusals(demo, client) -> None:
    assert client.post("/api/v1/inspectors", json={"name": " "}).status_code == 422
    bad_street = client.post("/api/v1/inspectors", json={"name": "甲", "street": "120102099"})
    assert bad_street.status_code == 422 and bad_street.get_json()["field"] == "street"
    assert client.post("/api/v1/inspectors", json={"name": "乙"}).status_code == 201
    assert client.post("/api/v1/inspectors", json={"name": "乙"}).status_code == 409
    assert client.post("/api/v1/inspectors", json={"name": "丙"}, headers=STREET).status_code == 403


# ---------------------------------------------------------------- results


def test_results_a_fail_reopens_the_site(demo, client, connection) -> None:
    doc = _draw(client, n=15).get_json()
    first, second = doc["sites"][0]["site_id"], doc["sites"][1]["site_id"]
    url = f"/api/v1/samples/{doc['id']}/sites/{{}}/result"

    ok = client.post(url.format(first), json={"result": "pass", "notes": "已拆除"})
    assert ok.status_code == 200 and ok.get_json()["reopened"] is False
    assert client.post(url.format(first), json={"result": "fail", "notes": "x"}).status_code == 409

    no_notes = client.post(url.format(second), json={"result": "fail"})
    assert no_notes.status_code == 422 and no_notes.get_json()["field"] == "notes"
    bad = client.post(url.format(second), json={"result": "maybe"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "result"
    photos = client.post(url.format(second), json={"result": "pass", "photo_ids": [1]})
    assert photos.status_code == 422 and photos.get_json()["field"] == "photo_ids"

    fail = client.post(url.format(second), json={"result": "不合格", "notes": "彩钢棚仍在"})
    assert fail.status_code == 200 and fail.get_json()["reopened"] is True
    site = connection.execute(select(Site.status, Site.version).where(Site.id == second)).one()
    assert site.status == "in_progress"
    events = connection.execute(
        select(SiteEvent.action, SiteEvent.changes, SiteEvent.reason)
        .where(SiteEvent.site_id == second)
        .order_by(SiteEvent.id)
    ).all()
    assert [e.action for e in events][-2:] == ["spot_check", "reopen"]
    assert events[-1].changes["status"] == ["closed", "in_progress"]
    assert events[-1].changes["cause"] == [None, "spot_check"]
    assert "彩钢棚仍在" in events[-1].reason

    missing = client.post(url.format(999999), json={"result": "pass"})
    assert missing.status_code == 404


def test_inspectors_record_only_their_own_sites(demo, client, auth) -> None:
    doc = _draw(client, n=12).get_json()
    _add_inspectors(client, auth, district_level=0)
    sites = client.post(
        f"/api/v1/samples/{doc['id']}/assignments", json={"cap": 12, "seed": "3"}
    ).get_json()["sites"]
    pool = {
        p["id"]: (p["username"], p["street_code"])
        for p in client.get("/api/v1/inspectors").get_json()["inspectors"]
    }
    mine = sites[0]
    username, street = pool[mine["inspector_id"]]
    other = next(s for s in sites if s["inspector_id"] != mine["inspector_id"])
    me = auth.headers(username, "inspector", street)
    url = f"/api/v1/samples/{doc['id']}/sites/{{}}/result"
    assert (
        client.post(url.format(mine["site_id"]), json={"result": "pass"}, headers=me).status_code
        == 200
    )
    r = client.post(url.format(other["site_id"]), json={"result": "pass"}, headers=me)
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"


def test_estimates_public_summary_and_report(demo, client, connection) -> None:
    doc = _draw(client, n=14).get_json()
    _add_inspectors(client)
    client.post(f"/api/v1/samples/{doc['id']}/assignments", json={"cap": 14})
    url = f"/api/v1/samples/{doc['id']}/sites/{{}}/result"
    for k, s in enumerate(doc["sites"]):
        outcome = {"result": "fail", "notes": "未整改"} if k % 7 == 0 else {"result": "pass"}
        assert client.post(url.format(s["site_id"]), json=outcome).status_code == 200

    est = client.get(f"/api/v1/samples/{doc['id']}/estimate").get_json()
    district = est["district"]
    assert district["inspected"] == 14 and district["failed"] == 2 and district["complete"]
    assert district["ci_low"] < district["share"] < district["ci_high"]
    sizes = doc["params"]["strata_sizes"]
    weighted = sum(
        sizes[s["code"]] * s["share"] for s in est["streets"] if s["share"] is not None
    ) / sum(sizes.values())
    assert district["share"] == pytest.approx(weighted)

    quality = client.get("/api/v1/samples/quality").get_json()
    assert quality["batch_id"] == doc["id"] and len(quality["streets"]) == len(sizes)

    public = client.get(f"/api/v1/samples/{doc['id']}/public")
    text_body = public.get_data(as_text=True)
    names = connection.execute(select(Site.person_name, Site.person_contact)).all()
    for person, contact in names:
        assert person not in text_body and contact not in text_body
    for inspector in connection.execute(select(Inspector.name)).scalars():
        assert inspector not in text_body
    assert "未整改" not in text_body  # notes stay internal
    assert public.get_json()["double_random"]["inspectors_drawn"] >= 1

    batch = connection.execute(
        select(SampleBatch.report_xlsx, SampleBatch.reported_at).where(SampleBatch.id == doc["id"])
    ).one()
    assert batch.report_xlsx and batch.reported_at is not None  # kept once all are checked
    r = client.get(f"/api/v1/samples/{doc['id']}/report.xlsx")
    assert r.status_code == 200 and r.data == batch.report_xlsx
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["概况", "各街道", "抽中点位", "地图"]
    rows = list(wb["抽中点位"].iter_rows(values_only=True))
    assert len(rows) == 15 and sum(1 for row in rows if row[8] == "不合格") == 2
    assert wb["地图"]._images  # the map picture is in the workbook
    person_names = {p for p, _ in names}
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not person_names & {str(v) for v in row if v}


# ---------------------------------------------------------------- pages and CLI


def test_pages(demo, client, auth) -> None:
    client.environ_base.pop("HTTP_AUTHORIZATION")  # a person in a browser: session and forms
    auth.login(client, "区办页面", "district_officer")
    index = client.get("/sampling").get_data(as_text=True)
    token = csrf_of(index)
    assert "抽样框" in index and "抽取样本" in index and "大直沽街道" in index
    r = client.post(
        "/sampling",
        data={
            "size_mode": "fixed",
            "n": "20",
            "method": "grts",
            "allocation": "equal",
            "seed": "5",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "空间均衡度" in page and '<code id="seed">5</code>' in page
    assert "GRTS" in page and "按平均分配" not in page
    batch_id = int(r.headers["Location"].rsplit("/", 1)[1])
    fmap = client.get(f"/sampling/batches/{batch_id}/map").get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in fmap
    assert "cdn" not in fmap.lower() and '<script src="https://' not in fmap
    assert "circleMarker" in fmap
    assert "公示" in client.get(f"/sampling/batches/{batch_id}/public").get_data(as_text=True)
    assert "一致" in client.get(f"/sampling/batches/{batch_id}/audit").get_data(as_text=True)
    assert client.get("/sampling/quality").status_code == 200

    bad = client.post("/sampling", data={"size_mode": "fixed", "n": "-3", "csrf_token": token})
    assert bad.status_code == 422
    assert "样本量不能为负数" in bad.get_data(as_text=True)

    assert (
        client.post(
            "/sampling/inspectors", data={"name": "赵六", "street": "", "csrf_token": token}
        ).status_code
        == 303
    )
    assert "赵六" in client.get("/sampling/inspectors").get_data(as_text=True)


def test_openapi_lists_the_sampling_paths(client) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/samples" in paths and "/samples/{batch_id}/audit" in paths and "/inspectors" in paths


def test_cli_draw_redraw_and_inspectors(demo, connection) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    obj = {"app": demo}
    added = runner.invoke(cli, ["inspectors", "add", "钱七", "--street", "120102003"], obj=obj)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["inspectors", "list"], obj=obj)
    assert "钱七" in listed.output and "中山门" in listed.output
    drawn = runner.invoke(
        cli, ["sample", "draw", "--size-mode", "percent", "-n", "10", "--seed", "99"], obj=obj
    )
    assert drawn.exit_code == 0, drawn.output
    batch_id = connection.execute(select(func.max(SampleBatch.id))).scalar_one()
    again = runner.invoke(cli, ["sample", "redraw", str(batch_id)], obj=obj)
    assert again.exit_code == 0 and '"match": true' in again.output
    connection.execute(delete_first_sample(batch_id))
    broken = runner.invoke(cli, ["sample", "redraw", str(batch_id)], obj=obj)
    assert broken.exit_code == 1 and '"sample_ok": false' in broken.output
    bad = runner.invoke(cli, ["sample", "draw", "--size-mode", "fixed", "-n", "-1"], obj=obj)
    assert bad.exit_code == 1 and "负数" in bad.output
    assert runner.invoke(cli, ["sample", "redraw", "424242"], obj=obj).exit_code == 1


def delete_first_sample(batch_id: int):
    from sqlalchemy import delete

    return delete(SampleSite).where(SampleSite.batch_id == batch_id, SampleSite.ord == 1)


def test_street_names_come_from_the_streets_table(demo, connection) -> None:
    assert connection.execute(select(func.count()).select_from(Street)).scalar_one() == 12


def test_unknown_batch_and_inspector_are_404(client) -> None:
    for url in ("/api/v1/samples/424242", "/api/v1/samples/424242/audit"):
        r = client.get(url)
        assert r.status_code == 404 and r.get_json()["field"] == "batch_id"
    r = client.patch("/api/v1/inspectors/424242", json={"active": False})
    assert r.status_code == 404
    r = client.patch("/api/v1/inspectors/1", json={"active": "no"})
    assert r.status_code == 422 and r.get_json()["field"] == "active"
    assert client.get("/sampling/batches/424242").status_code == 404
