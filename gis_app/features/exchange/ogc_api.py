"""OGC API – Features at /ogc: landing page, conformance, collections, items, one item, OpenAPI.

JSON or HTML by `f=json|html` or the Accept header (JSON when in doubt); items are
`application/geo+json`. Invalid parameters get 400 (as the standard asks) with the app's JSON
error body plus the OGC `code`/`description` members. Every view declares its parameters and
answers (`operation`); the OpenAPI document of /ogc is generated from them (ogc_openapi.py).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from pydantic import BaseModel

from gis_app.core import clock
from gis_app.core.errors import AppError, ValidationError
from gis_app.features.exchange import ogc, ogc_schemas
from gis_app.features.exchange.export.fields import ExportField, fields_for
from gis_app.features.exchange.ogc_openapi import GEOJSON, HTML, JSON, OPENAPI, ogc_openapi_document
from gis_app.features.exchange.ogc_schemas import FormatQuery, read_items_query
from gis_app.http.access import EXPORT_READERS, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session
from gis_app.http.openapi import explicit
from gis_app.http.schemas import Reply, operation

bp = Blueprint("ogc", __name__, url_prefix="/ogc", template_folder="templates")

#: each collection's paths, documented one by one (with the queryables of its items)
EACH_COLLECTION = {"collection_id": explicit(dict.fromkeys(ogc.COLLECTIONS))}
ITEMS_OF_EACH = {"collection_id": explicit({c.id: c.query for c in ogc.COLLECTIONS.values()})}
FEATURE_ID = {"feature_id": {"description": "要素标识：点位的 id，街道的代码"}}


def _answers(description: str, schema: type[BaseModel], media: str = JSON) -> list[Reply]:
    """A document in JSON (or GeoJSON) or as an HTML page."""
    return [
        Reply(200, description, schema, media),
        Reply(200, f"{description}（网页）", None, HTML),
    ]


def _format(query: FormatQuery) -> str:
    """'html' or 'json', from f= or the Accept header."""
    if query.f is not None:
        return query.f
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, OPENAPI, HTML], default=JSON)
    return "html" if best == HTML else "json"


def _json(body: Any, media_type: str = JSON) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, content_type=media_type)


# the columns of the HTML items table (every property is on the item page and in the JSON)
HTML_COLUMNS = {
    "sites": (
        "code",
        "street_name",
        "address",
        "community",
        "kind",
        "area_m2",
        "disposition",
        "status",
        "overdue",
        "current_deadline",
    ),
    "streets": ("code", "name", "area_km2", "sites_total", "sites_closed", "sites_overdue"),
}


def display(f: ExportField, value: Any) -> str:
    """A property as a person reads it: Chinese labels, 是/否, blank for nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if f.codes is not None:
        return f.codes.get(value, str(value))
    return str(value)


def _html(template_kind: str, **context: Any) -> Response:
    args = {**request.args.to_dict(), "f": "json"}
    json_href = url_for(request.endpoint or "ogc.landing", **(request.view_args or {}), **args)
    page = render_template(
        "ogc.html", kind=template_kind, json_href=json_href, display=display, **context
    )
    return Response(page, content_type="text/html; charset=utf-8")


def _link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media_type}
    if title:
        link["title"] = title
    return link


def _self_links(endpoint: str, fmt: str, json_type: str = JSON, **values: Any) -> list[dict]:
    json_link = url_for(endpoint, _external=True, f="json", **values)
    html_link = url_for(endpoint, _external=True, f="html", **values)
    if fmt == "html":
        return [_link(html_link, "self", HTML), _link(json_link, "alternate", json_type)]
    return [_link(json_link, "self", json_type), _link(html_link, "alternate", HTML)]


@bp.errorhandler(AppError)
def _error(exc: AppError) -> Response:
    """JSON unless HTML was asked for; an invalid parameter is a 400 as OGC API asks."""
    discard()
    status = 400 if isinstance(exc, ValidationError) else exc.status
    ogc_code = {400: "InvalidParameterValue", 404: "NotFound"}.get(status, exc.code)
    body = {"code": ogc_code, "description": exc.message, **exc.to_dict()}
    f = (request.args.get("f") or "").lower()
    wants_html = f == "html" or (
        not f and request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON) == HTML
    )
    if wants_html:
        page = render_template("error.html", status=status, body=body)
        return Response(page, status=status, content_type="text/html; charset=utf-8")
    response = _json(body)
    response.status_code = status
    return response


# ---------------------------------------------------------------- landing, conformance, API


@bp.get("/")
@bp.get("")
@allow(*EXPORT_READERS)
@operation(
    "登录页（landing page）",
    "getLandingPage",
    query=FormatQuery,
    replies=_answers("登录页", ogc_schemas.LandingPage),
)
def landing(query: FormatQuery) -> Response:
    fmt = _format(query)
    district = current_app.config["DISTRICT_NAME"]
    body = {
        "title": f"{district}违建治理一张图 OGC API – Features",
        "description": "违建点位和街道边界（不含个人信息），坐标为 CRS84 经纬度。",
        "links": [
            *_self_links("ogc.landing", fmt),
            _link(url_for("ogc.api", _external=True), "service-desc", OPENAPI, "OpenAPI 3.0"),
            _link(url_for("ogc.api", _external=True, f="html"), "service-doc", HTML, "接口说明"),
            _link(
                url_for("ogc.conformance", _external=True), "conformance", JSON, "符合的标准类别"
            ),
            _link(url_for("ogc.collections", _external=True), "data", JSON, "集合"),
        ],
    }
    if fmt == "html":
        return _html("landing", body=body)
    return _json(body)


@bp.get("/conformance")
@allow(*EXPORT_READERS)
@operation(
    "符合的标准类别",
    "getConformance",
    query=FormatQuery,
    replies=_answers("符合性声明", ogc_schemas.Conformance),
)
def conformance(query: FormatQuery) -> Response:
    body = {"conformsTo": list(ogc.CONFORMANCE)}
    if _format(query) == "html":
        return _html("conformance", body=body)
    return _json(body)


@bp.get("/api")
@allow(*EXPORT_READERS)
@operation(
    "本 OpenAPI 文档",
    "getAPI",
    query=FormatQuery,
    replies=[Reply(200, "OpenAPI 3.0", None, OPENAPI), Reply(200, "接口说明（网页）", None, HTML)],
)
def api(query: FormatQuery) -> Response:
    doc = ogc_openapi_document(
        current_app,
        url_for("ogc.landing", _external=True).rstrip("/"),
        current_app.config["DISTRICT_NAME"],
    )
    if _format(query) == "html":
        return _html("api", doc=doc)
    return _json(doc, OPENAPI)


# ---------------------------------------------------------------- collections


def _collection_body(collection: ogc.Collection, fmt: str, nested: bool) -> dict[str, Any]:
    cid = collection.id
    links = (
        [_link(url_for("ogc.collection", collection_id=cid, _external=True), "self", JSON)]
        if nested
        else _self_links("ogc.collection", fmt, collection_id=cid)
    )
    items_url = url_for("ogc.items", collection_id=cid, _external=True)
    links += [
        _link(items_url, "items", GEOJSON, f"{collection.title}（GeoJSON）"),
        _link(url_for("ogc.items", collection_id=cid, _external=True, f="html"), "items", HTML),
    ]
    return {
        "id": cid,
        "title": collection.title,
        "description": collection.description,
        "links": links,
        "extent": ogc.extent(session(), collection, current_actor()),
        "itemType": "feature",
        "crs": [ogc.CRS84],
    }


@bp.get("/collections")
@allow(*EXPORT_READERS)
@operation(
    "全部集合",
    "getCollections",
    query=FormatQuery,
    replies=_answers("集合列表", ogc_schemas.Collections),
)
def collections(query: FormatQuery) -> Response:
    fmt = _format(query)
    body = {
        "links": _self_links("ogc.collections", fmt),
        "collections": [_collection_body(c, fmt, True) for c in ogc.COLLECTIONS.values()],
    }
    if fmt == "html":
        return _html("collections", body=body)
    return _json(body)


@bp.get("/collections/<collection_id>")
@allow(*EXPORT_READERS)
@operation(
    "集合 {collection_id}：说明",
    "describe_{collection_id}",
    query=FormatQuery,
    path=EACH_COLLECTION,
    replies=_answers("集合", ogc_schemas.Collection),
)
def collection(collection_id: str, query: FormatQuery) -> Response:
    fmt = _format(query)
    body = _collection_body(ogc.get_collection(collection_id), fmt, False)
    if fmt == "html":
        fields = fields_for(collection_id)
        return _html("collection", body=body, fields=fields)
    return _json(body)


# ---------------------------------------------------------------- items


@bp.get("/collections/<collection_id>/items")
@allow(*EXPORT_READERS)
@operation(
    "集合 {collection_id}：要素",
    "get_{collection_id}_items",
    query=FormatQuery,
    path=ITEMS_OF_EACH,
    replies=_answers("FeatureCollection（GeoJSON）", ogc_schemas.FeatureCollection, GEOJSON),
)
def items(collection_id: str, query: FormatQuery) -> Response:
    fmt = _format(query)
    coll = ogc.get_collection(collection_id)
    selection = ogc.select_items(coll, read_items_query(coll.query, request.args))
    page = ogc.read_items(session(), selection, clock.today(), current_actor())
    head = {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": clock.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": _items_links(selection, page, fmt),
    }
    if fmt == "html":
        features = [json.loads(text) for text in page.features]
        columns = [f for f in fields_for(collection_id) if f.name in HTML_COLUMNS[collection_id]]
        return _html(
            "items",
            body=head,
            features=features,
            collection=coll,
            fields=columns,
            offset=selection.offset,
        )
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    body = text[:-1] + ',"features":[' + ",".join(page.features) + "]}"
    return Response(body, content_type=GEOJSON)


def _items_links(selection: ogc.ItemsSelection, page: ogc.ItemsPage, fmt: str) -> list[dict]:
    """This page in both formats, its collection, and the next and previous pages."""
    collection_id, limit, offset = selection.collection.id, selection.limit, selection.offset
    # the request's own parameters, to carry over to the other pages
    params = {k: request.args.get(k, "") for k in request.args if k not in ("f", "limit", "offset")}
    params = {k: v for k, v in params.items() if v != ""}

    def href(at: int, f: str) -> str:
        return url_for(
            "ogc.items",
            collection_id=collection_id,
            _external=True,
            **params,
            limit=limit,
            offset=at,
            f=f,
        )

    own, other = (HTML, GEOJSON) if fmt == "html" else (GEOJSON, HTML)
    own_f, other_f = ("html", "json") if fmt == "html" else ("json", "html")
    links = [
        _link(href(offset, own_f), "self", own),
        _link(href(offset, other_f), "alternate", other),
        _link(
            url_for("ogc.collection", collection_id=collection_id, _external=True),
            "collection",
            JSON,
        ),
    ]
    if offset + len(page.features) < page.number_matched and page.features:
        links.append(_link(href(offset + limit, "json"), "next", GEOJSON, "下一页"))
        links.append(_link(href(offset + limit, "html"), "next", HTML, "下一页"))
    if offset > 0:
        previous = max(0, offset - limit)
        links.append(_link(href(previous, "json"), "prev", GEOJSON, "上一页"))
        links.append(_link(href(previous, "html"), "prev", HTML, "上一页"))
    return links


@bp.get("/collections/<collection_id>/items/<feature_id>")
@allow(*EXPORT_READERS)
@operation(
    "集合 {collection_id}：单个要素",
    "get_{collection_id}_item",
    query=FormatQuery,
    path={**EACH_COLLECTION, **FEATURE_ID},
    replies=_answers("Feature（GeoJSON）", ogc_schemas.Feature, GEOJSON),
)
def item(collection_id: str, feature_id: str, query: FormatQuery) -> Response:
    fmt = _format(query)
    coll = ogc.get_collection(collection_id)
    text = ogc.read_item(session(), coll, feature_id, clock.today(), current_actor())
    feature = json.loads(text)
    endpoint_values = {"collection_id": collection_id, "feature_id": feature_id}
    feature["links"] = [
        *_self_links("ogc.item", fmt, GEOJSON, **endpoint_values),
        _link(
            url_for("ogc.collection", collection_id=collection_id, _external=True),
            "collection",
            JSON,
        ),
    ]
    if fmt == "html":
        return _html("item", feature=feature, collection=coll, fields=fields_for(collection_id))
    return _json(feature, GEOJSON)
