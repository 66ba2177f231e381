"""TRANSITIONAL: the hand-written OpenAPI parts of the features not yet declared with
`gis_app.http.schemas.operation`. `gis_app.http.openapi.api_document` adds their paths where
no declared operation gives them. Goes when the last feature is declared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from gis_app.core import codes


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR_TEXT = {
    400: "请求无法解析（不是 JSON 对象、表单无法读取）",
    404: "不存在",
    409: "冲突（版本过期、编号重复）",
    413: "请求体超过上限（message 写明上限）",
    422: "字段无效（field 指出哪个字段）",
    503: "数据库暂时不可用，请稍后重试（Retry-After）",
}


def _error_responses(*statuses: int) -> dict[str, Any]:
    text = ERROR_TEXT
    return {
        str(s): {"description": text[s], "content": {"application/json": {"schema": _ref("Error")}}}
        for s in statuses
    }


def operation(summary: str, op_id: str, **extra: Any) -> dict[str, Any]:
    """An operation of a feature's part of the document: 200 unless `responses` says
    otherwise, and the refusals every feature endpoint can give (403, 404, 422)."""
    responses = extra.pop("responses", {"200": {"description": "OK"}})
    for code, text in (("403", "无权限"), ("404", "不存在"), ("422", "字段无效")):
        responses.setdefault(code, {"description": text})
    return {"summary": summary, "operationId": op_id, "responses": responses, **extra}


def _enum(mapping: dict[str, str] | Any, description: str) -> dict[str, Any]:
    labels = "; ".join(f"{k} = {v}" for k, v in mapping.items())
    return {"type": "string", "enum": list(mapping), "description": f"{description}: {labels}"}


FILTER_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "street",
        "in": "query",
        "description": "街道代码（9 或 12 位），逗号分隔可多选",
        "schema": {"type": "string", "pattern": r"^[0-9]{9}([0-9]{3})?(,[0-9]{9}([0-9]{3})?)*$"},
    },
    {
        "name": "status",
        "in": "query",
        "description": "状态，逗号分隔可多选",
        "schema": {"type": "string"},
        "example": "in_progress,awaiting_acceptance",
    },
    {"name": "disposition", "in": "query", "schema": _enum(codes.DISPOSITIONS, "治理方式")},
    {"name": "kind", "in": "query", "schema": _enum(codes.KINDS, "违建类型")},
    {"name": "source", "in": "query", "schema": _enum(codes.SOURCES, "来源")},
    {
        "name": "flag",
        "in": "query",
        "description": "标记（全部满足），逗号分隔",
        "schema": _enum(codes.FLAGS, "标记"),
    },
    {
        "name": "overdue",
        "in": "query",
        "schema": {"type": "boolean"},
        "description": "逾期：当前期限已过且未销账",
    },
    {
        "name": "bbox",
        "in": "query",
        "description": "最小经度,最小纬度,最大经度,最大纬度",
        "schema": {"type": "string"},
        "example": "117.2,39.1,117.25,39.13",
    },
    {
        "name": "near",
        "in": "query",
        "description": "经度,纬度,半径（米，最多 10000）：该点周围半径内的点位（椭球面距离）",
        "schema": {"type": "string"},
        "example": "117.2381,39.11,500",
    },
    {
        "name": "district",
        "in": "query",
        "description": "区代码（6 位），逗号分隔可多选：全市一库时只看某区",
        "schema": {"type": "string"},
        "example": "120102",
    },
    {
        "name": "q",
        "in": "query",
        "description": "编号或地址中的文字",
        "schema": {"type": "string", "maxLength": 100},
    },
    {"name": "community", "in": "query", "schema": {"type": "string", "maxLength": 64}},
    {"name": "deadline_from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "deadline_to", "in": "query", "schema": {"type": "string", "format": "date"}},
]


def complete_error_responses(doc: dict[str, Any]) -> None:
    """The errors any operation can answer, declared on every operation (found by fuzzing):
    a request body may be unreadable (400) or too large (413); an id in the path may name
    nothing (404); a parameter may be invalid (422); the database may be down (503)."""
    for item in doc["paths"].values():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            statuses = [503]
            params = op.get("parameters", []) + item.get("parameters", [])
            if op.get("requestBody"):
                statuses += [400, 413, 422]
            if any(p.get("in") == "path" for p in params):
                statuses.append(404)
            if params:
                statuses.append(422)
            for status, response in _error_responses(*statuses).items():
                op["responses"].setdefault(status, response)


def add_paths(app: Flask, paths: Callable[[], dict[str, Any]]) -> None:
    """A feature not yet declared hands its hand-written paths to the document (in its
    `register(app)`): http imports no feature."""
    app.extensions.setdefault("openapi_legacy_paths", []).append(paths)


def legacy_paths(app: Flask) -> dict[str, Any]:
    """Paths that feature areas still describe by hand in their own modules."""
    found: dict[str, Any] = {}
    for paths in app.extensions.get("openapi_legacy_paths", []):
        found.update(paths())
    doc: dict[str, Any] = {"paths": found}
    complete_error_responses(doc)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in doc["paths"].values():
        for op in item.values():
            op["responses"].setdefault("401", {"description": "未登录或令牌无效", "content": error})
            op["responses"].setdefault("403", {"description": "角色无权访问", "content": error})
    return doc["paths"]
