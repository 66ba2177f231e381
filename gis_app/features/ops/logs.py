"""Request ids and structured logs.

Every request gets an id: the caller's `X-Request-ID` when it is a plain token (letters,
digits, `.`, `_`, `:`, `-`; at most 64 characters; nginx sends its `$request_id`), else a new
random one. It is sent back in the answer's `X-Request-ID`, carried by every log line of the
request, and set as the PostgreSQL `application_name` (`gis-app/<id>`) of each transaction of
the request, transaction-local: `pg_stat_activity` and the slow-query log
(`log_line_prefix` with `%a`) then tie a query to its request.

With `GIS_APP_LOG_FORMAT=json` (the default) every log line is one JSON object:
`ts`, `level`, `logger`, `message`, `request_id` (inside a request), the access line's fields
(`method`, `path`, `route`, `status`, `duration_ms`, `remote_addr`, `user`) and `exc` (a
traceback)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import Connection
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

HEADER = "X-Request-ID"
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: PostgreSQL keeps 63 bytes of application_name
APP_NAME_PREFIX = "gis-app/"
access_log = logging.getLogger("gis_app.access")
_HANDLER_MARK = "_gis_app_json"


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def _start_request() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if _TOKEN.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    rid = g.get("request_id")
    if rid:
        response.headers[HEADER] = rid
    started = g.get("request_started")
    if started is not None:
        actor = g.get("actor")
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "route": request.url_rule.rule if request.url_rule else None,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "remote_addr": request.remote_addr,
                    "user": getattr(actor, "name", None),
                }
            },
        )
    return response


def _name_connection(
    _session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    """The transaction's application_name: `gis-app/<request id>` (reverts at its end)."""
    rid = request_id()
    if rid:
        connection.exec_driver_sql(
            "SELECT set_config('application_name', %s, true)", (APP_NAME_PREFIX + rid,)
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            entry["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def install(stream: IO[str] | None = None, level: int = logging.INFO) -> logging.Handler:
    """Log every record of the process as JSON to `stream` (stderr): one handler on the root
    logger, replacing one installed before."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return handler


def init_app(app: Flask) -> None:
    # first of all before_request functions: the id exists before anything logs or queries
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    # last of all after_request functions (they run in reverse): after the commit, so the
    # status and duration are the answer's own
    app.after_request_funcs.setdefault(None, []).insert(0, _finish_request)
    sa_event.listen(app.extensions["gis_db"].factory, "after_begin", _name_connection)
    # the web app only: commands (DB_CONNECT_AS "owner") print for a person at a terminal
    if (
        app.config["LOG_FORMAT"] == "json"
        and app.config["DB_CONNECT_AS"] == "app"
        and not app.testing
    ):
        install()
