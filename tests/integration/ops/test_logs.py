"""The request id: taken from X-Request-ID (or made), sent back, on every JSON log line of the
request, and the application_name of the request's database transactions."""

from __future__ import annotations

import io
import json
import logging

from flask import g
from sqlalchemy import text

from gis_app.features.ops import logs
from gis_app.http.database import session


def _capture_db_names(app) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    @app.after_request
    def look(response):
        if g.get("request_id"):
            row = (
                session()
                .execute(
                    text(
                        "SELECT current_setting('application_name'), application_name "
                        "FROM pg_stat_activity WHERE pid = pg_backend_pid()"
                    )
                )
                .one()
            )
            seen.append(tuple(row))
        return response

    return seen


def test_the_request_id_names_the_database_connection(make_app):
    app = make_app()
    seen = _capture_db_names(app)
    client = app.test_client()
    r = client.get("/login", headers={"X-Request-ID": "lb-4f2a.9"})
    assert r.headers["X-Request-ID"] == "lb-4f2a.9"
    assert seen[-1] == ("gis-app/lb-4f2a.9", "gis-app/lb-4f2a.9")
    # a made-up id when none (or a hostile one) is given; the next request has its own
    r2 = client.get("/login", headers={"X-Request-ID": "bad id; DROP TABLE"})
    rid = r2.headers["X-Request-ID"]
    assert rid != "bad id; DROP TABLE" and len(rid) == 32
    assert seen[-1] == (f"gis-app/{rid}", f"gis-app/{rid}")
    # after the request the pooled connection carries the plain name again
    with app.extensions["gis_db"].engine.connect() as conn:
        assert conn.execute(text("SELECT current_setting('application_name')")).scalar() in (
            "gis-app",
        )


def test_log_lines_are_json_with_the_request_id(make_app):
    app = make_app()
    stream = io.StringIO()
    handler = logs.install(stream)
    try:
        r = app.test_client().get("/healthz", headers={"X-Request-ID": "req-42"})
        assert r.status_code == 200
        with app.test_request_context("/x", headers={"X-Request-ID": "req-43"}):
            g.request_id = "req-43"
            logging.getLogger("gis_app.test").warning("出了点事 %s", 1)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [e for e in lines if e["logger"] == "gis_app.access"]
    assert access, lines
    assert access[-1]["request_id"] == "req-42"
    assert access[-1]["route"] == "/healthz" and access[-1]["status"] == 200
    assert access[-1]["method"] == "GET" and access[-1]["duration_ms"] >= 0
    warning = [e for e in lines if e["logger"] == "gis_app.test"][-1]
    assert warning == {
        "ts": warning["ts"],
        "level": "WARNING",
        "logger": "gis_app.test",
        "message": "出了点事 1",
        "request_id": "req-43",
    }
