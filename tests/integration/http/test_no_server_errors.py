"""Inputs that were server errors (issue 16, point 5): a lone surrogate in JSON, a code in use
in another street, CR/LF in `next`. Each is now refused (or ignored) before any change, with
the same answer whatever street holds a code.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from gis_app.features.ledger.models import Site
from tests.support.accounts import csrf
from tests.support.sites import site_payload
from tests.support.workflow import DZG, ZSM

ZSM_POINT = {"lon": 117.2620, "lat": 39.1010}


def _raw_json(client, url: str, text: str, headers: dict, method: str = "post"):
    return getattr(client, method)(
        url, data=text.encode(), content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("escape", ["\\udc80", "\\ud800", "\\u0000"])
def test_a_lone_surrogate_or_nul_in_json_is_a_422_naming_the_field(client, auth, escape) -> None:
    headers = auth.headers("ns.office", "district_officer")
    body = json.dumps(site_payload(code="NS-1"))[:-1] + f', "note": "x{escape}y"}}'
    response = _raw_json(client, "/api/v1/sites", body, headers)
    assert response.status_code == 422, response.text
    assert response.get_json()["field"] == "note"
    # nested: a step plan's title
    created = client.post("/api/v1/sites", json=site_payload(code="NS-2"), headers=headers)
    site_id = created.get_json()["id"]
    plan = '{"steps": [{"title": "a' + escape + '", "due_date": "2026-07-01"}]}'
    response = _raw_json(client, f"/api/v1/sites/{site_id}/steps", plan, headers, "put")
    assert response.status_code in (404, 405, 422), response.text
    if response.status_code == 422:
        assert response.get_json()["field"].endswith("title")


def _code_answers(client, headers, code: str) -> tuple[int, str]:
    response = client.post(
        "/api/v1/sites", json=site_payload(code=code, address="同号"), headers=headers
    )
    return response.status_code, response.get_json()["message"].replace(code, "<code>")


def _import(client, headers, code: str, dry_run: bool):
    text = (
        "编号,地址,经度,纬度,治理方式,承诺期限\n"
        + f"{code},同号路1号,117.2381,39.11,拆除,2026-09-30\n"
    )
    return client.post(
        "/api/v1/sites/import",
        data={
            "file": (io.BytesIO(text.encode()), "ledger.csv"),
            "dry_run": "true" if dry_run else "",
        },
        headers=headers,
        content_type="multipart/form-data",
    )


def test_a_code_in_use_gets_one_answer_whatever_street_holds_it(client, auth, connection) -> None:
    office = auth.headers("ns.office2", "district_officer")
    assert (
        client.post("/api/v1/sites", json=site_payload(code="NS-OWN"), headers=office).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/sites", json=site_payload(code="NS-OTHER", **ZSM_POINT), headers=office
        ).status_code
        == 201
    )
    street = auth.headers("ns.street", "street_officer", DZG)
    own, other = _code_answers(client, street, "NS-OWN"), _code_answers(client, street, "NS-OTHER")
    assert own == other and own[0] == 409, (own, other)
    assert ZSM not in other[1] and "中山门" not in other[1]
    before = connection.execute(select(func.count()).select_from(Site)).scalar_one()
    answers = []
    for code in ("NS-OWN", "NS-OTHER"):
        for dry_run in (True, False):
            response = _import(client, street, code, dry_run)
            assert response.status_code == 422, response.text  # no UniqueViolation 500
            error = response.get_json()["errors"][0]
            assert error["field"] == "code"
            answers.append(error["message"].replace(code, "<code>"))
    assert len(set(answers)) == 1, answers
    assert connection.execute(select(func.count()).select_from(Site)).scalar_one() == before


def test_cr_lf_in_next_is_ignored_before_anything_changes(client, auth, office, connection) -> None:
    # the login: the bad `next` falls back to the home page, no server error
    auth.user("ns.login", "district_officer")
    client.delete_cookie("gis_session")
    page = client.get("/login")
    from tests.support.accounts import PASSWORD, csrf_of

    response = client.post(
        "/login?next=/map%0d%0aX-Injected:%201",
        data={
            "username": "ns.login",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/map\r\nX-Injected: 1",
        },
    )
    assert response.status_code == 302, response.text
    assert "\n" not in response.headers["Location"] and "X-Injected" not in str(response.headers)

    # a workflow form: the action is done once and the answer is the site's page
    auth.login(client, "ns.office3", "district_officer")
    created = client.post(
        "/api/v1/sites",
        json=site_payload(code="NS-NEXT"),
        headers={"X-CSRF-Token": csrf(client)},
    )
    site_id = created.get_json()["id"]
    response = client.post(
        f"/sites/{site_id}/transition",
        data={
            "to": "in_progress",
            "csrf_token": csrf(client),
            "next": f"/sites/{site_id}/workflow\r\nX-Injected: 1",
        },
    )
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(f"/sites/{site_id}/workflow")
    status = connection.execute(select(Site.status).where(Site.id == site_id)).scalar_one()
    assert status == "in_progress"
