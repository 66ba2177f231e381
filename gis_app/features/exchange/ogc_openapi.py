"""The OpenAPI 3.0 document of the OGC API – Features at /ogc (conformance class oas30).

Generated like the API's own document (gis_app.http.openapi) from the routes' declarations
(ogc_api.py) and the declared models (ogc_schemas.py), then written as OpenAPI 3.0: the
conformance class oas30 of OGC API – Features, Part 1 names OpenAPI 3.0, and GDAL's OAPIF
driver asks for `application/vnd.oai.openapi+json;version=3.0` and accepts no other version.

Each collection has its own explicit paths; its items path lists the collection's queryables:
GDAL's OAPIF driver reads them there and sends `-where "status = 'closed'"` to the server
instead of filtering on the client.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from gis_app.features.exchange.ogc_schemas import OgcException
from gis_app.http.openapi import (
    Refusals,
    declared_paths,
    describe_security,
    openapi_30,
    schema_ref,
)
from gis_app.http.schemas import GEOJSON, JSON

__all__ = ["GEOJSON", "HTML", "JSON", "OPENAPI", "ogc_openapi_document"]

PREFIX = "/ogc"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
#: OGC API – Features answers an invalid parameter with 400, its errors with an exception
REFUSALS = Refusals(
    schema_name=OgcException.__name__,
    texts={
        400: "参数无效（field 指出哪个参数）",
        401: "未登录或令牌无效",
        403: "角色无权访问",
        404: "不存在",
        503: "数据库暂时不可用，请稍后重试（Retry-After）",
    },
    invalid=400,
)


def ogc_openapi_document(app: Flask, server_url: str, district_name: str) -> dict[str, Any]:
    """The document of the routes under /ogc of `app`."""
    schemas: dict[str, Any] = {}
    schema_ref(OgcException, schemas)
    paths = declared_paths(app, PREFIX, schemas, REFUSALS)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
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
        "components": {"schemas": schemas},
    }
    describe_security(doc)
    return openapi_30(doc)
