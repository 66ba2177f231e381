"""Accounts: logins (hashed passwords, rate limit), server-side sessions that logout really
ends, CSRF, security headers, API tokens, default deny, user management, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Blueprint
from sqlalchemy import func, select, text

from gis_app.core import clock
from gis_app.features.accounts.models import ApiToken, LoginAttempt, User, UserSession
from gis_app.features.accounts.service import sha256
from gis_app.http.access import undeclared_endpoints
from tests.support.accounts import PASSWORD, csrf, csrf_of
from tests.support.live import FROZEN_NOW
from tests.support.sites import site_payload


def _login(client, username: str, password: str, ip: str = "127.0.0.1"):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        environ_base={"REMOTE_ADDR": ip},
    )


def _cookie(client) -> str | None:
    cookie = client.get_cookie("gis_session")
    return cookie.value if cookie else None


def test_login_sets_a_random_cookie_kept_only_as_a_hash(client, auth, connection) -> None:
    auth.user("wang", "district_officer")
    response = _login(client, "wang", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    set_cookie = response.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    value = _cookie(client)
    stored = connection.execute(select(UserSession.id_hash)).scalars().all()
    assert stored == [sha256(value)] and value not in stored
    assert client.get("/").status_code == 200
    stored_hash = connection.execute(select(User.password_hash)).scalar_one()
    assert stored_hash.startswith("$argon2id$") and PASSWORD not in stored_hash


def test_logout_really_ends_the_session(client, auth, connection) -> None:
    auth.login(client, "wang", "district_officer")
    value = _cookie(client)
    token = csrf(client)
    assert client.post("/logout").status_code == 403  # without the CSRF token
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and "bye=1" in out.headers["Location"]
    assert connection.execute(select(func.count()).select_from(UserSession)).scalar() == 0
    client.set_cookie("gis_session", value)  # the old cookie, replayed
    again = client.get("/dashboard")
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")


def test_sessions_expire_absolutely_and_when_idle(client, auth) -> None:
    auth.login(client, "wang", "district_officer")
    clock.freeze("2026-06-15T11:59:00+08:00")  # 1 h 59 idle: still in
    assert client.get("/").status_code == 200
    clock.freeze("2026-06-15T14:00:00+08:00")  # 2 h 01 since the last request: out
    assert client.get("/").status_code == 302
    auth.login(client, "wang", "district_officer")  # at 14:00
    start = clock.now()
    for minutes in range(90, 12 * 60, 90):  # busy all day: never idle for two hours …
        clock.freeze((start + timedelta(minutes=minutes)).isoformat())
        assert client.get("/").status_code == 200, minutes
    clock.freeze((start + timedelta(hours=12, seconds=1)).isoformat())  # … out after 12 h
    assert client.get("/").status_code == 302
    clock.freeze(FROZEN_NOW)


@pytest.mark.slow
def test_wrong_passwords_then_the_rate_limit(client, auth, connection) -> None:
    auth.user("wang", "district_officer")
    for _ in range(5):
        wrong = _login(client, "wang", "not-the-password")
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    blocked = _login(client, "wang", PASSWORD)  # the right password, too late
    assert blocked.status_code == 429 and "分钟后再试" in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0
    assert _cookie(client) is None
    # the limit is in PostgreSQL, shared by every worker: the attempts are rows
    failures = connection.execute(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False))
    ).scalar()
    assert failures == 6
    clock.freeze("2026-06-15T10:16:00+08:00")  # the window has passed
    assert _login(client, "wang", PASSWORD).status_code == 302
    clock.freeze(FROZEN_NOW)


@pytest.mark.slow
def test_the_rate_limit_per_address_spans_usernames(client, auth) -> None:
    for i in range(20):
        assert _login(client, f"nobody{i}", "x" * 12, ip="10.9.9.9").status_code == 401
    auth.user("wang", "district_officer")
    assert _login(client, "wang", PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(client, "wang", PASSWORD, ip="10.9.9.8").status_code == 302


def test_login_needs_its_csrf_cookie(client, auth) -> None:
    auth.user("wang", "district_officer")
    forged = client.post("/login", data={"username": "wang", "password": PASSWORD})
    assert forged.status_code == 403 and _cookie(client) is None


def test_forms_and_cookie_api_calls_need_the_csrf_token(client, auth, db_session) -> None:
    from tests.support.workflow import make_site

    site = make_site(db_session)
    auth.login(client, "wang", "district_officer")
    url = f"/sites/{site.id}/transition"
    assert client.post(url, data={"to": "in_progress"}).status_code == 403
    bad = client.post(url, data={"to": "in_progress", "csrf_token": "forged"})
    assert bad.status_code == 403 and "CSRF" in bad.text
    assert client.post("/api/v1/sites", json=site_payload(code="C-1")).status_code == 403
    token = csrf(client)
    ok = client.post(
        "/api/v1/sites", json=site_payload(code="C-1"), headers={"X-CSRF-Token": token}
    )
    assert ok.status_code == 201
    moved = client.post(url, data={"to": "in_progress", "csrf_token": token})
    assert moved.status_code == 302


def test_security_headers(app, client, auth, monkeypatch) -> None:
    page = client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp and "'unsafe-inline'" not in csp.split(";")[1]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers
    monkeypatch.setitem(app.config, "HSTS", True)
    assert "max-age=" in client.get("/login").headers["Strict-Transport-Security"]
    auth.login(client, "wang", "district_officer")
    assert client.get("/").headers["Cache-Control"] == "private, no-store"


def test_api_tokens(client, auth, connection) -> None:
    headers = auth.headers("机器", "district_officer")
    assert client.get("/api/v1/sites", headers=headers).status_code == 200
    assert client.get("/api/v1/sites", headers={"Authorization": "Basic eDp5"}).status_code == 401
    unknown = client.get("/api/v1/sites", headers={"Authorization": "Bearer gis_nope"})
    assert unknown.status_code == 401 and unknown.get_json()["error"] == "unauthorized"
    assert 'Bearer realm="gis-app"' in unknown.headers.getlist("WWW-Authenticate")
    connection.execute(text("UPDATE api_tokens SET revoked_at = now()"))
    assert client.get("/api/v1/sites", headers=headers).status_code == 401
    headers = auth.headers("机器二", "district_officer")
    connection.execute(text("UPDATE api_tokens SET expires_at = '2026-06-14T00:00:00Z'"))
    assert client.get("/api/v1/sites", headers=headers).status_code == 401
    headers = auth.headers("机器三", "district_officer")
    connection.execute(text("UPDATE users SET active = false WHERE username = '机器三'"))
    assert client.get("/api/v1/sites", headers=headers).status_code == 401
    # a token never needs CSRF, and an agency's is read-only whatever it calls
    agency = auth.headers("某单位", "agency")
    assert client.get("/api/v1/sites", headers=agency).status_code == 200
    refused = client.post("/api/v1/sites", json=site_payload(), headers=agency)
    assert refused.status_code == 403


def test_every_endpoint_declares_who_may_call_it(app) -> None:
    assert undeclared_endpoints(app) == []


def test_an_undeclared_endpoint_is_refused_to_everyone(database_url, connection, auth) -> None:
    """What a blueprint merged later without policies gets: closed, and listed."""
    from gis_app import create_app

    late = Blueprint("late", __name__)

    @late.get("/late")
    def late_view() -> str:
        return "secret"

    from gis_app.core.db_security import app_role

    other = create_app(
        {
            "DATABASE_URL": database_url,
            "APP_DATABASE_URL": database_url,
            "DB_SET_ROLE": app_role(),
            "TESTING": True,
        }
    )
    other.register_blueprint(late)
    assert undeclared_endpoints(other) == ["late.late_view"]
    db = other.extensions["gis_db"]
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    response = other.test_client().get("/late", headers=auth.headers("admin1", "district_admin"))
    assert response.status_code == 403 and "secret" not in response.text
    db.engine.dispose()


@pytest.mark.slow
def test_password_change_ends_every_session(client, auth, connection) -> None:
    auth.login(client, "wang", "district_officer")
    other_device = client.application.test_client()
    auth.login(other_device, "wang", "district_officer")
    token = csrf(client)
    wrong = client.post(
        "/account/password",
        data={"current_password": "nope", "new_password": "a new one 2026",
              "new_password2": "a new one 2026", "csrf_token": token},
    )  # fmt: skip
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    done = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "a new one 2026",
              "new_password2": "a new one 2026", "csrf_token": token},
    )  # fmt: skip
    assert done.status_code == 302 and "changed=1" in done.headers["Location"]
    assert connection.execute(select(func.count()).select_from(UserSession)).scalar() == 0
    assert other_device.get("/").status_code == 302
    assert _login(client, "wang", "a new one 2026").status_code == 302


@pytest.mark.slow
def test_admin_manages_users_and_tokens(client, auth, connection) -> None:
    auth.login(client, "admin1", "district_admin")
    token = csrf(client)
    weak = client.post(
        "/admin/users",
        data={"username": "li", "display_name": "李", "role": "street_officer",
              "street_code": "120102002", "password": "short", "csrf_token": token},
    )  # fmt: skip
    assert weak.status_code == 422 and "密码至少" in weak.text
    no_street = client.post(
        "/admin/users",
        data={"username": "li", "display_name": "李", "role": "street_officer",
              "password": "long enough pw 1", "csrf_token": token},
    )  # fmt: skip
    assert no_street.status_code == 422 and "所属街道" in no_street.text
    made = client.post(
        "/admin/users",
        data={"username": "li", "display_name": "李", "role": "street_officer",
              "street_code": "120102002", "password": "long enough pw 1", "csrf_token": token},
    )  # fmt: skip
    assert made.status_code == 302
    issued = client.post("/admin/users/li/tokens", data={"name": "手机", "csrf_token": token})
    secret = issued.text.split("<code>")[1].split("</code>")[0]
    assert secret.startswith("gis_")
    assert connection.execute(select(ApiToken.token_hash)).scalar() == sha256(secret)
    mine = client.get("/api/v1/sites", headers={"Authorization": f"Bearer {secret}"})
    assert mine.status_code == 200
    phone = client.application.test_client()
    assert _login(phone, "li", "long enough pw 1").status_code == 302
    off = client.post(
        "/admin/users/li",
        data={
            "display_name": "李",
            "role": "street_officer",
            "street_code": "120102002",
            "csrf_token": token,
        },
    )  # fmt: skip  (no `active`: deactivated)
    assert off.status_code == 302
    assert phone.get("/").status_code == 302  # the session ended at once
    assert (
        client.get("/api/v1/sites", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    self_off = client.post(
        "/admin/users/admin1",
        data={"display_name": "a", "role": "district_admin", "csrf_token": token},
    )
    assert self_off.status_code == 409
    auth.login(client, "wang", "district_officer")
    assert client.get("/admin/users").status_code == 403


def test_cli_creates_the_first_administrator(app_ctx, connection) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    weak = runner.invoke(
        cli, ["create-user", "root1", "--role", "district_admin", "--password-stdin"],
        input="short\n", obj={"app": app_ctx},
    )  # fmt: skip
    assert weak.exit_code == 1 and "密码至少" in weak.output
    ok = runner.invoke(
        cli, ["create-user", "root1", "--role", "district_admin", "--name", "管理员",
              "--password-stdin"],
        input="a long admin password\n", obj={"app": app_ctx},
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    role, by = connection.execute(
        select(User.role, User.created_by).where(User.username == "root1")
    ).one()
    assert role == "district_admin" and by.startswith("cli:")
    issued = runner.invoke(
        cli, ["tokens", "create", "root1", "--name", "test"], obj={"app": app_ctx}
    )
    assert issued.exit_code == 0 and issued.stdout.strip().startswith("gis_")
    listed = runner.invoke(cli, ["users", "list"], obj={"app": app_ctx})
    assert "root1\tdistrict_admin" in listed.output
    off = runner.invoke(cli, ["users", "deactivate", "root1"], obj={"app": app_ctx})
    assert off.exit_code == 0
    assert not connection.execute(select(User.active).where(User.username == "root1")).scalar()


@pytest.mark.slow
def test_demo_accounts_cover_every_role_and_street(app_ctx, connection, tmp_path) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    target = tmp_path / "demo.txt"
    first = runner.invoke(cli, ["demo-accounts", "--file", str(target)], obj={"app": app_ctx})
    assert first.exit_code == 0, first.output
    roles = dict(connection.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles["street_officer"] == 12 and roles["inspector"] == 12
    assert all(roles.get(r) == 1 for r in ("district_admin", "bureau_media", "agency"))
    pool = connection.execute(
        text(
            "SELECT u.street_code, i.street_code FROM inspectors i JOIN users u ON u.id = i.user_id"
        )
    ).all()
    assert len(pool) == 12 and all(a == b for a, b in pool)  # the demo inspectors, linked
    text_ = target.read_text()
    assert "officer.dazhigu" in text_ and "API token: gis_" in text_
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    again = runner.invoke(cli, ["demo-accounts", "--file", str(target)], obj={"app": app_ctx})
    assert again.exit_code == 0 and target.read_text() == text_  # nothing new


def test_a_login_is_recorded_with_its_address(client, auth, connection) -> None:
    auth.user("wang", "district_officer")
    _login(client, "wang", PASSWORD, ip="10.1.2.3")
    row = connection.execute(select(LoginAttempt.ip, LoginAttempt.success)).one()
    assert tuple(row) == ("10.1.2.3", True)
    last = connection.execute(select(User.last_login_at)).scalar()
    assert abs(last - clock.now()) <= timedelta(seconds=1)


@pytest.mark.slow
def test_the_limit_holds_for_parallel_workers(scratch_db) -> None:
    """Twelve wrong guesses at once, each from its own connection (as gunicorn workers would
    send them): the advisory locks serialise the check, so exactly five are weighed and the
    rest are refused unseen."""
    import threading
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from gis_app.core.errors import TooManyAttempts, Unauthorized
    from gis_app.features.accounts import service as accounts

    _url, engine = scratch_db
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM login_attempts WHERE username = 'target'"))
        now = datetime.now(UTC)
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, role, password_hash, created_at,"
                " created_by, updated_at) VALUES ('target', 't', 'district_officer', :h, :n,"
                " 'test', :n) ON CONFLICT (username) DO NOTHING"
            ),
            {"h": accounts.hash_password(PASSWORD), "n": now},
        )
    outcomes: list[int] = []
    barrier = threading.Barrier(12)

    def guess(i: int) -> None:
        with Session(engine) as session, session.begin():
            barrier.wait()
            try:
                accounts.login(session, "target", f"wrong guess {i}", f"10.0.0.{i}")
            except (Unauthorized, TooManyAttempts) as exc:
                outcomes.append(exc.status)

    clock.freeze(None)  # real time: the attempts are compared with each other
    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clock.freeze(FROZEN_NOW)
    assert sorted(outcomes) == [401] * 5 + [429] * 7
