"""宣传 publicity work of the streets (issue 18, plan 六(三)): a street records and edits its
own, another street gets 404, the bureaus 403; every field's refusal names it and writes
nothing; the photo passes the site photos' checks; the office's table per street and month
counts constructed data exactly, drills down to the records, and downloads as CSV with
every cell through core.cells (formula injection)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from gis_app.core.actor import Actor
from gis_app.core.errors import Forbidden, NotFound, ValidationError
from gis_app.features.photos.service import PhotoLimits, PhotoStore
from gis_app.features.publicity import service
from tests.support.accounts import csrf
from tests.support.rls import as_app
from tests.support.scope import A_POINT
from tests.support.workflow import DZG, OFFICE, ZSM, image_bytes

DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
DZG_INSPECTOR = Actor("大直沽队员", "inspector", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)
LIMITS = PhotoLimits(max_bytes=5 * 1024 * 1024, max_pixels=40_000_000)


def _body(**over):
    body = {
        "kind": "banner",
        "content": "依法治理违法建设",
        "place": "文华里社区门口",
        "done_on": "2026-06-10",
        "quantity": 3,
    }
    body.update(over)
    return body


@pytest.fixture()
def store(tmp_path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos")


def _add(db_session, store, actor, **over):
    return service.work.create(db_session, actor, _body(**over), store, LIMITS)


def _count(db_session) -> int:
    return db_session.execute(text("SELECT count(*) FROM publicity_records")).scalar()


def test_scope_per_role(db_session, connection, store) -> None:
    mine = _add(db_session, store, DZG_OFFICER)
    theirs = _add(db_session, store, ZSM_OFFICER, content="中山门横幅")
    assert [r["id"] for r in service.work.listing(db_session, DZG_INSPECTOR)] == [mine.id]
    assert {r["id"] for r in service.work.listing(db_session, OFFICE)} == {mine.id, theirs.id}
    # a street's filter cannot reach another street
    assert service.work.listing(db_session, DZG_OFFICER, street=ZSM) == []
    with pytest.raises(NotFound):
        service.work.one(db_session, DZG_OFFICER, theirs.id)
    with pytest.raises(NotFound):
        service.work.update(db_session, DZG_OFFICER, theirs.id, _body(), store, LIMITS)
    with pytest.raises(Forbidden):  # the office reads, the streets record
        _add(db_session, store, OFFICE)
    with pytest.raises(Forbidden):
        service.work.update(db_session, OFFICE, mine.id, _body(), store, LIMITS)
    for role in ("bureau_media", "bureau_civil", "bureau_housing", "bureau_police", "agency"):
        with pytest.raises(Forbidden):
            service.work.listing(db_session, Actor("x", role))
        with pytest.raises(Forbidden):
            _add(db_session, store, Actor("x", role))
    db_session.flush()
    count = text("SELECT count(*) FROM publicity_records")
    for role, street, seen in (("district_officer", "", 2), ("street_officer", DZG, 1),
                               ("inspector", ZSM, 1), ("bureau_media", "", 0),
                               ("public_page", "", 0), ("agency", "", 0), ("", "", 0)):  # fmt: skip
        with as_app(connection, role, street):
            assert connection.execute(count).scalar() == seen, role
    with as_app(connection, "street_officer", DZG):
        changed = connection.execute(
            text("UPDATE publicity_records SET quantity = 9 WHERE id = :i"), {"i": theirs.id}
        ).rowcount
        assert changed == 0


def test_bad_input_per_field_writes_nothing(db_session, store) -> None:
    cases = [
        ({"kind": "poster"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"content": " "}, "content"),
        ({"content": "字" * 2001}, "content"),
        ({"place": ""}, "place"),
        ({"place": ["x"]}, "place"),
        ({"done_on": "2026-06-16"}, "done_on"),
        ({"done_on": "六月"}, "done_on"),
        ({"done_on": None}, "done_on"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -2}, "quantity"),
        ({"quantity": "三"}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"quantity": 1_000_001}, "quantity"),
        ({"lon": 117.2}, "lat"),
        ({"lat": 39.1}, "lon"),
        ({"lon": "东经", "lat": 39.1}, "lon"),
        ({"lon": 117.2381, "lat": 95}, "lat"),
        ({"lon": 116.0, "lat": 39.9}, "lon"),  # Beijing: outside the district
    ]
    for change, field in cases:
        with pytest.raises(ValidationError) as err:
            _add(db_session, store, DZG_OFFICER, **change)
        assert err.value.field == field, (change, err.value.message)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)
    assert _count(db_session) == 0
    for bad in (b"not an image", b"", image_bytes()[:200]):
        with pytest.raises(ValidationError) as err:
            service.work.create(
                db_session, DZG_OFFICER, _body(), store, LIMITS, service.Upload(bad, "x.jpg")
            ) if bad else service.work.set_photo(
                db_session, DZG_OFFICER, _add(db_session, store, DZG_OFFICER).id, store, LIMITS,
                service.Upload(bad, "x.jpg"),
            )  # fmt: skip
        assert err.value.field == "photo"


def test_pages_photo_and_api(client, auth, db_session, app, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    # audit rows of this test only: a live server's clean-up restarts the ids (RESTART IDENTITY)
    # and leaves its audit rows, so an earlier committed record may have had the same id
    since = db_session.scalar(text("SELECT coalesce(max(id), 0) FROM audit.events"))
    auth.login(client, "大直沽李", "street_officer", DZG)
    token = csrf(client, "/publicity")
    form = {**_body(), "csrf_token": token, "lon": str(A_POINT[0]), "lat": str(A_POINT[1])}
    bad = client.post("/publicity", data={**form, "quantity": "0"})
    assert bad.status_code == 422 and "数量须在 1 到 1000000 之间" in bad.text
    assert "文华里社区门口" in bad.text  # the input kept
    assert _count(db_session) == 0
    photo = (io.BytesIO(image_bytes()), "banner.jpg")
    ok = client.post(
        "/publicity", data={**form, "photo": photo}, content_type="multipart/form-data"
    )
    assert ok.status_code == 302, ok.text
    rid = int(ok.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/publicity/{rid}").text
    assert "依法治理违法建设" in page and "3 条" in page
    shot = client.get(f"/publicity/{rid}/photo")
    assert shot.status_code == 200 and shot.data == image_bytes()
    assert client.get(f"/publicity/{rid}/thumb").mimetype == "image/jpeg"
    edit = client.post(f"/publicity/{rid}", data={**form, "quantity": "5", "csrf_token": token})
    assert edit.status_code == 302 and "5 条" in client.get(f"/publicity/{rid}").text
    # another street: 404 on the page, the photo, the edit; a bureau 403
    auth.login(client, "中山门赵", "street_officer", ZSM)
    token = csrf(client, "/publicity")
    for url in (f"/publicity/{rid}", f"/publicity/{rid}/photo", f"/publicity/{rid}/thumb"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/publicity/{rid}", data={**form, "csrf_token": token}).status_code == 404
    assert "依法治理违法建设" not in client.get("/publicity").text
    auth.login(client, "融媒体王", "bureau_media")
    assert client.get("/publicity").status_code == 403
    # the API: the same rules
    dzg = auth.headers("大直沽李", "street_officer", DZG)
    zsm = auth.headers("中山门赵", "street_officer", ZSM)
    office = auth.headers("区办", "district_officer")
    made = client.post("/api/v1/publicity", json=_body(kind="leaflet", quantity=200), headers=dzg)
    assert (
        made.status_code == 201
        and made.json["kind_label"] == "宣传单"
        and not made.json["has_photo"]
    )
    pid = made.json["id"]
    refused = client.post("/api/v1/publicity", json=_body(place=""), headers=dzg)
    assert refused.status_code == 422 and refused.json["field"] == "place"
    assert client.post("/api/v1/publicity", json=_body(), headers=office).status_code == 403
    assert client.get(f"/api/v1/publicity/{pid}", headers=zsm).status_code == 404
    assert client.put(f"/api/v1/publicity/{pid}", json=_body(), headers=zsm).status_code == 404
    upload = client.post(
        f"/api/v1/publicity/{pid}/photo",
        data={"file": (io.BytesIO(image_bytes((1, 2, 3))), "p.png")},
        headers=dzg,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200 and upload.json["has_photo"]
    assert {r["id"] for r in client.get("/api/v1/publicity", headers=office).json["publicity"]} == {
        rid,
        pid,
    }
    assert client.get("/api/v1/publicity", headers=zsm).json["publicity"] == []
    audited = (
        db_session.execute(
            text(
                "SELECT action FROM audit.events WHERE table_name = 'publicity_records'"
                " AND row_id IN (:r, :p) AND id > :since ORDER BY id"
            ),
            {"r": str(rid), "p": str(pid), "since": since},
        )
        .scalars()
        .all()
    )
    assert audited.count("insert") == 2 and "update" in audited


def test_monthly_table_counts_constructed_data(client, auth, db_session, store) -> None:
    # 大直沽 in June: 2 banners (3 + 4), 1 leaflet run (500, with photo); May: 1 board
    _add(db_session, store, DZG_OFFICER, quantity=3, done_on="2026-06-01")
    _add(db_session, store, DZG_INSPECTOR, quantity=4, done_on="2026-06-15")
    service.work.create(
        db_session, DZG_OFFICER, _body(kind="leaflet", quantity=500, content="=HYPERLINK(1)"),
        store, LIMITS, service.Upload(image_bytes(), "l.jpg"),
    )  # fmt: skip
    _add(db_session, store, DZG_OFFICER, kind="board", quantity=2, done_on="2026-05-31")
    # 中山门 in June: 1 door-to-door visit of 40 households
    _add(db_session, store, ZSM_OFFICER, kind="入户宣传", quantity=40, done_on="2026-06-12")
    doc = service.monthly.table(db_session, OFFICE, "2026-06")
    rows = {r["street_code"]: r for r in doc["rows"]}
    assert rows[DZG]["kinds"]["banner"] == {"records": 2, "quantity": 7}
    assert rows[DZG]["kinds"]["leaflet"] == {"records": 1, "quantity": 500}
    assert rows[DZG]["kinds"]["board"] == {"records": 0, "quantity": 0}
    assert rows[DZG]["records"] == 3 and rows[DZG]["no_photo"] == 2
    assert rows[ZSM]["kinds"]["door_to_door"] == {"records": 1, "quantity": 40}
    assert doc["records"] == 4 and doc["totals"]["banner"] == {"records": 2, "quantity": 7}
    assert len(doc["rows"]) == 12 and len(doc["streets_without"]) == 10
    may = service.monthly.table(db_session, OFFICE, "2026-05")
    assert may["records"] == 1 and may["totals"]["board"] == {"records": 1, "quantity": 2}
    year = service.monthly.year_overview(db_session, OFFICE, 2026)
    dzg_year = next(r for r in year["rows"] if r["street_code"] == DZG)
    assert dzg_year["months"][4:6] == [1, 3] and sum(dzg_year["months"]) == 4
    assert year["totals"][4:6] == [1, 4] and sum(year["totals"]) == 5
    with pytest.raises(Forbidden):
        service.monthly.table(db_session, DZG_OFFICER, "2026-06")
    with pytest.raises(Forbidden):
        service.monthly.year_overview(db_session, DZG_OFFICER, 2026)
    db_session.flush()
    auth.login(client, "区办", "district_officer")
    page = client.get("/publicity/monthly?month=2026-06")
    assert page.status_code == 200
    drill = f"/publicity?street={DZG}&amp;month=2026-06&amp;kind=banner"
    assert drill in page.text
    listed = client.get(drill.replace("&amp;", "&")).text
    assert listed.count("data-publicity=") == 2
    assert f"/publicity?street={DZG}&amp;month=2026-05" in page.text  # the year's May cell
    assert client.get("/publicity/monthly?month=2026-13").status_code == 422
    api = client.get("/api/v1/publicity/monthly?month=2026-06").json
    assert api["totals"]["leaflet"] == {"records": 1, "quantity": 500}
    data = client.get("/publicity/monthly.csv?month=2026-06")
    assert data.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(data.data.decode("utf-8-sig"))))
    assert table[0][:3] == ["街道", "横幅（次）", "横幅（条）"]
    dzg_row = next(r for r in table if r[0].startswith("大直沽"))
    assert dzg_row[1:5] == ["2", "7", "1", "500"]
    assert table[-1][0] == "合计" and table[-1][-2] == "4"
    auth.login(client, "大直沽李", "street_officer", DZG)
    assert client.get("/publicity/monthly").status_code == 403
    assert client.get("/publicity/monthly.csv").status_code == 403
