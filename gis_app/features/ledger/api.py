"""The JSON API under /api/v1: streets and sites as GeoJSON, ledger import, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from gis_app.core import clock, codes
from gis_app.core.errors import BadRequest, NotFound, ValidationError
from gis_app.features.ledger import importer as site_import
from gis_app.features.ledger import service as sites
from gis_app.features.ledger.permissions import own_street, sees_personal_data, street_code_of
from gis_app.features.ledger.queries import SiteFilter, counts_by_status, list_features
from gis_app.features.streets import service as streets
from gis_app.http.access import API_READERS, DISTRICT, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

GEOJSON = "application/geo+json"


def _geojson(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.mimetype = GEOJSON
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _json_body() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says why not."""
    if not request.data:
        raise BadRequest("请求体为空：需要 JSON 对象", "body")
    if not request.is_json:
        raise BadRequest("请求体必须是 JSON（Content-Type: application/json）", "body")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("请求体不是有效的 JSON", "body")
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象", "body")
    return body


def _site_input(body: dict[str, Any]) -> dict[str, Any]:
    """Accept a flat object or a GeoJSON Feature with a Point geometry."""
    if body.get("type") != "Feature":
        return body
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise ValidationError("properties 必须是对象", "properties")
    geometry = body.get("geometry")
    out = {k: v for k, v in props.items()}
    if geometry is not None:
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise ValidationError("geometry 必须是 Point", "geometry")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise ValidationError("Point 的 coordinates 必须是 [经度, 纬度]", "geometry")
        out["lon"], out["lat"] = coords[0], coords[1]
    return out


#: no count, page or offset is larger; bigger numbers would overflow PostgreSQL's LIMIT/OFFSET
INT_ARG_CEILING = 2**31 - 1


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"参数 {name} 必须是整数：{raw!r}", name) from None
    if value < minimum:
        raise ValidationError(f"参数 {name} 不能小于 {minimum}", name)
    if value > INT_ARG_CEILING:
        raise ValidationError(f"参数 {name} 过大（不能大于 {INT_ARG_CEILING}）", name)
    return min(value, maximum) if maximum is not None else value


@bp.get("/")
@allow(*API_READERS)
def index() -> Response:
    return jsonify(
        {
            "title": "违建治理一张图 API",
            "links": [
                {
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                    "href": url_for("api.openapi", _external=True),
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
def openapi() -> Response:
    response = jsonify(openapi_document(url_for("api.index", _external=True).rstrip("/")))
    response.mimetype = "application/vnd.oai.openapi+json"
    return response


@bp.get("/codes")
@allow(*API_READERS)
def code_lists() -> Response:
    """The enumerated values with their Chinese labels."""
    return jsonify(
        {
            "status": codes.STATUSES,
            "disposition": codes.DISPOSITIONS,
            "kind": codes.KINDS,
            "source": codes.SOURCES,
            "flag": codes.FLAGS,
        }
    )


@bp.get("/streets")
@allow(*API_READERS)
def list_streets() -> Response:
    return _geojson(_streets_collection())


def _streets_collection() -> dict[str, Any]:
    """Every street for the district and open data; a street role gets its own street."""
    own = own_street(current_actor())
    return streets.streets_feature_collection(
        session(), clock.today().isoformat(), [own] if own else None
    )


@bp.get("/streets/<code>")
@allow(*API_READERS)
def get_street(code: str) -> Response:
    street = streets.get_street(session(), code)
    feature = next((f for f in _streets_collection()["features"] if f["id"] == street.code), None)
    if feature is None:
        raise NotFound(f"没有代码为 {code} 的街道", "code")
    return _geojson(feature)


@bp.get("/sites")
@allow(*API_READERS)
def list_sites() -> Response:
    flt = SiteFilter.from_args(request.args)
    limit = _int_arg("limit", 100, 1, current_app.config["API_PAGE_MAX"])
    offset = _int_arg("offset", 0, 0)
    page = list_features(session(), flt, clock.today(), limit, offset, actor=current_actor())
    params = flt.to_params()
    links = [
        {
            "rel": "self",
            "type": GEOJSON,
            "href": url_for("api.list_sites", _external=True, **params, limit=limit, offset=offset),
        }
    ]
    if offset + limit < page.number_matched:
        links.append(
            {
                "rel": "next",
                "type": GEOJSON,
                "href": url_for(
                    "api.list_sites", _external=True, **params, limit=limit, offset=offset + limit
                ),
            }
        )
    if offset > 0:
        links.append(
            {
                "rel": "prev",
                "type": GEOJSON,
                "href": url_for(
                    "api.list_sites",
                    _external=True,
                    **params,
                    limit=limit,
                    offset=max(0, offset - limit),
                ),
            }
        )
    return _geojson(
        {
            "type": "FeatureCollection",
            "numberMatched": page.number_matched,
            "numberReturned": len(page.features),
            "timeStamp": clock.now().isoformat(timespec="seconds"),
            "links": links,
            "features": page.features,
        }
    )


@bp.get("/sites/counts")
@allow(*API_READERS)
def site_counts() -> Response:
    """Counts by status of the sites the filter selects (plus total and overdue)."""
    flt = SiteFilter.from_args(request.args)
    return jsonify(counts_by_status(session(), flt, clock.today(), current_actor()))


@bp.post("/sites")
@allow(*SITE_STAFF)
def create_site() -> Response:
    actor = current_actor()
    site = sites.create_site(session(), _site_input(_json_body()), actor)
    feature = sites.site_feature(session(), site.id, clock.today(), True, actor)
    return _geojson(
        feature,
        201,
        {"Location": url_for("api.get_site", site_id=site.id), "ETag": f'"{site.version}"'},
    )


@bp.get("/sites/<int:site_id>")
@allow(*API_READERS)
def get_site(site_id: int) -> Response:
    actor = current_actor()
    site = sites.get_site(session(), site_id, actor=actor)
    # the persons concerned and the history: the district and the site's own street only;
    # media and agencies get the open-data view
    full = sees_personal_data(actor, street_code_of(session(), site))
    feature = sites.site_feature(session(), site_id, clock.today(), full, actor)
    if full:
        feature["history"] = sites.site_history(session(), site_id, actor)
    return _geojson(feature, headers={"ETag": f'"{feature["properties"]["version"]}"'})


@bp.get("/sites/<int:site_id>/history")
@allow(*SITE_STAFF)
def get_site_history(site_id: int) -> Response:
    """The history stays readable after a soft delete."""
    events = sites.site_history(session(), site_id, current_actor())
    return jsonify({"site_id": site_id, "events": events})


def _version_from_request(body: dict[str, Any]) -> Any:
    if "version" in body:
        return body["version"]
    if_match = (request.headers.get("If-Match") or "").strip()
    return if_match.removeprefix("W/").strip('"') or None


@bp.patch("/sites/<int:site_id>")
@allow(*DISTRICT, "street_officer")
def update_site(site_id: int) -> Response:
    body = _json_body()
    raw = dict(_site_input(body))
    if "version" not in raw:
        raw["version"] = _version_from_request(body)
    reason = raw.pop("reason", "") or ""
    if not isinstance(reason, str):
        raise ValidationError("修改原因 reason 必须是文字", "reason")
    actor = current_actor()
    site = sites.update_site(session(), site_id, raw, actor, reason)
    feature = sites.site_feature(session(), site.id, clock.today(), True, actor)
    return _geojson(feature, headers={"ETag": f'"{site.version}"'})


@bp.delete("/sites/<int:site_id>")
@allow(*DISTRICT)
def delete_site(site_id: int) -> Response:
    body = _json_body() if request.data else {}
    reason = body.get("reason", request.args.get("reason", ""))
    if not isinstance(reason, str):
        raise ValidationError("删除原因 reason 必须是文字", "reason")
    version = body.get("version") if "version" in body else _version_from_request({})
    site = sites.delete_site(session(), site_id, current_actor(), reason, version)
    return jsonify(
        {
            "id": site.id,
            "code": site.code,
            "deleted": True,
            "deleted_at": site.deleted_at.isoformat() if site.deleted_at else None,
            "reason": site.deleted_reason,
        }
    )


@bp.post("/sites/import")
@allow(*DISTRICT, "street_officer")
def import_sites() -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("请上传台账文件（表单字段 file）", "file")
    crs = (request.form.get("crs") or request.args.get("crs") or "wgs84").strip().lower()
    dry_run = (request.form.get("dry_run") or request.args.get("dry_run") or "").lower() in (
        "1",
        "true",
        "yes",
    )
    report = site_import.import_sites(
        session(), upload.read(), upload.filename, current_actor(), crs=crs, dry_run=dry_run
    )
    return jsonify(report.to_dict()), (200 if dry_run else 201)
