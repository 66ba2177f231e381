"""The entry of the JSON API (/api/v1/) and its OpenAPI document, generated from the routes'
declared schemas."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, url_for

from gis_app.http.access import API_READERS, allow
from gis_app.http.openapi import api_document
from gis_app.http.schemas import GEOJSON, Reply, operation

bp = Blueprint("home_api", __name__, url_prefix="/api/v1")
OPENAPI = "application/vnd.oai.openapi+json"


@bp.get("/")
@allow(*API_READERS)
@operation("接口入口（链接到文档、街道、点位、代码表）", "apiIndex")
def index() -> Response:
    return jsonify(
        {
            "title": "违建治理一张图 API",
            "links": [
                {
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.1",
                    "href": url_for("home_api.openapi", _external=True),
                },
                {
                    "rel": "streets",
                    "type": GEOJSON,
                    "href": url_for("api.list_streets", _external=True),
                },
                {
                    "rel": "sites",
                    "type": GEOJSON,
                    "href": url_for("api.list_sites", _external=True),
                },
                {
                    "rel": "codes",
                    "type": "application/json",
                    "href": url_for("api.code_lists", _external=True),
                },
            ],
        }
    )


@bp.get("/openapi.json")
@allow(*API_READERS)
@operation(
    "本文档（OpenAPI 3.1，由各接口的声明生成）",
    "openapiDocument",
    replies=[Reply(200, "OpenAPI 3.1", media=OPENAPI)],
)
def openapi() -> Response:
    server = url_for("home_api.index", _external=True).rstrip("/")
    response = jsonify(api_document(current_app, server))
    response.mimetype = "application/vnd.oai.openapi+json"
    return response
