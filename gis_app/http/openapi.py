"""The OpenAPI 3.0 document of /api/v1, built from the same code lists the API validates with."""

from __future__ import annotations

from typing import Any

from gis_app.core import codes
from gis_app.http.auth import COOKIE


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

SITE_ID = {
    "name": "site_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807},
}


def _site_input_schema(required: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "code": {"type": "string", "maxLength": 64, "description": "编号（省略时自动生成）"},
        "address": {"type": "string", "maxLength": 200, "description": "地址"},
        "community": {"type": "string", "maxLength": 64, "description": "社区"},
        "kind": _enum(codes.KINDS, "违建类型"),
        "area_m2": {
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 1_000_000,
            "description": "面积（m²）",
        },
        "person_name": {"type": "string", "maxLength": 64, "description": "相对人（个人信息）"},
        "person_contact": {
            "type": "string",
            "maxLength": 64,
            "description": "联系电话（个人信息）",
        },
        "disposition": _enum(codes.DISPOSITIONS, "治理方式"),
        "committed_deadline": {"type": "string", "format": "date", "description": "承诺期限"},
        "note": {"type": "string", "maxLength": 2000},
        "lon": {"type": "number", "minimum": -180, "maximum": 180, "description": "经度 WGS84"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "纬度 WGS84"},
    }
    for flag, label in codes.FLAGS.items():
        props[f"flag_{flag}"] = {"type": "boolean", "description": label}
    return {"type": "object", "properties": props, "required": required}


def _export_paths() -> dict[str, Any]:
    from gis_app.features.exchange.api import export_openapi_paths

    return export_openapi_paths(FILTER_PARAMETERS)


def openapi_document(server_url: str) -> dict[str, Any]:
    create_schema = _site_input_schema(["address", "disposition", "lon", "lat"])
    create_schema["properties"]["status"] = _enum(codes.STATUSES, "初始状态（默认已建档）")
    update_schema = _site_input_schema(["version"])
    update_schema["properties"]["version"] = {
        "type": "integer",
        "minimum": 1,
        "description": "读取时得到的版本号",
    }
    update_schema["properties"]["reason"] = {"type": "string", "maxLength": 500}
    update_schema["minProperties"] = 2
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "违建治理一张图 API",
            "version": "1.0.0",
            "description": (
                "河东区违法建设分步治理点位台账。坐标为 WGS84 / CGCS2000 经纬度（EPSG:4326），"
                "GeoJSON 按 RFC 7946 输出。错误统一为 {error, field, message}。"
            ),
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/": {
                "get": {
                    "summary": "接口入口（链接到文档、街道、点位、代码表）",
                    "operationId": "apiIndex",
                    "responses": {
                        "200": {
                            "description": "links",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "本文档（OpenAPI 3.0）",
                    "operationId": "openapiDocument",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.0",
                            "content": {
                                "application/vnd.oai.openapi+json": {"schema": {"type": "object"}}
                            },
                        }
                    },
                }
            },
            "/streets": {
                "get": {
                    "summary": "全部街道（含各状态点位数）",
                    "operationId": "listStreets",
                    "responses": {
                        "200": {
                            "description": "FeatureCollection",
                            "content": {
                                "application/geo+json": {"schema": _ref("FeatureCollection")}
                            },
                        }
                    },
                }
            },
            "/streets/{code}": {
                "get": {
                    "summary": "一个街道",
                    "operationId": "getStreet",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "Feature",
                            "content": {"application/geo+json": {"schema": _ref("Feature")}},
                        },
                        **_error_responses(404),
                    },
                }
            },
            "/sites": {
                "get": {
                    "summary": "点位列表（筛选、分页）",
                    "operationId": "listSites",
                    "parameters": [
                        *FILTER_PARAMETERS,
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "default": 100},
                            "description": "每页条数（超过 1000 按 1000）",
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 0,
                                "maximum": 2**31 - 1,
                                "default": 0,
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "FeatureCollection with numberMatched",
                            "content": {"application/geo+json": {"schema": _ref("SiteCollection")}},
                        },
                        **_error_responses(422),
                    },
                },
                "post": {
                    "summary": "登记点位（街道由坐标确定）",
                    "operationId": "createSite",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("SiteCreate")}},
                    },
                    "responses": {
                        "201": {
                            "description": "created",
                            "content": {"application/geo+json": {"schema": _ref("Feature")}},
                        },
                        **_error_responses(400, 409, 422),
                    },
                },
            },
            "/sites/counts": {
                "get": {
                    "summary": "按状态统计（与列表相同的筛选）",
                    "operationId": "countSites",
                    "parameters": FILTER_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "counts",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_error_responses(422),
                    },
                }
            },
            "/sites/{site_id}": {
                "get": {
                    "summary": "一个点位及其历史",
                    "operationId": "getSite",
                    "parameters": [SITE_ID],
                    "responses": {
                        "200": {
                            "description": "Feature",
                            "content": {"application/geo+json": {"schema": _ref("Feature")}},
                        },
                        **_error_responses(404),
                    },
                },
                "patch": {
                    "summary": "修改点位（乐观并发：带上 version）",
                    "operationId": "updateSite",
                    "parameters": [SITE_ID],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("SiteUpdate")}},
                    },
                    "responses": {
                        "200": {
                            "description": "updated",
                            "content": {"application/geo+json": {"schema": _ref("Feature")}},
                        },
                        **_error_responses(400, 404, 409, 422),
                    },
                },
                "delete": {
                    "summary": "删除点位（软删除，须说明原因）",
                    "operationId": "deleteSite",
                    "parameters": [SITE_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["reason"],
                                    "properties": {
                                        "reason": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 500,
                                        },
                                        "version": {"type": "integer", "minimum": 1},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "deleted",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_error_responses(400, 404, 409, 422),
                    },
                },
            },
            "/sites/{site_id}/history": {
                "get": {
                    "summary": "点位历史",
                    "operationId": "getSiteHistory",
                    "parameters": [SITE_ID],
                    "responses": {
                        "200": {
                            "description": "events",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_error_responses(404),
                    },
                }
            },
            "/sites/import": {
                "post": {
                    "summary": "导入台账（CSV/GBK CSV、.xlsx、GeoJSON；全部成功或全部不导入）",
                    "operationId": "importSites",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "crs": {
                                            "type": "string",
                                            "enum": ["wgs84", "cgcs2000", "gcj02"],
                                        },
                                        "dry_run": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "imported",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "200": {
                            "description": "dry run: checked, nothing written",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_error_responses(400, 422),
                    },
                }
            },
            "/codes": {
                "get": {
                    "summary": "代码表（状态、治理方式、类型、标记的中文名）",
                    "operationId": "codeLists",
                    "responses": {
                        "200": {
                            "description": "code lists",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            **_export_paths(),
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "field": {"type": "string", "nullable": True},
                        "message": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Feature": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {},
                        "geometry": {"type": "object"},
                        "properties": {"type": "object"},
                    },
                },
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": _ref("Feature")},
                    },
                },
                "SiteCollection": {
                    "allOf": [
                        _ref("FeatureCollection"),
                        {
                            "type": "object",
                            "properties": {
                                "numberMatched": {"type": "integer"},
                                "numberReturned": {"type": "integer"},
                                "links": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    ]
                },
                "SiteCreate": create_schema,
                "SiteUpdate": update_schema,
            }
        },
    }
    doc["paths"].update(_feature_paths())

    describe_security(doc)
    complete_error_responses(doc)
    return doc


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


def _feature_paths() -> dict[str, Any]:
    """Paths that feature areas describe in their own modules."""
    from gis_app.features.patrol.web import openapi_paths as patrol_paths
    from gis_app.features.sampling.web import openapi_paths as sampling_paths
    from gis_app.features.workflow.api import openapi_paths as workflow_paths

    return {**workflow_paths(), **sampling_paths(), **patrol_paths()}


def describe_security(doc: dict[str, Any]) -> None:
    """How to authenticate, in the OpenAPI document: a bearer token (machines) or the session
    cookie with the X-CSRF-Token header for unsafe methods (browsers); 401 and 429 on every
    operation."""
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
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in doc["paths"].values():
        for op in item.values():
            op["responses"].setdefault("401", {"description": "未登录或令牌无效", "content": error})
            op["responses"].setdefault(
                "403", {"description": "角色无权访问（或只读账户）", "content": error}
            )
