"""Patrols (巡查) in the JSON API under /api/v1: plans (preview, save, list, read, GPX and
GeoJSON for the field), the patrol log (start, tick stops, finish), findings, coverage.

Registered as the child "api" of the blueprint "patrol" (endpoints `patrol.api.*`). Requests
and answers are declared in patrol/schemas.py; the rules live in the services.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, url_for

from gis_app.core import basemap, idempotency
from gis_app.core.schemas import FeatureCollection
from gis_app.features.patrol import assign, coverage, findings, gpx, plans
from gis_app.features.patrol.context import (
    district,
    duplicate_metres,
    patrol_doc,
    speeds,
    uploads,
)
from gis_app.features.patrol.schemas import (
    FindingConflict,
    FindingForm,
    FindingRecord,
    PatrolAssign,
    PatrolCoverage,
    PatrolCoverageQuery,
    PatrolCreated,
    PatrolDocument,
    PatrolList,
    PatrolListQuery,
    PatrolNotCreated,
    PatrolOfflinePack,
    PatrolPlan,
    PatrolPlanCreate,
    PatrolPlanPreview,
    PatrolStaleQuery,
    PatrolStaleStreets,
    PatrolStopVisit,
)
from gis_app.features.photos.service import latest_photo_ids, limits_for, store_for
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session
from gis_app.http.idempotency import idempotent
from gis_app.http.schemas import GEOJSON, Reply, operation

bp = Blueprint("api", __name__, url_prefix="/api/v1")
IDEMPOTENCY_HEADER = {
    idempotency.HEADER: {
        "schema": {"type": "string", "maxLength": 255},
        "description": "幂等键：离线队列重发时同一键只执行一次，返回第一次的答复",
    }
}
#: who patrols: the district office, the street offices and their inspectors (own street)
STAFF = SITE_STAFF
TAGS = ("patrol",)
LEAFLET_IMAGES = ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png",
                  "marker-shadow.png")  # fmt: skip
GPX = "application/gpx+xml"


@bp.post("/patrols/preview")
@allow(*STAFF)
@operation(
    "预览巡查计划：范围内按优先类别选出的点位与路线（不保存）",
    "previewPatrol",
    tags=TAGS,
    body=PatrolPlanPreview,
    replies=[Reply(200, "计划（未保存）", PatrolPlan)],
)
def api_preview(body: PatrolPlanPreview) -> Response:
    """The stops and route a plan would get; nothing is written."""
    plan = plans.build_plan(session(), body.given(), current_actor(), district(), speeds=speeds())
    discard()
    return jsonify(plan.as_dict())


@bp.post("/patrols")
@allow(*STAFF)
@operation(
    "制定并保存巡查计划（范围内无点位时 created=false 并说明）",
    "createPatrol",
    tags=TAGS,
    body=PatrolPlanCreate,
    replies=[
        Reply(201, "已保存", PatrolCreated),
        Reply(200, "范围内无点位：未保存", PatrolNotCreated),
    ],
)
def api_create(body: PatrolPlanCreate) -> Response:
    patrol, plan = plans.create_patrol(
        session(), body.given(), current_actor(), district(), speeds=speeds()
    )
    if patrol is None:
        return jsonify({"created": False, "message": plan.message, "plan": plan.as_dict()})
    response = jsonify({"created": True, **patrol_doc(patrol.id)})
    response.status_code = 201
    response.headers["Location"] = url_for("patrol.api.api_patrol", patrol_id=patrol.id)
    return response


@bp.post("/patrols/assign")
@allow(*assign.ASSIGNERS)
@operation(
    "把所选点位交给巡查：新建（执法队员与日期）或加入尚未开始的巡查（路线重新规划）",
    "assignPatrol",
    tags=TAGS,
    body=PatrolAssign,
    replies=[
        Reply(201, "已新建巡查，点位即所选点位", PatrolCreated),
        Reply(200, "已加入巡查", PatrolDocument),
    ],
    errors=(404, 409),  # no such patrol (or not the actor's); the patrol has started
)
def api_assign(body: PatrolAssign) -> Response:
    done = assign.assign_sites(
        session(), body.given(), current_actor(), district(), speeds=speeds()
    )
    doc = patrol_doc(done.patrol.id)
    if not done.created:
        return jsonify(doc)
    response = jsonify({"created": True, **doc})
    response.status_code = 201
    response.headers["Location"] = url_for("patrol.api.api_patrol", patrol_id=done.patrol.id)
    return response


@bp.get("/patrols")
@allow(*STAFF)
@operation(
    "巡查记录：谁在何时巡查了哪个范围",
    "listPatrols",
    tags=TAGS,
    query=PatrolListQuery,
    replies=[Reply(200, "巡查记录（最新在前）", PatrolList)],
)
def api_list(query: PatrolListQuery) -> Response:
    return jsonify({"patrols": plans.list_patrols(session(), current_actor(), query.street)})


@bp.get("/patrols/<int:patrol_id>")
@allow(*STAFF)
@operation(
    "巡查计划详情（点位顺序、路线）",
    "getPatrol",
    tags=TAGS,
    replies=[Reply(200, "巡查", PatrolDocument)],
)
def api_patrol(patrol_id: int) -> Response:
    return jsonify(patrol_doc(patrol_id))


@bp.get("/patrols/<int:patrol_id>/route.gpx")
@allow(*STAFF)
@operation(
    "路线 GPX（点位为航点，另含路线与轨迹）",
    "patrolGpx",
    tags=TAGS,
    replies=[Reply(200, "GPX 1.1", media=GPX)],
)
def api_gpx(patrol_id: int) -> Response:
    doc = patrol_doc(patrol_id)
    return Response(
        gpx.to_gpx(doc),
        mimetype=GPX,
        headers={"Content-Disposition": f'attachment; filename="patrol-{patrol_id}.gpx"'},
    )


@bp.get("/patrols/<int:patrol_id>/route.geojson")
@allow(*STAFF)
@operation(
    "路线 GeoJSON（RFC 7946）",
    "patrolGeojson",
    tags=TAGS,
    replies=[
        Reply(200, "路线（LineString）与起点、点位、终点（Point）", FeatureCollection, GEOJSON)
    ],
)
def api_geojson(patrol_id: int) -> Response:
    response = jsonify(gpx.to_geojson(patrol_doc(patrol_id)))
    response.mimetype = GEOJSON
    return response


@bp.get("/patrols/<int:patrol_id>/offline")
@allow(*STAFF)
@operation(
    "带走巡查（离线用）：手机须预先保存的页面、点位详情与照片缩略图的地址",
    "patrolOfflinePack",
    tags=TAGS,
    replies=[Reply(200, "离线包清单", PatrolOfflinePack)],
)
def api_offline(patrol_id: int) -> Response:
    doc = patrol_doc(patrol_id)
    pages = [
        url_for("patrol.pages.index"),
        url_for("patrol.pages.patrol", patrol_id=patrol_id),
        url_for("patrol.pages.finding_form", patrol_id=patrol_id),
    ]
    sites = [stop["site_id"] for stop in doc["stops"]]
    pages += [url_for("site_pages.site_page", site_id=site_id) for site_id in sites]
    thumbs = [
        url_for("photos.photo_thumb", photo_id=photo_id)
        for photo_id in latest_photo_ids(session(), sites)
    ]
    return jsonify(
        {
            "patrol_id": patrol_id,
            "title": doc["title"],
            "status": doc["status"],
            "pages": pages,
            "thumbnails": thumbs,
            "files": [  # what Leaflet loads by itself (its stylesheet names them)
                url_for("static", filename=f"vendor/leaflet/images/{name}")
                for name in LEAFLET_IMAGES
            ],
            "basemap": _basemap_tiles(doc),
        }
    )


def _basemap_tiles(doc: dict) -> list[str]:
    """The imported basemap's tiles over the patrol's area at the field's zooms (13–17)."""
    points = [(s["lon"], s["lat"]) for s in doc["stops"]]
    area = doc.get("area") or {}
    coords = area.get("coordinates") or []
    flat = coords
    while flat and isinstance(flat[0], list) and isinstance(flat[0][0], list):
        flat = [p for part in flat for p in part]
    points += [tuple(p[:2]) for p in flat if isinstance(p, list) and len(p) >= 2]
    if not points:
        return []
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    root = Path(current_app.config["DATA_DIR"]) / "basemap"
    info = basemap.current(root)
    if info is None:
        return []
    tiles = basemap.tiles_over(root, (min(lons), min(lats), max(lons), max(lats)), range(13, 18))
    return [f"/basemap/tiles/{z}/{x}/{y}.{info.format}" for z, x, y in tiles]


@bp.post("/patrols/<int:patrol_id>/start")
@allow(*STAFF)
@operation(
    "开始巡查",
    "startPatrol",
    tags=TAGS,
    errors=[409],
    replies=[Reply(200, "巡查", PatrolDocument)],
)
def api_start(patrol_id: int) -> Response:
    plans.start_patrol(session(), patrol_id, current_actor())
    return jsonify(patrol_doc(patrol_id))


@bp.post("/patrols/<int:patrol_id>/finish")
@allow(*STAFF)
@operation(
    "结束巡查",
    "finishPatrol",
    tags=TAGS,
    errors=[409],
    replies=[Reply(200, "巡查", PatrolDocument)],
)
def api_finish(patrol_id: int) -> Response:
    plans.finish_patrol(session(), patrol_id, current_actor())
    return jsonify(patrol_doc(patrol_id))


@bp.post("/patrols/<int:patrol_id>/stops/<int:stop_id>/visit")
@allow(*STAFF)
@operation(
    "勾选已到点位",
    "visitStop",
    tags=TAGS,
    body=PatrolStopVisit,
    body_required=False,
    errors=[409],
    headers=IDEMPOTENCY_HEADER,
    replies=[Reply(200, "巡查", PatrolDocument)],
)
@idempotent
def api_visit(patrol_id: int, stop_id: int, body: PatrolStopVisit | None) -> Response:
    visit = body or PatrolStopVisit()
    plans.tick_stop(
        session(),
        patrol_id,
        stop_id,
        current_actor(),
        visit.visited,
        visit.note,
        visit.recorded_at,
    )
    return jsonify(patrol_doc(patrol_id))


@bp.get("/patrols/coverage")
@allow(*STAFF)
@operation(
    "巡查覆盖率：各街道某 ISO 周在办点位被巡查到的比例；N 天未巡查的街道",
    "patrolCoverage",
    tags=TAGS,
    query=PatrolCoverageQuery,
    replies=[Reply(200, "覆盖率", PatrolCoverage)],
)
def api_coverage(query: PatrolCoverageQuery) -> Response:
    actor = current_actor()
    return jsonify(
        {
            **coverage.weekly_coverage(session(), actor, district(), query.week),
            "stale": coverage.stale_streets(session(), actor, district(), query.days),
        }
    )


@bp.get("/patrols/stale")
@allow(*STAFF)
@operation(
    "最近 N 天没有巡查的街道",
    "staleStreets",
    tags=TAGS,
    query=PatrolStaleQuery,
    replies=[Reply(200, "久未巡查的街道", PatrolStaleStreets)],
)
def api_stale(query: PatrolStaleQuery) -> Response:
    return jsonify(coverage.stale_streets(session(), current_actor(), district(), query.days))


@bp.post("/findings")
@allow(*STAFF)
@operation(
    "记录巡查发现：新点位（新发现）、并入附近点位或回潮重新打开",
    "createFinding",
    tags=TAGS,
    form=FindingForm,
    headers=IDEMPOTENCY_HEADER,
    replies=[
        Reply(201, "已记录", FindingRecord),
        Reply(
            409,
            "附近已有点位：candidates 列出，须确认 attach_to 或 force_reason（或巡查已结束）",
            FindingConflict,
        ),
    ],
)
@idempotent
def api_finding(form: FindingForm) -> Response:
    """multipart: lon, lat, note, photos (one or more files), and to confirm a nearby site:
    attach_to (that site) or force_reason (a new site all the same)."""
    result = findings.record_finding(
        session(),
        store_for(current_app.config),
        limits_for(current_app.config),
        current_actor(),
        form.given(),
        uploads(),  # every file: the declared form holds the first of each field only
        duplicate_metres(),
    )
    response = jsonify(findings.get_finding(session(), result.finding.id, current_actor()))
    response.status_code = 201
    return response


@bp.get("/findings/<int:finding_id>")
@allow(*STAFF)
@operation(
    "巡查发现详情",
    "getFinding",
    tags=TAGS,
    replies=[Reply(200, "巡查发现", FindingRecord)],
)
def api_get_finding(finding_id: int) -> Response:
    return jsonify(findings.get_finding(session(), finding_id, current_actor()))
