"""Look-alike codes and names (issue 16, point 8): codes and usernames compared by their normal
form (NFKC, case), invisible and bidi-control characters and Latin/Cyrillic mixtures refused."""

from __future__ import annotations

import io

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, ValidationError
from gis_app.features.accounts.service import create_user
from tests.support.sites import site_payload

ADMIN = Actor("la.admin", "district_admin")


def _post(client, headers, **overrides):
    return client.post("/api/v1/sites", json=site_payload(**overrides), headers=headers)


def test_codes_are_compared_by_their_normal_form(client, auth, connection) -> None:
    headers = auth.headers("la.office", "district_officer")
    assert _post(client, headers, code="LA-001").status_code == 201
    for lookalike in ("la-001", "ＬＡ－００１", "La-001"):
        response = _post(client, headers, code=lookalike)
        assert response.status_code == 409, (lookalike, response.text)
        assert "已被使用" in response.get_json()["message"]
    for bad in ("LA\u200b-001", "L\u0410-001", "LA-001\u202e", "\ufeffLA-9"):
        response = _post(client, headers, code=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.get_json()["field"] == "code"
    # a full-width code of its own is stored in its ordinary form
    created = _post(client, headers, code="ＬＡ－００２")
    assert created.status_code == 201
    assert created.get_json()["properties"]["code"] == "LA-002"
    # the database itself refuses two live codes of one normal form
    with pytest.raises(sqlalchemy.exc.IntegrityError), connection.begin_nested():
        connection.execute(text("UPDATE sites SET code = 'la-001' WHERE code = 'LA-002'"))


def test_invisible_addresses_and_names_are_refused(client, auth) -> None:
    headers = auth.headers("la.office2", "district_officer")
    for field, value in (
        ("address", "\u200b\u200b\u2060"),
        ("address", "大直沽\u202e路1号"),
        ("person_name", "张\u200b三"),
    ):
        response = _post(client, headers, code="LA-X", **{field: value})
        assert response.status_code == 422, (field, value, response.text)
        assert response.get_json()["field"] == field
    # a name that shows nothing is no name: stored empty
    blank = _post(client, headers, code="LA-Y", person_name="\u3164\u200b")
    assert blank.status_code == 201 and blank.get_json()["properties"]["person_name"] == ""


def test_an_import_compares_codes_by_their_normal_form(client, auth) -> None:
    headers = auth.headers("la.office3", "district_officer")
    assert _post(client, headers, code="LA-100").status_code == 201
    rows = "编号,地址,经度,纬度,治理方式,承诺期限\n"
    rows += "la-100,甲路1号,117.2381,39.11,拆除,2026-09-30\n"
    rows += "LA-101,甲路2号,117.2382,39.11,拆除,2026-09-30\n"
    rows += "ｌａ－１０１,甲路3号,117.2383,39.11,拆除,2026-09-30\n"
    response = client.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(rows.encode()), "ledger.csv"), "dry_run": "true"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.text
    messages = {e["row"]: e["message"] for e in response.get_json()["errors"]}
    assert "已被使用" in messages[2] and "重复" in messages[4], messages


def test_lookalike_usernames_are_refused(db_session) -> None:
    password = "a long password 2026"
    create_user(db_session, ADMIN, "la.office", "区办", "district_officer", password=password)
    with pytest.raises(ValidationError) as mixed:
        create_user(db_session, ADMIN, "la.offіce", "区办", "district_officer", password=password)
    assert mixed.value.field == "username"
    with pytest.raises(Conflict):
        create_user(
            db_session, ADMIN, "ｌａ.ＯＦＦＩＣＥ", "区办", "district_officer", password=password
        )
    with pytest.raises(ValidationError) as invisible:
        create_user(
            db_session, ADMIN, "la.boss", "区\u200b办", "district_officer", password=password
        )
    assert invisible.value.field == "display_name"
