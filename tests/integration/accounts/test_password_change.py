"""Changing and resetting a password (issue 16, point 6): wrong current passwords count like
failed logins, the new password may not be the old one, a reset revokes the account's API
tokens, and the form says what happens to them on a change."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from gis_app.features.accounts.models import ApiToken, User
from tests.support.accounts import PASSWORD, csrf

pytestmark = pytest.mark.slow
NEW = "a brand new one 2026"


def _change(client, current: str, new: str = NEW):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "new_password2": new,
              "csrf_token": csrf(client)},
    )  # fmt: skip


def _hash(connection, username: str) -> str:
    return connection.execute(
        select(User.password_hash).where(User.username == username)
    ).scalar_one()


def test_wrong_current_passwords_are_throttled_like_logins(client, auth, connection, app) -> None:
    auth.login(client, "pc.wang", "district_officer")
    # the test clock stands still: the login's success lies a minute back, so the failures
    # after it are counted (they are, since the last success)
    connection.execute(
        text("UPDATE login_attempts SET at = at - interval '1 minute' WHERE username = 'pc.wang'")
    )
    before = _hash(connection, "pc.wang")
    limit = int(app.config["LOGIN_MAX_FAILURES_USER"])
    for _ in range(limit):
        wrong = _change(client, "not my password")
        assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    refused = _change(client, PASSWORD)  # the right one, past the limit
    assert refused.status_code == 429, refused.text
    assert "次数过多" in refused.text
    assert _hash(connection, "pc.wang") == before


def test_the_new_password_may_not_be_the_old_one(client, auth, connection) -> None:
    auth.login(client, "pc.li", "district_officer")
    same = _change(client, PASSWORD, PASSWORD)
    assert same.status_code == 422 and "不能与当前密码相同" in same.text
    assert 'data-field="new_password"' in same.text


def test_a_change_keeps_tokens_and_says_so_a_reset_revokes_them(client, auth, connection) -> None:
    secret = auth.token("pc.agency", "street_officer", "120102002")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/sites", headers=bearer).status_code == 200
    # the user's own change: the form says tokens stay, and they do
    auth.login(client, "pc.agency", "street_officer", "120102002")
    form = client.get("/account/password")
    assert 'data-tokens="kept"' in form.text and "不会" in form.text
    assert _change(client, PASSWORD).status_code == 302
    assert client.get("/api/v1/sites", headers=bearer).status_code == 200
    # an administrator's reset: every token of the account is revoked
    auth.login(client, "pc.admin", "district_admin")
    reset = client.post(
        "/admin/users/pc.agency/password",
        data={"password": "reset by admin 2026", "csrf_token": csrf(client)},
    )
    assert reset.status_code == 302, reset.text
    assert client.get("/api/v1/sites", headers=bearer).status_code == 401
    revoked = connection.execute(
        select(ApiToken.revoked_at).join(User, User.id == ApiToken.user_id)
        .where(User.username == "pc.agency")
    ).scalars().all()  # fmt: skip
    assert revoked and all(r is not None for r in revoked)
