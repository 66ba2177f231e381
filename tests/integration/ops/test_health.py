"""/healthz and /readyz: a load balancer's view of the app. Ready only when the database
answers as the app's role, its schema is at the code's head and the photo store is writable;
503 naming what is wrong, and ready again once it is fixed."""

from __future__ import annotations

from sqlalchemy import Engine, text

from gis_app.core.localdb import free_port
from gis_app.settings import app_database_url
from tests.support.tcp_proxy import proxy_to


def test_healthz_needs_nothing_but_the_process(make_app):
    app = make_app(APP_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    r = app.test_client().get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "alive"}
    assert r.headers["Cache-Control"] == "no-store"


def test_ready_when_everything_is_in_order(make_app):
    r = make_app().test_client().get("/readyz")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "ready"
    assert set(r.json["checks"]) == {"database", "migrations", "photos"}
    assert all(c["ok"] for c in r.json["checks"].values())
    assert r.json["reasons"] == []


def test_not_ready_with_a_wrong_database_url(make_app, database_url):
    wrong = app_database_url(database_url).rsplit(":", 1)[0] + f":{free_port(48000)}/gis_app"
    r = make_app(APP_DATABASE_URL=wrong).test_client().get("/readyz")
    assert r.status_code == 503
    assert r.json["status"] == "not ready"
    assert not r.json["checks"]["database"]["ok"]
    assert "数据库连不上" in r.json["checks"]["database"]["reason"]
    assert any(reason.startswith("database:") for reason in r.json["reasons"])
    assert r.json["checks"]["photos"]["ok"]


def test_not_ready_while_the_database_is_away_and_ready_again_after(make_app, database_url):
    with proxy_to(app_database_url(database_url)) as (proxy, url):
        app = make_app(APP_DATABASE_URL=url)
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        proxy.stop()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert not down.json["checks"]["database"]["ok"]
        assert not down.json["checks"]["migrations"]["ok"]
        assert client.get("/healthz").status_code == 200  # alive: no restart needed
        proxy.start()
        again = client.get("/readyz")
        assert again.status_code == 200, again.json


def test_not_ready_when_the_schema_is_behind(make_app, engine: Engine):
    with engine.connect() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    client = make_app().test_client()
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0014_audit_chain_lookup'"))
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json["checks"]["database"]["ok"]
        reason = r.json["checks"]["migrations"]["reason"]
        assert "0014_audit_chain_lookup" in reason and "gis-app db upgrade" in reason
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert client.get("/readyz").status_code == 200


def test_not_ready_when_the_photo_store_is_not_writable(make_app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = make_app(PHOTO_DIR=str(blocker / "photos")).test_client().get("/readyz")
    assert r.status_code == 503
    assert not r.json["checks"]["photos"]["ok"]
    assert "照片目录" in r.json["checks"]["photos"]["reason"]
    assert r.json["checks"]["database"]["ok"]


def test_probes_need_no_login_and_ignore_a_bearer_token(make_app):
    client = make_app().test_client()
    r = client.get("/readyz", headers={"Authorization": "Bearer not-an-api-token"})
    assert r.status_code == 200


def test_the_office_sees_the_checks_and_that_there_is_no_replica(client, auth):
    office = auth.headers("运行.区级", "district_officer")
    page = client.get("/ops/status", headers=office)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-check="database"' in text and "未配置只读副本" in text
    street = auth.headers("运行.街道", "street_officer", "120102002")
    assert client.get("/ops/status", headers=street).status_code == 403
