"""A request's session or token look-up and its own work share one transaction when the
look-up wrote nothing (a map tile is a few milliseconds of work: a second check-out, BEGIN
and COMMIT were a third of it); a look-up that wrote (the touch of an idle session or an
unused token) is committed even when the request then fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select, text

from gis_app.core import clock
from gis_app.features.accounts.models import ApiToken, UserSession
from gis_app.http.auth import authenticate
from gis_app.http.database import session
from tests.support.live import FROZEN_NOW


@contextmanager
def transactions(app) -> Iterator[list[str]]:
    """The scope (`app.role`) each transaction the app's sessions begin starts in."""
    begun: list[str] = []

    def count(session, _transaction, _connection) -> None:
        begun.append(session.info["db_scope"].role)

    factory = app.extensions["gis_db"].factory
    event.listen(factory, "after_begin", count)
    try:
        yield begun
    finally:
        event.remove(factory, "after_begin", count)


def _token_used(connection):
    return connection.execute(select(ApiToken.last_used_at)).scalar_one()


def test_a_token_request_that_wrote_nothing_is_one_transaction(app, client, auth) -> None:
    headers = auth.headers("机器", "district_officer")
    assert client.get("/api/v1/sites", headers=headers).status_code == 200  # touches the token
    with transactions(app) as begun:
        assert client.get("/api/v1/sites", headers=headers).status_code == 200
        assert client.get("/tiles/sites/15/27096/12506.mvt", headers=headers).status_code == 204
    # each begun in the auth scope, then the actor's in the same transaction
    assert begun == ["auth", "auth"]


def test_the_token_touch_is_kept_when_the_request_fails(app, client, auth, connection) -> None:
    headers = auth.headers("机器", "district_officer")
    assert client.get("/api/v1/sites/999999", headers=headers).status_code == 404
    first = _token_used(connection)
    assert first is not None  # committed, though the answer rolled the request back
    clock.freeze((clock.now() + timedelta(minutes=6)).isoformat())
    try:
        with transactions(app) as begun:
            bad = client.get("/api/v1/sites?status=nonsense", headers=headers)
            missing = client.get("/api/v1/sites/999999", headers=headers)
    finally:
        clock.freeze(FROZEN_NOW)
    assert (bad.status_code, missing.status_code) == (422, 404)
    assert _token_used(connection) > first
    # the touch committed, the refusal ended; the look-up of the 404 wrote nothing: one
    assert begun == ["auth", "auth"]


def test_a_session_request_is_one_transaction_and_its_touch_is_kept(
    app, client, auth, connection
) -> None:
    auth.login(client, "wang", "district_officer")
    assert client.get("/api/v1/sites").status_code == 200
    with transactions(app) as begun:
        assert client.get("/api/v1/sites").status_code == 200
    assert begun == ["auth"]
    seen = connection.execute(select(UserSession.last_seen_at)).scalar_one()
    clock.freeze((clock.now() + timedelta(minutes=2)).isoformat())
    try:
        with transactions(app) as begun:
            assert client.get("/api/v1/sites/999999").status_code == 404
    finally:
        clock.freeze(FROZEN_NOW)
    assert connection.execute(select(UserSession.last_seen_at)).scalar_one() > seen
    assert begun[:2] == ["auth", "district_officer"]


def test_the_request_acts_in_the_actors_scope_after_the_look_up(app, client, auth) -> None:
    """The transaction that looked up the token goes on as the actor: the account tables the
    auth scope may read are out of its sight again (row-level security)."""
    street = auth.headers("街道甲", "street_officer", "120102001")
    assert client.get("/api/v1/sites", headers=street).status_code == 200  # the token's touch
    with app.test_request_context("/api/v1/sites", headers=street):
        assert authenticate() is None
        db = session()
        assert db.in_transaction()
        role, n = db.execute(
            text("SELECT current_setting('app.role'), (SELECT count(*) FROM api_tokens)")
        ).one()
    assert (role, n) == ("street_officer", 0)
