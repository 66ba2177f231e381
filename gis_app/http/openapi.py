"""The OpenAPI 3.1 document of /api/v1, assembled from the routes' declared schemas.

Every route under the prefix whose view carries an `operation(...)` declaration becomes an
operation: its path and path parameters from the URL rule, its query parameters, request
body and answers from the declared pydantic models (their JSON Schema, which is also what
validates the requests), and the refusals any request can meet (401, 403, 503; 400, 413
and 422 with a body; 404 with an id in the path; 422 with parameters).

The same assembly builds other documents from the routes under another prefix
(`declared_paths` with the refusals of that API, e.g. OGC API – Features at /ogc: 400 for an
invalid parameter), and `openapi_30` rewrites a document for clients that read OpenAPI 3.0.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import Rule

from gis_app.http.access import policy_of
from gis_app.http.auth import COOKIE
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
#: the key of `explicit` in a path parameter's description
EXPLICIT = "explicit"
#: keys of a query model's field schema that belong to the parameter, not to its schema
PARAMETER_KEYS = ("style", "explode")


@dataclass(frozen=True)
class Refusals:
    """The errors a document declares: the component schema of an error body, what each
    status means, the statuses any request can meet, and the status an invalid parameter
    gets (the app's 422; OGC API – Features asks for 400)."""

    schema_name: str = "Error"
    texts: Mapping[int, str] = field(default_factory=lambda: ERROR_TEXT)
    always: tuple[int, ...] = (401, 403, 503)
    invalid: int = 422


API_REFUSALS = Refusals()


def explicit(values: Mapping[str, type[BaseModel] | None]) -> dict[str, Any]:
    """A path parameter documented as one path per value, each with the query model given
    for it (None: the operation's own). OGC API – Features lists each collection's paths so:
    a client (GDAL) reads a collection's queryables from its own items path."""
    return {EXPLICIT: dict(values)}


def declared_paths(
    app: Flask, prefix: str, schemas: dict[str, Any], refusals: Refusals = API_REFUSALS
) -> dict[str, dict[str, Any]]:
    """The declared operations of the routes under `prefix`, by path (without the prefix)
    and method; the models they name are added to `schemas`."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix):
            continue
        declared = operation_of(app.view_functions.get(rule.endpoint))
        if declared is None:
            continue
        policy = policy_of(app, rule.endpoint)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for path, op in _operations(rule, prefix, declared, schemas, refusals):
                if policy is not None and not policy.public:
                    op["x-roles"] = policy.describe()
                paths.setdefault(path, {})[method.lower()] = op
    return paths


def api_document(app: Flask, server_url: str) -> dict[str, Any]:
    """The whole document for the routes under /api/v1 of `app`."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths = declared_paths(app, PREFIX, schemas)
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


def _operations(
    rule: Rule, prefix: str, declared: Operation, schemas: dict[str, Any], refusals: Refusals
) -> list[tuple[str, dict[str, Any]]]:
    """The rule's operation at its path; or, for a path parameter described as `explicit`,
    one operation per value at a path of its own (the value in the path, summary and id)."""
    path = _PARAM.sub(r"{\1}", rule.rule[len(prefix) :]) or "/"
    for name in _PARAM.findall(rule.rule):
        values = declared.path.get(name, {}).get(EXPLICIT)
        if values is None:
            continue
        out = []
        for value, query in values.items():
            fill = {name: value}
            op = _operation(rule, declared, schemas, refusals, fill, query or declared.query)
            out.append((_filled(path, fill), op))
        return out
    return [(path, _operation(rule, declared, schemas, refusals, {}, declared.query))]


def _filled(text: str, fill: Mapping[str, str]) -> str:
    for name, value in fill.items():
        text = text.replace("{" + name + "}", value)
    return text


def _operation(
    rule: Rule,
    declared: Operation,
    schemas: dict[str, Any],
    refusals: Refusals,
    fill: Mapping[str, str],
    query: type[BaseModel] | None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": _filled(declared.summary, fill),
        "operationId": _filled(declared.operation_id, fill),
    }
    if declared.description:
        op["description"] = _filled(declared.description, fill)
    if declared.tags:
        op["tags"] = list(declared.tags)
    parameters = [
        _path_parameter(rule, name, declared)
        for name in _PARAM.findall(rule.rule)
        if name not in fill
    ]
    if query is not None:
        parameters.extend(_query_parameters(query, schemas))
    for name, schema in declared.headers.items():
        parameters.append({"name": name, "in": "header", "required": False, **schema})
    if parameters:
        op["parameters"] = parameters
    if declared.body is not None:
        op["requestBody"] = {
            "required": declared.body_required,
            "content": {declared.body_media: {"schema": schema_ref(declared.body, schemas)}},
        }
    elif declared.form is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema_ref(declared.form, schemas)}},
        }
    op["responses"] = _responses(declared, parameters, schemas, refusals)
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
        for key in PARAMETER_KEYS:
            if key in schema:
                param[key] = schema.pop(key)
        param["schema"] = schema
        out.append(param)
    return out


def schema_ref(model: type[BaseModel] | Mapping[str, Any], schemas: dict[str, Any]) -> Any:
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
    declared: Operation,
    parameters: list[dict[str, Any]],
    schemas: dict[str, Any],
    refusals: Refusals,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for reply in declared.replies:
        answer = _reply(reply, schemas)
        if str(reply.status) in out:  # the same status in another media type
            out[str(reply.status)]["content"].update(answer["content"])
        else:
            out[str(reply.status)] = answer
    statuses = {*refusals.always, *declared.errors}
    if declared.body is not None or declared.form is not None:
        statuses |= {400, 413, refusals.invalid}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if any(p["in"] in ("query", "header") for p in parameters):
        statuses.add(refusals.invalid)
    for status in sorted(statuses):
        out.setdefault(
            str(status),
            {
                "description": refusals.texts.get(status, "错误"),
                "content": {JSON: {"schema": {"$ref": REF.format(model=refusals.schema_name)}}},
            },
        )
    return out


def _reply(reply: Reply, schemas: dict[str, Any]) -> dict[str, Any]:
    if reply.schema is None:
        schema = {"schema": {"type": "object"}} if reply.media == JSON else {}
        return {"description": reply.description, "content": {reply.media: schema}}
    return {
        "description": reply.description,
        "content": {reply.media: {"schema": schema_ref(reply.schema, schemas)}},
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


def openapi_30(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document as OpenAPI 3.0.3, for the clients and standards that read no 3.1 (OGC API
    – Features' conformance class oas30; GDAL asks for version=3.0). Pydantic writes JSON
    Schema 2020-12; the few constructs of it that 3.0 lacks are rewritten: "null" among the
    types (a type list, or an anyOf/oneOf member) becomes `nullable`, `const` a one-value
    enum, `examples` one `example`, numeric exclusive bounds the boolean ones."""
    out = _schema_30(copy.deepcopy(dict(doc)))
    out["openapi"] = "3.0.3"
    return out


def _schema_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _schema_30(value) for key, value in node.items()}
    types = node.get("type")
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        del node["type"]
        if len(rest) == 1:
            node["type"] = rest[0]
        else:
            node["anyOf"] = [{"type": t} for t in rest]
        if "null" in types:
            node["nullable"] = True
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del node[key]
            if len(rest) == 1 and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            elif len(rest) == 1:
                node["allOf"] = rest
            else:
                node[key] = rest
            node["nullable"] = True
    if "const" in node and not isinstance(node["const"], dict):
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and node["examples"]:
        node["example"] = node.pop("examples")[0]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[limit], node[bound] = value, True
    if "default" in node and node["default"] is None and not node.get("nullable"):
        del node["default"]  # an optional parameter left out has no value, not null
    return node
