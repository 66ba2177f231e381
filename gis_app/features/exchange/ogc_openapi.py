"""The OpenAPI 3.0 document of the OGC API – Features at /ogc (conformance class oas30).

Each collection has its own explicit items path whose parameters are the collection's
queryables: GDAL's OAPIF driver reads them there and sends `-where "status = 'closed'"` to the
server instead of filtering on the client.
"""

from __future__ import annotations

from typing import Any

from gis_app.features.exchange.export.fields import ExportField
from gis_app.features.exchange.ogc import COLLECTIONS, DEFAULT_LIMIT, MAX_LIMIT, collection_fields

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

_TYPES = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def _schema(f: ExportField) -> dict[str, Any]:
    schema = dict(_TYPES[f.type])
    if f.codes:
        schema["enum"] = list(f.codes)
    schema["description"] = f"{f.zh}：{f.description}"
    return schema


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _content(*types: str, schema: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for media_type in types:
        body[media_type] = (
            {"schema": {"$ref": f"#/components/schemas/{schema}"}}
            if schema and media_type != HTML
            else {}
        )
    return body


def _responses(description: str, *types: str, schema: str | None = None) -> dict[str, Any]:
    return {
        "200": {"description": description, "content": _content(*types, schema=schema)},
        "400": {"description": "参数无效", "content": _content(JSON, schema="Exception")},
        "404": {"description": "不存在", "content": _content(JSON, schema="Exception")},
    }


def _collection_paths(collection_id: str) -> dict[str, Any]:
    collection = COLLECTIONS[collection_id]
    fields = {f.name: f for f in collection_fields(collection_id)}
    queryables = []
    for name in collection.queryables:
        schema = _schema(fields[name]) if name in fields else {"type": "string"}
        queryables.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": f"只返回 {name} 等于该值的要素",
                "schema": schema,
            }
        )
    extra = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in collection.extra_parameters
    ]
    items = f"/collections/{collection_id}/items"
    return {
        f"/collections/{collection_id}": {
            "get": {
                "summary": f"{collection.title}：集合说明",
                "operationId": f"describe_{collection_id}",
                "parameters": [_param("f")],
                "responses": _responses("集合", JSON, HTML, schema="Collection"),
            }
        },
        items: {
            "get": {
                "summary": f"{collection.title}：要素",
                "operationId": f"get_{collection_id}_items",
                "parameters": [
                    _param("f"),
                    _param("limit"),
                    _param("offset"),
                    _param("bbox"),
                    _param("bbox-crs"),
                    _param("datetime"),
                    *queryables,
                    *extra,
                ],
                "responses": _responses(
                    "FeatureCollection（GeoJSON）", GEOJSON, HTML, schema="FeatureCollection"
                ),
            }
        },
        f"{items}/{{featureId}}": {
            "get": {
                "summary": f"{collection.title}：单个要素",
                "operationId": f"get_{collection_id}_item",
                "parameters": [_param("featureId"), _param("f")],
                "responses": _responses("Feature（GeoJSON）", GEOJSON, HTML, schema="Feature"),
            }
        },
    }


def ogc_openapi_document(server_url: str, district_name: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "summary": "登录页（landing page）",
                "operationId": "getLandingPage",
                "parameters": [_param("f")],
                "responses": _responses("登录页", JSON, HTML, schema="LandingPage"),
            }
        },
        "/conformance": {
            "get": {
                "summary": "符合的标准类别",
                "operationId": "getConformance",
                "parameters": [_param("f")],
                "responses": _responses("符合性声明", JSON, HTML, schema="Conformance"),
            }
        },
        "/api": {
            "get": {
                "summary": "本 OpenAPI 文档",
                "operationId": "getAPI",
                "parameters": [_param("f")],
                "responses": {"200": {"description": "OpenAPI 3.0", "content": {OPENAPI: {}}}},
            }
        },
        "/collections": {
            "get": {
                "summary": "全部集合",
                "operationId": "getCollections",
                "parameters": [_param("f")],
                "responses": _responses("集合列表", JSON, HTML, schema="Collections"),
            }
        },
    }
    for collection_id in COLLECTIONS:
        paths.update(_collection_paths(collection_id))
    link = {
        "type": "object",
        "required": ["href"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    }
    links = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
    feature_properties = {
        collection_id: {
            "type": "object",
            "properties": {f.name: _schema(f) for f in collection_fields(collection_id)},
        }
        for collection_id in COLLECTIONS
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{district_name}违建治理一张图 OGC API – Features",
            "version": "1.0.0",
            "description": (
                "违建点位和街道边界，供其他部门的 GIS（QGIS、ArcGIS Pro、GDAL）直接连接。"
                "不含相对人等个人信息。坐标为 CRS84（经度、纬度）。"
            ),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "parameters": {
                "f": {
                    "name": "f",
                    "in": "query",
                    "required": False,
                    "description": "输出格式（也可用 Accept 头）",
                    "schema": {"type": "string", "enum": ["json", "html"]},
                },
                "limit": {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                },
                "offset": {
                    "name": "offset",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                },
                "bbox": {
                    "name": "bbox",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "description": "最小经度,最小纬度,最大经度,最大纬度（CRS84）",
                    "schema": {
                        "type": "array",
                        "minItems": 4,
                        "maxItems": 6,
                        "items": {"type": "number"},
                    },
                },
                "bbox-crs": {
                    "name": "bbox-crs",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "format": "uri",
                        "enum": [
                            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                            "http://www.opengis.net/def/crs/EPSG/0/4326",
                        ],
                    },
                },
                "datetime": {
                    "name": "datetime",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "description": (
                        "最后修改时间（updated_at）：时刻或区间，RFC 3339，"
                        "如 2026-06-01T00:00:00Z/.. 或 2026-06-15（北京时间整日）"
                    ),
                    "schema": {"type": "string"},
                },
                "featureId": {
                    "name": "featureId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
            },
            "schemas": {
                "Link": link,
                "Exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "field": {"type": "string", "nullable": True},
                    },
                },
                "LandingPage": {
                    "type": "object",
                    "required": ["links"],
                    "properties": {
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "links": links,
                    },
                },
                "Conformance": {
                    "type": "object",
                    "required": ["conformsTo"],
                    "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
                },
                "Collection": {
                    "type": "object",
                    "required": ["id", "links"],
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "links": links,
                        "extent": {"type": "object"},
                        "itemType": {"type": "string"},
                        "crs": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Collections": {
                    "type": "object",
                    "required": ["links", "collections"],
                    "properties": {
                        "links": links,
                        "collections": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Collection"},
                        },
                    },
                },
                "Feature": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                        "geometry": {"type": "object"},
                        "properties": {
                            "oneOf": [
                                {"$ref": f"#/components/schemas/{cid}_properties"}
                                for cid in COLLECTIONS
                            ]
                        },
                        "links": links,
                    },
                },
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Feature"},
                        },
                        "links": links,
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                    },
                },
                **{f"{cid}_properties": schema for cid, schema in feature_properties.items()},
            },
        },
    }
