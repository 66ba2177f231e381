"""Helpers of the tests that need someone logged in: users and tokens made in the test's
rolled-back transaction, and a login through the real form (with its CSRF token).

Usable outside pytest too (a schemathesis or load-test harness): `Accounts(connection)`
on an owner connection, then `headers(...)` for a bearer token.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, select

from gis_app.features.accounts.models import ApiToken, User
from gis_app.features.accounts.service import TOKEN_PREFIX, hash_password, sha256

PASSWORD = "测试口令-correct-horse"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # once per run: Argon2id is slow on purpose


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


class Accounts:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def user(
        self, username: str, role: str, street: str | None = None, display_name: str = ""
    ) -> int:
        """The id of `username`, created with PASSWORD if it does not exist."""
        found = self.connection.execute(select(User.id).where(User.username == username)).scalar()
        if found is not None:
            return found
        now = datetime.now(UTC)
        return self.connection.execute(
            User.__table__.insert()
            .values(
                username=username,
                display_name=display_name or username,
                role=role,
                street_code=street,
                password_hash=_password_hash(),
                active=True,
                created_at=now,
                created_by="test",
                updated_at=now,
            )
            .returning(User.id)
        ).scalar_one()

    def token(self, username: str, role: str, street: str | None = None) -> str:
        user_id = self.user(username, role, street)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.connection.execute(
            ApiToken.__table__.insert().values(
                user_id=user_id,
                name="test",
                token_hash=sha256(secret),
                prefix=secret[:10],
                created_at=datetime.now(UTC),
                created_by="test",
            )
        )
        return secret

    def headers(self, username: str, role: str, street: str | None = None) -> dict[str, str]:
        """`Authorization: Bearer …` for a (new) user of that role."""
        return {"Authorization": f"Bearer {self.token(username, role, street)}"}

    def basic_headers(self, username: str, role: str, street: str | None = None) -> dict[str, str]:
        """`Authorization: Basic …`: the account's name and a (new) API token as password."""
        return {"Authorization": basic(username, self.token(username, role, street))}

    def login(self, client: Any, username: str, role: str, street: str | None = None) -> Any:
        """Log `client` in through the login form (the user is made if needed)."""
        self.user(username, role, street)
        client.delete_cookie("gis_session")  # whoever was logged in before: a fresh login
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 302, response.text[:500]
        return client


def basic(username: str, secret: str) -> str:
    """An `Authorization` header value for HTTP Basic (UTF-8 name and password)."""
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def csrf(client: Any, url: str = "/account/password") -> str:
    """The logged-in session's CSRF token, read from a page that has a form."""
    return csrf_of(client.get(url).text)
