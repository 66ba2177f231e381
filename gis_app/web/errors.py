"""Render AppError and HTTP errors: JSON for the API, a Chinese page for browsers."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from gis_app.db import get_db
from gis_app.errors import AppError

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: "请求无法解析",
    404: "页面或资源不存在",
    405: "不支持该请求方法",
    413: "上传的内容过大",
    415: "不支持的内容类型",
    500: "服务器内部错误：已记录，请稍后重试或联系管理员",
}


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
    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Response:
        _rollback()
        return _render(exc.status, exc.to_dict())

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        body = {
            "error": (exc.name or "error").lower().replace(" ", "_"),
            "field": None,
            "message": HTTP_MESSAGES.get(status, exc.description or exc.name),
        }
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            body["message"] = f"上传的内容过大（上限 {limit // (1024 * 1024)} MB）"
            body["field"] = "file"
        response = _render(status, body)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        return _render(500, {"error": "internal", "field": None, "message": HTTP_MESSAGES[500]})


def _rollback() -> None:
    try:
        get_db().session().rollback()
    except Exception:  # the database itself may be what failed
        log.warning("rollback after an error failed", exc_info=True)
