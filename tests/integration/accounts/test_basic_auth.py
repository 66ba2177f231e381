"""HTTP Basic authentication: an account's name and one of its API tokens as the password,
for the clients whose dialogs offer Basic but no bearer header (QGIS, ArcGIS Pro)."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.accounts import PASSWORD, basic
from tests.support.sites import site_payload

CHALLENGE = 'Basic realm="gis-app", charset="UTF-8"'


def _challenges(response) -> list[str]:
    return response.headers.getlist("WWW-Authenticate")


def test_basic_with_a_token_reads_the_api_the_ogc_api_and_the_exports(client, auth) -> None:
    headers = auth.basic_headers("某单位", "agency")
    sites = client.get("/api/v1/sites", headers=headers)
    assert sites.status_code == 200, sites.text
    ogc = client.get("/ogc/collections/sites/items", headers=headers)
    assert ogc.status_code == 200 and ogc.get_json()["type"] == "FeatureCollection"
    export = client.get("/exports/streets.geojson", headers=headers)
    assert export.status_code == 200 and len(export.get_json()["features"]) == 12
    assert client.get("/api/v1/exports/sites.csv", headers=headers).status_code == 200


def test_the_name_must_be_the_tokens_own(client, auth) -> None:
    secret = auth.token("甲单位", "agency")
    auth.user("乙单位", "agency")
    own = client.get("/ogc/collections", headers={"Authorization": basic("甲单位", secret)})
    assert own.status_code == 200
    for name in ("乙单位", "甲单位 ", "nobody"):
        refused = client.get("/ogc/collections", headers={"Authorization": basic(name, secret)})
        if name == "甲单位 ":  # surrounding spaces of a typed name are forgiven
            assert refused.status_code == 200
            continue
        assert refused.status_code == 401, name
        assert refused.get_json()["field"] == "Authorization"
        assert _challenges(refused)[0] == CHALLENGE


def test_a_password_a_wrong_or_revoked_token_is_401_with_a_basic_challenge(
    client, auth, connection
) -> None:
    secret = auth.token("某单位", "agency")
    wrong = [
        basic("某单位", PASSWORD),  # the login password is never a machine's secret
        basic("某单位", secret[:-2] + "xx"),
        "Basic !!!not-base64",
        "Basic " + "bm9jb2xvbg==",  # "nocolon"
        "Basic",
    ]
    for value in wrong:
        for url in ("/ogc/collections/sites/items", "/api/v1/sites", "/exports/sites.geojson"):
            response = client.get(url, headers={"Authorization": value})
            assert response.status_code == 401, (value, url)
            assert _challenges(response) == [CHALLENGE, 'Bearer realm="gis-app"'], (value, url)
    headers = {"Authorization": basic("某单位", secret)}
    assert client.get("/ogc/collections/sites/items", headers=headers).status_code == 200
    connection.execute(text("UPDATE api_tokens SET revoked_at = now()"))
    revoked = client.get("/ogc/collections/sites/items", headers=headers)
    assert revoked.status_code == 401 and _challenges(revoked)[0] == CHALLENGE
    assert "吊销" in revoked.get_json()["message"]


def test_nobody_is_asked_for_basic_but_the_apps_own_scripts_are_not(client) -> None:
    client.delete_cookie("gis_session")
    asked = client.get("/api/v1/sites")
    assert asked.status_code == 401 and _challenges(asked)[0] == CHALLENGE
    scripted = client.get("/api/v1/sites", headers={"Sec-Fetch-Dest": "empty"})
    assert scripted.status_code == 401
    assert _challenges(scripted) == ['Bearer realm="gis-app"']  # no password dialog


def test_basic_reads_only(client, auth) -> None:
    """Browsers resend Basic credentials with forged cross-site requests: Basic never writes."""
    headers = auth.basic_headers("区办机器", "district_officer")
    assert client.get("/api/v1/sites", headers=headers).status_code == 200
    refused = client.post("/api/v1/sites", json=site_payload(), headers=headers)
    assert refused.status_code == 403 and "Bearer" in refused.get_json()["message"]
    bearer = auth.headers("区办机器", "district_officer")
    assert client.post("/api/v1/sites", json=site_payload(), headers=bearer).status_code == 201
