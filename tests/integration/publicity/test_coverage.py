"""融媒体 coverage (issue 18, 六 / 四(五)): the media centre records reports linked to sites and
streets; the office and the linked street see them, another street 404, the other bureaus
403; every field's refusal names it and writes nothing; a public page lists the published
ones without any personal data; the site timeline shows the link; the audit trail each act."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gis_app.core.actor import Actor
from gis_app.core.errors import Forbidden, NotFound, ValidationError
from gis_app.features.publicity import service
from tests.support.accounts import csrf
from tests.support.rls import as_app
from tests.support.scope import B_POINT
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

MEDIA = Actor("融媒体王", "bureau_media")
DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)


def _body(**over):
    body = {
        "kind": "exposure",
        "published_on": "2026-06-10",
        "outlet": "河东融媒",
        "title": "曝光：楼顶违建",
        "url": "https://news.example.cn/a/1.html",
        "summary": "内部摘要保密",
        "published": True,
        "sites": [],
        "streets": [],
    }
    body.update(over)
    return body


@pytest.fixture()
def two_sites(db_session):
    a = make_site(db_session, person_name="相对人甲某", person_contact="13911112222")
    b = make_site(
        db_session,
        lon=B_POINT[0],
        lat=B_POINT[1],
        address="中山门某路5号",
        person_name="相对人乙某",
        person_contact="13733334444",
    )
    return a, b


def _count(db_session) -> int:
    return db_session.execute(text("SELECT count(*) FROM coverage_records")).scalar()


def test_scope_per_role(db_session, connection, two_sites) -> None:
    a, b = two_sites
    on_a = service.coverage.create(db_session, MEDIA, _body(sites=[a.code], published=False))
    on_b = service.coverage.create(db_session, MEDIA, _body(title="中山门报道", streets=[ZSM]))
    both = service.coverage.create(db_session, MEDIA, _body(title="两街道", sites=[a.code, b.code]))
    titles = lambda actor: [r["title"] for r in service.coverage.listing(db_session, actor)]  # noqa: E731
    assert len(titles(OFFICE)) == 3 and len(titles(MEDIA)) == 3
    assert sorted(titles(DZG_OFFICER)) == sorted(["曝光：楼顶违建", "两街道"])
    assert sorted(titles(ZSM_OFFICER)) == sorted(["中山门报道", "两街道"])
    # a street sees only its own links of a shared report (not the other street's site)
    shared = service.coverage.one(db_session, DZG_OFFICER, both.id)
    assert shared["sites"] == [a.code] and b.code not in str(shared)
    assert service.coverage.one(db_session, OFFICE, both.id)["sites"] == sorted([a.code, b.code])
    with pytest.raises(NotFound):
        service.coverage.one(db_session, ZSM_OFFICER, on_a.id)
    with pytest.raises(NotFound):
        service.coverage.one(db_session, DZG_OFFICER, on_b.id)
    for role in ("bureau_civil", "bureau_housing", "bureau_police", "agency"):
        with pytest.raises(Forbidden):
            service.coverage.listing(db_session, Actor("x", role))
        with pytest.raises(Forbidden):
            service.coverage.create(db_session, Actor("x", role), _body(streets=[DZG]))
    for actor in (OFFICE, DZG_OFFICER):
        with pytest.raises(Forbidden):
            service.coverage.create(db_session, actor, _body(streets=[DZG]))
    db_session.flush()
    # the second wall: row-level security alone
    count = text("SELECT count(*) FROM coverage_records")
    for role, street, seen in (("district_officer", "", 3), ("bureau_media", "", 3),
                               ("street_officer", DZG, 2), ("inspector", ZSM, 2),
                               ("bureau_police", "", 0), ("agency", "", 0), ("", "", 0),
                               ("public_page", "", 2)):  # fmt: skip
        with as_app(connection, role, street):
            assert connection.execute(count).scalar() == seen, role
    with as_app(connection, "street_officer", ZSM):
        links = connection.execute(text("SELECT site_id FROM coverage_links")).scalars().all()
        assert a.id not in links and b.id in links


def test_bad_input_per_field_writes_nothing(db_session, two_sites) -> None:
    a, _ = two_sites
    cases = [
        ({"kind": "rumour"}, "kind"),
        ({"kind": None}, "kind"),
        ({"published_on": "2026-06-16"}, "published_on"),  # after today
        ({"published_on": "昨天"}, "published_on"),
        ({"published_on": None}, "published_on"),
        ({"outlet": " "}, "outlet"),
        ({"outlet": "媒" * 101}, "outlet"),
        ({"title": ""}, "title"),
        ({"title": 5}, "title"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://x.cn/a"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://a b.cn/"}, "url"),
        ({"url": "https://user:pw@x.cn/"}, "url"),
        ({"summary": "摘" * 2001}, "summary"),
        ({"published": "maybe"}, "published"),
        ({"sites": ["NO-SUCH-SITE"]}, "sites"),
        ({"sites": [1, 2]}, "sites"),
        ({"streets": ["999999999"]}, "streets"),
        ({"sites": [], "streets": []}, "sites"),  # linked to nothing
    ]
    before = _count(db_session)
    for change, field in cases:
        body = _body(sites=[a.code])
        body.update(change)
        with pytest.raises(ValidationError) as err:
            service.coverage.create(db_session, MEDIA, body)
        assert err.value.field == field, (change, err.value.message)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)
    assert _count(db_session) == before


def test_api_status_codes_and_nothing_written(client, auth, db_session, two_sites) -> None:
    a, b = two_sites
    media = auth.headers("融媒体王", "bureau_media")
    bad = client.post("/api/v1/coverage", json=_body(url="http//x"), headers=media)
    assert bad.status_code == 422 and bad.json["field"] == "url" and "链接" in bad.json["message"]
    assert _count(db_session) == 0
    made = client.post("/api/v1/coverage", json=_body(sites=[a.code]), headers=media)
    assert made.status_code == 201, made.json
    cid = made.json["id"]
    assert made.json["sites"] == [a.code] and made.json["kind_label"] == "曝光"
    dzg = auth.headers("大直沽李", "street_officer", DZG)
    zsm = auth.headers("中山门赵", "street_officer", ZSM)
    assert client.get(f"/api/v1/coverage/{cid}", headers=dzg).status_code == 200
    assert client.get(f"/api/v1/coverage/{cid}", headers=zsm).status_code == 404
    assert client.get("/api/v1/coverage", headers=zsm).json["coverage"] == []
    police = auth.headers("公安", "bureau_police")
    assert client.get("/api/v1/coverage", headers=police).status_code == 403
    assert client.get(f"/api/v1/coverage/{cid}", headers=police).status_code == 403
    office = auth.headers("区办", "district_officer")
    assert (
        client.post("/api/v1/coverage", json=_body(streets=[DZG]), headers=office).status_code
        == 403
    )
    assert (
        client.put(f"/api/v1/coverage/{cid}", json=_body(streets=[DZG]), headers=dzg).status_code
        == 403
    )
    # an edit moves the report from A's site to B's: A no longer sees it, B does
    moved = client.put(
        f"/api/v1/coverage/{cid}", json=_body(sites=[b.code], title="改后"), headers=media
    )
    assert moved.status_code == 200 and moved.json["sites"] == [b.code]
    assert client.get(f"/api/v1/coverage/{cid}", headers=dzg).status_code == 404
    assert client.get(f"/api/v1/coverage/{cid}", headers=zsm).json["title"] == "改后"
    refused = client.put(f"/api/v1/coverage/{cid}", json=_body(title=""), headers=media)
    assert refused.status_code == 422 and refused.json["field"] == "title"
    assert client.get(f"/api/v1/coverage/{cid}", headers=zsm).json["title"] == "改后"
    assert (
        client.put("/api/v1/coverage/99999", json=_body(streets=[DZG]), headers=media).status_code
        == 404
    )


def test_public_page_lists_published_coverage_without_personal_data(
    client, auth, db_session, two_sites
) -> None:
    a, b = two_sites
    service.coverage.create(db_session, MEDIA, _body(sites=[a.code, b.code], title="公开报道甲"))
    service.coverage.create(
        db_session, MEDIA, _body(title="未公开报道乙", published=False, sites=[a.code])
    )
    db_session.flush()
    for url in ("/public/coverage", "/api/v1/public/coverage"):
        client.delete_cookie("gis_session")
        page = client.get(url)
        assert page.status_code == 200, url  # no login
        body = page.get_data(as_text=True)
        assert "公开报道甲" in body and "https://news.example.cn/a/1.html" in body
        assert "大直沽" in body and "中山门" in body  # the streets by name
        assert "未公开报道乙" not in body
        secrets = [a.person_name, a.person_contact, b.person_name, b.person_contact]
        secrets += [a.address, b.address, a.code, b.code, "内部摘要保密", "融媒体王"]
        for secret in secrets:
            assert secret not in body, (url, secret)
    client.delete_cookie("gis_session")
    assert 'href="/public/coverage"' in client.get("/login").text  # found without an account
    # logged in as a street: the same public list, no more
    auth.login(client, "中山门赵", "street_officer", ZSM)
    body = client.get("/public/coverage").get_data(as_text=True)
    assert "公开报道甲" in body and "未公开报道乙" not in body


def test_pages_timeline_and_audit(client, auth, db_session, connection, two_sites) -> None:
    a, _ = two_sites
    auth.login(client, "融媒体王", "bureau_media")
    token = csrf(client, "/coverage")
    form = {**_body(), "csrf_token": token, "sites": f"{a.code}", "published": "1"}
    form.pop("streets")
    bad = client.post("/coverage", data={**form, "url": "www.example.cn"})
    assert bad.status_code == 422 and "链接须是以 http:// 或 https:// 开头的网址" in bad.text
    assert 'value="www.example.cn"' in bad.text  # the input kept
    assert _count(db_session) == 0
    ok = client.post("/coverage", data=form)
    assert ok.status_code == 302
    cid = int(ok.headers["Location"].rsplit("/", 1)[1])
    assert "曝光：楼顶违建" in client.get(f"/coverage/{cid}").text
    # the office and the street see the page; the other street a 404
    auth.login(client, "区办", "district_officer")
    assert "曝光：楼顶违建" in client.get("/coverage").text
    auth.login(client, "中山门赵", "street_officer", ZSM)
    assert client.get(f"/coverage/{cid}").status_code == 404
    auth.login(client, "大直沽李", "street_officer", DZG)
    assert client.get(f"/coverage/{cid}").status_code == 200
    site_page = client.get(f"/sites/{a.id}").text
    assert "媒体报道" in site_page and "河东融媒" in site_page and "曝光：楼顶违建" in site_page
    # unlinking writes the other event; the audit trail holds the record and its links
    auth.login(client, "融媒体王", "bureau_media")
    token = csrf(client, "/coverage")
    edit = {**form, "csrf_token": token, "sites": "", "streets": DZG}
    assert client.post(f"/coverage/{cid}", data=edit).status_code == 302
    actions = connection.execute(
        text("SELECT action, actor FROM site_events WHERE site_id = :s AND action LIKE 'coverage%'"
             " ORDER BY id"), {"s": a.id}
    ).all()  # fmt: skip
    assert [tuple(r) for r in actions] == [
        ("coverage", "融媒体王"),
        ("coverage_removed", "融媒体王"),
    ]
    audited = connection.execute(
        text("SELECT table_name, action FROM audit.events WHERE table_name LIKE 'coverage%'"
             " ORDER BY id")
    ).all()  # fmt: skip
    assert ("coverage_records", "insert") in audited and ("coverage_records", "update") in audited
    assert ("coverage_links", "insert") in audited and ("coverage_links", "delete") in audited


def test_media_may_add_only_coverage_events_and_reads_no_history(connection, two_sites) -> None:
    from sqlalchemy.exc import DBAPIError

    a, _ = two_sites
    insert = (
        "INSERT INTO site_events (district_code, site_id, actor, action, reason, changes, at)"
        " VALUES ('120102', :s, 'm', :a, '', '{}', now())"
    )
    with as_app(connection, "bureau_media", "", "m"):
        connection.execute(text(insert), {"s": a.id, "a": "coverage"})
        assert connection.execute(text("SELECT count(*) FROM site_events")).scalar() == 0
    with pytest.raises(DBAPIError), as_app(connection, "bureau_media", "", "m"):
        connection.execute(text(insert), {"s": a.id, "a": "transition"})
