"""The ledger's JSON API under /api/v1: streets and sites as GeoJSON, their counts, changes
and history, the code lists, and the ledger import."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from pydantic import Field, WithJsonSchema

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import NotFound, ValidationError
from gis_app.core.schemas import Feature, FeatureCollection, Page, Schema
from gis_app.features.ledger import importer as site_import
from gis_app.features.ledger import service as sites
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import own_street, sees_personal_data, street_code_of
from gis_app.features.ledger.queries import SiteFilter, counts_by_status, list_features
from gis_app.features.ledger.schemas import (
    HistoricalSiteCreate,
    SiteCreate,
    SiteDelete,
    SiteUpdate,
)
from gis_app.features.streets import service as streets
from gis_app.http.access import API_READERS, DISTRICT, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.parsing import INT_ARG_CEILING
from gis_app.http.schemas import GEOJSON, Reply, Upload, operation

bp = Blueprint("api", __name__, url_prefix="/api/v1")
TAGS = ("ledger",)
STREET_CODE = {"schema": {"type": "string", "maxLength": 12}, "description": "街道代码"}


class SitePageQuery(SiteFilter):
    """The filter of the site list, with paging."""

    limit: int = Field(100, ge=1, le=INT_ARG_CEILING, description="每页条数（超过 1000 按 1000）")
    offset: int = Field(0, ge=0, le=INT_ARG_CEILING, description="跳过的条数")


class ImportForm(Schema):
    """A ledger file (CSV in UTF-8 or GBK, .xlsx, GeoJSON): all rows or none."""

    file: Upload
    crs: Annotated[
        str, WithJsonSchema({"type": "string", "enum": ["wgs84", "cgcs2000", "gcj02"]})
    ] = "wgs84"
    dry_run: Annotated[str, WithJsonSchema({"type": "boolean"})] = ""


def _geojson(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.mimetype = GEOJSON
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


@bp.get("/codes")
@allow(*API_READERS)
@operation("代码表（状态、治理方式、类型、标记的中文名）", "codeLists", tags=TAGS)
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
@operation(
    "全部街道（含各状态点位数）",
    "listStreets",
    tags=TAGS,
    replies=[Reply(200, "FeatureCollection", FeatureCollection, GEOJSON)],
)
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
@operation(
    "一个街道",
    "getStreet",
    tags=TAGS,
    path={"code": STREET_CODE},
    replies=[Reply(200, "Feature", Feature, GEOJSON)],
)
def get_street(code: str) -> Response:
    street = streets.get_street(session(), code)
    feature = next((f for f in _streets_collection()["features"] if f["id"] == street.code), None)
    if feature is None:
        raise NotFound(f"没有代码为 {code} 的街道", "code")
    return _geojson(feature)


@bp.get("/sites")
@allow(*API_READERS)
@operation(
    "点位列表（筛选、分页）",
    "listSites",
    tags=TAGS,
    query=SitePageQuery,
    replies=[Reply(200, "FeatureCollection with numberMatched", Page, GEOJSON)],
)
def list_sites(query: SitePageQuery) -> Response:
    flt = query
    limit = min(query.limit, int(current_app.config["API_PAGE_MAX"]))
    offset = query.offset
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
@operation("按状态统计（与列表相同的筛选）", "countSites", tags=TAGS, query=SiteFilter)
def site_counts(query: SiteFilter) -> Response:
    """Counts by status of the sites the filter selects (plus total and overdue)."""
    return jsonify(counts_by_status(session(), query, clock.today(), current_actor()))


def _created(site: Site, actor: Actor) -> Response:
    """201 with the new site as GeoJSON, where it lives and its version."""
    feature = sites.site_feature(session(), site.id, clock.today(), True, actor)
    return _geojson(
        feature,
        201,
        {"Location": url_for("api.get_site", site_id=site.id), "ETag": f'"{site.version}"'},
    )


@bp.post("/sites")
@allow(*SITE_STAFF)
@operation(
    "登记点位（街道由坐标确定）",
    "createSite",
    tags=TAGS,
    body=SiteCreate,
    errors=[409],
    replies=[Reply(201, "created", Feature, GEOJSON)],
)
def create_site(body: SiteCreate) -> Response:
    actor = current_actor()
    site = sites.create_site(session(), body.given(), actor)
    return _created(site, actor)


@bp.post("/sites/historical")
@allow(*DISTRICT)
@operation(
    "登记系统启用前已销账的历史点位（区级管理员；须填历史来源）",
    "createHistoricalClosure",
    tags=TAGS,
    body=HistoricalSiteCreate,
    errors=[409],
    replies=[Reply(201, "created", Feature, GEOJSON)],
)
def create_historical_closure(body: HistoricalSiteCreate) -> Response:
    actor = current_actor()
    site = sites.create_historical_closure(session(), body.given(), actor)
    return _created(site, actor)


@bp.get("/sites/historical")
@allow(*SITE_STAFF)
@operation("历史销账点位（单列；未验收照片的不计入有据销账）", "listHistoricalClosures", tags=TAGS)
def list_historical_closures() -> Response:
    rows = sites.historical_closures(session(), current_actor())
    return jsonify(
        {
            "sites": rows,
            "total": len(rows),
            "pending": sum(1 for r in rows if not r["accepted"]),
        }
    )


@bp.get("/sites/<int:site_id>")
@allow(*API_READERS)
@operation(
    "一个点位及其历史", "getSite", tags=TAGS, replies=[Reply(200, "Feature", Feature, GEOJSON)]
)
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
@operation("点位历史", "getSiteHistory", tags=TAGS)
def get_site_history(site_id: int) -> Response:
    """The history stays readable after a soft delete."""
    events = sites.site_history(session(), site_id, current_actor())
    return jsonify({"site_id": site_id, "events": events})


def _version_from_request(given: dict[str, Any]) -> Any:
    if "version" in given:
        return given["version"]
    if_match = (request.headers.get("If-Match") or "").strip()
    return if_match.removeprefix("W/").strip('"') or None


@bp.patch("/sites/<int:site_id>")
@allow(*DISTRICT, "street_officer")
@operation(
    "修改点位（乐观并发：带上 version 或 If-Match）",
    "updateSite",
    tags=TAGS,
    body=SiteUpdate,
    errors=[409],
    headers={"If-Match": {"schema": {"type": "string"}, "description": "读取时的 ETag"}},
    replies=[Reply(200, "updated", Feature, GEOJSON)],
)
def update_site(site_id: int, body: SiteUpdate) -> Response:
    raw = body.given()
    if "version" not in raw:
        raw["version"] = _version_from_request(raw)
    reason = raw.pop("reason", "") or ""
    if not isinstance(reason, str):
        raise ValidationError("修改原因 reason 必须是文字", "reason")
    actor = current_actor()
    site = sites.update_site(session(), site_id, raw, actor, reason)
    feature = sites.site_feature(session(), site.id, clock.today(), True, actor)
    return _geojson(feature, headers={"ETag": f'"{site.version}"'})


@bp.delete("/sites/<int:site_id>")
@allow(*DISTRICT)
@operation(
    "删除点位（软删除，须说明原因）",
    "deleteSite",
    tags=TAGS,
    body=SiteDelete,
    body_required=False,
    errors=[409],
)
def delete_site(site_id: int, body: SiteDelete | None) -> Response:
    reason = body.reason if body is not None else request.args.get("reason", "")
    version = body.version if body is not None and body.version is not None else None
    if version is None:
        version = _version_from_request({})
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
@operation(
    "导入台账（CSV/GBK CSV、.xlsx、GeoJSON；全部成功或全部不导入）",
    "importSites",
    tags=TAGS,
    form=ImportForm,
    replies=[Reply(201, "imported"), Reply(200, "dry run: checked, nothing written")],
)
def import_sites(form: ImportForm) -> Response:
    crs = (form.crs or request.args.get("crs") or "wgs84").strip().lower()
    dry_run = (form.dry_run or request.args.get("dry_run") or "").lower() in ("1", "true", "yes")
    report = site_import.import_sites(
        session(),
        form.file.read(),
        form.file.filename or "",
        current_actor(),
        crs=crs,
        dry_run=dry_run,
        synonyms=current_app.config.get("KIND_SYNONYMS"),
    )
    return jsonify(report.to_dict()), (200 if dry_run else 201)
