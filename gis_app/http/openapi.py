"""The OpenAPI 3.1 document of /api/v1, assembled from the routes' declared schemas.

Every route under the prefix whose view carries an `operation(...)` declaration becomes an
operation: its path and path parameters from the URL rule, its query parameters, request
body and answers from the declared pydantic models (their JSON Schema, which is also what
validates the requests), and the refusals any request can meet (401, 403, 503; 400, 413
and 422 with a body; 404 with an id in the path; 422 with parameters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import Rule

from gis_app.http.access import policy_of
from gis_app.http.auth import COOKIE
from gis_app.http.openapi_legacy import legacy_paths
from gis_app.http.schemas import JSON, Operation, Reply, operation_of

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "请求无法解析（不是 JSON 对象、表单无法读取）",
    401: "未登录或令牌无效",
    403: "角色无权访问（或只读账户）",
    404: "不存在",
    409: "冲突（版本过期、编号重复、不允许的状态变更）",
    413: "请求体超过上限（message 写明上限）",
    422: "字段无效（field 指出哪个字段）",
    429: "尝试过多，请稍后再试",
    503: "数据库暂时不可用，请稍后重试（Retry-After）",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "错误类别（英文代码）"},
        "field": {"type": ["string", "null"], "description": "出错的字段或参数"},
        "message": {"type": "string", "description": "给人看的说明（中文）"},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "逐行错误"},
    },
}
#: a path parameter by its URL converter, unless the operation describes it
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "IntegerConverter": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "UnicodeConverter": {"type": "string", "maxLength": 200},
}
_PARAM = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>")


def api_document(app: Flask, server_url: str) -> dict[str, Any]:
    """The whole document for the routes under /api/v1 of `app`."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX):
            continue
        declared = operation_of(app.view_functions.get(rule.endpoint))
        if declared is None:
            continue
        path = _PARAM.sub(r"{\1}", rule.rule[len(PREFIX) :]) or "/"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = _operation(rule, declared, schemas)
            policy = policy_of(app, rule.endpoint)
            if policy is not None and not policy.public:
                op["x-roles"] = policy.describe()
            paths.setdefault(path, {})[method.lower()] = op
    for path, item in legacy_paths(app).items():  # TRANSITIONAL: the hand-written parts left
        for method, op in item.items():
            if method not in paths.get(path, {}):
                paths.setdefault(path, {})[method] = op
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "违建治理一张图 API",
            "version": "1.0.0",
            "description": (
                "违法建设分步治理点位台账。坐标为 WGS84 / CGCS2000 经纬度（EPSG:4326），"
                "GeoJSON 按 RFC 7946 输出。错误统一为 {error, field, message}。"
                "本文档由各接口声明的请求与响应模型生成，与校验请求的是同一份声明。"
            ),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
    describe_security(doc)
    return doc


def _operation(rule: Rule, declared: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": declared.summary, "operationId": declared.operation_id}
    if declared.description:
        op["description"] = declared.description
    if declared.tags:
        op["tags"] = list(declared.tags)
    parameters = [_path_parameter(rule, name, declared) for name in _PARAM.findall(rule.rule)]
    if declared.query is not None:
        parameters.extend(_query_parameters(declared.query, schemas))
    for name, schema in declared.headers.items():
        parameters.append({"name": name, "in": "header", "required": False, **schema})
    if parameters:
        op["parameters"] = parameters
    if declared.body is not None:
        op["requestBody"] = {
            "required": declared.body_required,
            "content": {declared.body_media: {"schema": _schema_ref(declared.body, schemas)}},
        }
    elif declared.form is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": _schema_ref(declared.form, schemas)}},
        }
    op["responses"] = _responses(declared, parameters, schemas)
    return op


def _path_parameter(rule: Rule, name: str, declared: Operation) -> dict[str, Any]:
    given = dict(declared.path.get(name, {}))
    converter = type(rule._converters[name]).__name__
    schema = given.pop("schema", None) or CONVERTER_SCHEMAS.get(converter, {"type": "string"})
    return {"name": name, "in": "path", "required": True, "schema": schema, **given}


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    """One parameter per field of the query model, by its alias (the parameter's name)."""
    doc = model.model_json_schema(by_alias=True, ref_template=REF, mode="validation")
    _hoist(doc, schemas)
    required = set(doc.get("required", []))
    out = []
    for key, schema in doc.get("properties", {}).items():
        schema = dict(schema)
        param: dict[str, Any] = {"name": key, "in": "query", "required": key in required}
        if "description" in schema:
            param["description"] = schema.pop("description")
        schema.pop("title", None)
        if "examples" in schema:
            param["example"] = schema.pop("examples")[0]
        param["schema"] = schema
        out.append(param)
    return out


def _schema_ref(model: type[BaseModel] | Mapping[str, Any], schemas: dict[str, Any]) -> Any:
    """A $ref to the model's schema among the components (or a JSON Schema given as is)."""
    if not isinstance(model, type):
        return dict(model)
    doc = model.model_json_schema(by_alias=True, ref_template=REF, mode="validation")
    _hoist(doc, schemas)
    schemas[model.__name__] = doc
    return {"$ref": REF.format(model=model.__name__)}


def _hoist(doc: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Move a model's nested definitions into the document's components."""
    for name, sub in doc.pop("$defs", {}).items():
        schemas[name] = sub


def _responses(
    declared: Operation, parameters: list[dict[str, Any]], schemas: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for reply in declared.replies:
        out[str(reply.status)] = _reply(reply, schemas)
    statuses = {401, 403, 503, *declared.errors}
    if declared.body is not None or declared.form is not None:
        statuses |= {400, 413, 422}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if any(p["in"] in ("query", "header") for p in parameters):
        statuses.add(422)
    for status in sorted(statuses):
        out.setdefault(
            str(status),
            {
                "description": ERROR_TEXT.get(status, "错误"),
                "content": {JSON: {"schema": {"$ref": REF.format(model="Error")}}},
            },
        )
    return out


def _reply(reply: Reply, schemas: dict[str, Any]) -> dict[str, Any]:
    if reply.schema is None:
        schema = {"schema": {"type": "object"}} if reply.media == JSON else {}
        return {"description": reply.description, "content": {reply.media: schema}}
    return {
        "description": reply.description,
        "content": {reply.media: {"schema": _schema_ref(reply.schema, schemas)}},
    }


def describe_security(doc: dict[str, Any]) -> None:
    """How to authenticate: a bearer token (machines) or the session cookie with the
    X-CSRF-Token header for unsafe methods (browsers)."""
    doc["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "接口令牌（由区级管理员发放：gis-app tokens create 用户名 --name 用途）",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE,
            "description": "登录会话；修改数据的请求须带 X-CSRF-Token 头",
        },
    }
    doc["security"] = [{"bearer": []}, {"session": []}]
