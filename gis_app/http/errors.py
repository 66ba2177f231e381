"""Render AppError and HTTP errors: JSON for the API, a Chinese page for browsers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.wrappers import Request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from gis_app.core.errors import AppError, BadRequest, ValidationError
from gis_app.http.database import discard, get_db

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: "请求无法解析",
    404: "页面或资源不存在",
    405: "不支持该请求方法",
    413: "上传的内容过大",
    415: "不支持的内容类型",
    500: "服务器内部错误：已记录，请稍后重试或联系管理员",
    503: "数据库暂时不可用（正在重启或连接中断），本次操作未保存任何内容，请稍后重试",
}
#: seconds a client is asked to wait when the database is unavailable
RETRY_AFTER = 5


class AppRequest(Request):
    """JSON nested deeper than Python's parser goes ("[[[[…") is unreadable input (400), not
    a server error."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            body = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("请求体的 JSON 嵌套层数过深", "body") from None
        refuse_nul(body, "body")
        return body

    def _load_form_data(self) -> None:
        """Form fields with a NUL are refused as the form is read (pages' forms too)."""
        super()._load_form_data()
        for name, value in self.form.items(multi=True):
            refuse_nul(value, name)


def _nul_in(value: Any, name: str) -> str | None:
    """The name of the first field whose text holds a NUL character (PostgreSQL cannot
    store one in text), or None."""
    if isinstance(value, str):
        return name if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_in(key, str(key)) or _nul_in(item, str(key))
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _nul_in(item, name)
            if found:
                return found
    return None


def refuse_nul(value: Any, name: str) -> None:
    field = _nul_in(value, name)
    if field:
        raise ValidationError(f"{field} 含有空字符（NUL，\\x00），无法保存或查询", field)


#: SQLSTATEs of a conflict or a timeout: retry the request, the connection is fine
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})


def _sqlstate(exc: DBAPIError) -> str:
    return getattr(exc.orig, "pgcode", None) or ""


def database_unavailable(exc: BaseException) -> bool:
    """A lost or refused connection, the server shutting down or starting up, out of
    resources (no SQLSTATE, or classes 08, 57 and 53, a conflict or timeout excepted): the
    request may be retried once the server is back; nothing of it was committed."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    code = _sqlstate(exc)
    return (
        isinstance(exc, OperationalError)
        and code not in TRANSIENT_SQLSTATES
        and (code == "" or code[:2] in ("08", "57", "53"))
    )


def transient_database_error(exc: BaseException) -> bool:
    """A deadlock, a serialization failure, a lock or statement timeout: retry the request;
    the connection and the pool are sound."""
    return isinstance(exc, DBAPIError) and _sqlstate(exc) in TRANSIENT_SQLSTATES


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/tiles/")):  # machine clients: JSON errors
        return True
    if request.path == "/ogc" or request.path.startswith("/ogc/"):
        # OGC API clients (GDAL, QGIS) get JSON unless HTML is asked for, as the API answers
        f = (request.args.get("f") or "").strip().lower()
        if f:
            return f != "html"
        best = request.accept_mimetypes.best_match(["application/json", "text/html"])
        return best != "text/html"
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _render(status: int, body: dict) -> Response:
    if wants_json():
        response = jsonify(body)
    else:
        response = Response(
            render_template("error.html", status=status, body=body), mimetype="text/html"
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """One error format for every view: the handlers below, JSON or HTML by the Accept header."""
    app.request_class = AppRequest
    app.before_request(_no_nul_in_the_url)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(AppError, _app_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _no_nul_in_the_url() -> None:
    """A NUL in a query parameter or a path segment would reach SQL (found by fuzzing:
    /extensions?status=%00 was a 500)."""
    for name, value in request.args.items(multi=True):
        refuse_nul(value, name)
    for name, value in (request.view_args or {}).items():
        refuse_nul(value, name)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):  # a page's form fields too
            refuse_nul(value, name)


def _database_error(exc: DBAPIError) -> Response:
    """A conflict (retry) or a database that went away is a 503 with Retry-After; anything
    else a 500."""
    _rollback()
    if transient_database_error(exc):
        log.warning("database conflict on %s %s: %s", request.method, request.path, exc.orig)
        response = _render(
            503, {"error": "database_busy", "field": None, "message": HTTP_MESSAGES[503]}
        )
        response.headers["Retry-After"] = "1"
        return response
    if not database_unavailable(exc):
        log.exception("database error on %s %s", request.method, request.path)
        return _render(500, {"error": "internal", "field": None, "message": HTTP_MESSAGES[500]})
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else exc,
    )
    _invalidate_pool()
    response = _render(
        503, {"error": "database_unavailable", "field": None, "message": HTTP_MESSAGES[503]}
    )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _app_error(exc: AppError) -> Response:
    _rollback()
    return _render(exc.status, exc.to_dict())


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    body = {
        "error": (exc.name or "error").lower().replace(" ", "_"),
        "field": None,
        "message": HTTP_MESSAGES.get(status, exc.description or exc.name),
    }
    if status == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"] or 0
        body["message"] = f"上传的内容过大（上限 {_size(limit)}）"
        body["field"] = "file"
    response = _render(status, body)
    if status == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    _rollback()
    return _render(500, {"error": "internal", "field": None, "message": HTTP_MESSAGES[500]})


def _size(n: int) -> str:
    """A byte count as people say it: 32 MB, 1.5 MB, 512 KB."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    return f"{max(n, 0) / 1024:g} KB"


def _invalidate_pool() -> None:
    """Drop the pooled connections: after a restart they are all dead (pool_pre_ping would
    find each one out at its next checkout; this spares the requests that come meanwhile)."""
    try:
        get_db().engine.dispose(close=False)
    except Exception:
        log.warning("could not reset the connection pool", exc_info=True)


def _rollback() -> None:
    try:
        discard()
    except Exception:  # the database itself may be what failed
        log.warning("rollback after an error failed", exc_info=True)
