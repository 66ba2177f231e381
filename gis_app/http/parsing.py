"""Reading a request's body and query arguments, with refusals that name the field."""

from __future__ import annotations

from typing import Any

from flask import request

from gis_app.core.errors import BadRequest

#: no count, page or offset is larger; bigger numbers would overflow PostgreSQL's LIMIT/OFFSET
INT_ARG_CEILING = 2**31 - 1


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says why not (`optional`: an empty
    body is an empty object)."""
    if not request.data:
        if optional:
            return {}
        raise BadRequest("请求体为空：需要 JSON 对象", "body")
    if not request.is_json:
        raise BadRequest("请求体必须是 JSON（Content-Type: application/json）", "body")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("请求体不是有效的 JSON", "body")
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象", "body")
    return body
