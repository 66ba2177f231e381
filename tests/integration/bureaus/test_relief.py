"""民政 relief: recorded by the civil-affairs bureau for a hardship person; visible to the
district, the site's street and the bureau, never to other roles; refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gis_app.core.actor import Actor
from gis_app.core.errors import Forbidden, NotFound, ValidationError
from gis_app.features.bureaus import service as bureaus
from tests.support.accounts import csrf
from tests.support.rls import as_app
from tests.support.workflow import CIVIL, DZG, OFFICE, ZSM, make_site

DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)


def test_relief_is_recorded_and_seen_by_the_right_roles(db_session, connection) -> None:
    poor = make_site(db_session, flag_hardship=True)
    other = make_site(db_session)
    with pytest.raises(NotFound):  # not a hardship site
        bureaus.record_relief(db_session, other.id, CIVIL, "米面油", "2026-06-10")
    with pytest.raises(Forbidden):
        bureaus.record_relief(db_session, poor.id, DZG_OFFICER, "米面油", "2026-06-10")
    with pytest.raises(ValidationError) as err:
        bureaus.record_relief(db_session, poor.id, CIVIL, "米面油", "2026-06-16")
    assert err.value.field == "given_on"
    with pytest.raises(ValidationError) as err:
        bureaus.record_relief(db_session, poor.id, CIVIL, " ", "2026-06-10")
    assert err.value.field == "what"
    bureaus.record_relief(db_session, poor.id, CIVIL, "临时救助金2000元", "2026-06-10")
    for actor in (OFFICE, DZG_OFFICER, CIVIL):
        assert [r["what"] for r in bureaus.relief_records(db_session, actor)] == [
            "临时救助金2000元"
        ]
    assert bureaus.relief_records(db_session, ZSM_OFFICER) == []
    for role in ("bureau_housing", "bureau_police", "bureau_media", "agency"):
        with pytest.raises(Forbidden):
            bureaus.relief_records(db_session, Actor("x", role))
    db_session.flush()
    count = text("SELECT count(*) FROM relief_records")
    for role, street, seen in (("district_officer", "", 1), ("street_officer", DZG, 1),
                               ("street_officer", ZSM, 0), ("bureau_civil", "", 1),
                               ("bureau_police", "", 0), ("bureau_media", "", 0),
                               ("agency", "", 0)):  # fmt: skip
        with as_app(connection, role, street):
            assert connection.execute(count).scalar() == seen, role


def test_relief_through_the_page_and_the_api(client, auth, db_session) -> None:
    poor = make_site(db_session, flag_hardship=True)
    auth.login(client, "民政局", "bureau_civil")
    token = csrf(client, "/bureau/civil-affairs")
    url = f"/bureau/civil-affairs/{poor.id}/relief"
    bad = client.post(url, data={"csrf_token": token, "what": "", "given_on": "2026-06-10"})
    assert bad.status_code == 422 and "缺少救助内容" in bad.text
    ok = client.post(url, data={"csrf_token": token, "what": "慰问", "given_on": "2026-06-10"})
    assert ok.status_code == 302 and "慰问" in client.get("/bureau/civil-affairs").text
    police = auth.headers("公安", "bureau_police")
    assert client.get("/api/v1/relief", headers=police).status_code == 403
    media = auth.headers("融媒体", "bureau_media")
    assert client.get("/api/v1/relief", headers=media).status_code == 403
    dzg = auth.headers("大直沽李", "street_officer", DZG)
    listed = client.get("/api/v1/relief", headers=dzg).json["relief"]
    assert [r["what"] for r in listed] == ["慰问"]
    civil = auth.headers("民政局", "bureau_civil")
    body = {"what": "米", "given_on": "2026-06-12"}
    made = client.post(f"/api/v1/sites/{poor.id}/relief", json=body, headers=civil)
    assert made.status_code == 201
    assert client.post(f"/api/v1/sites/{poor.id}/relief", json={"what": "米"},
                       headers=dzg).status_code == 403  # fmt: skip
