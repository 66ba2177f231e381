"""Patrols (巡查) on the web: JSON API under /api/v1 and Chinese pages under /patrols.

One parent blueprint ``patrol`` holds both (``patrol.api.*`` and ``patrol.pages.*``).
``openapi_paths()`` gives the API's part of the OpenAPI document. Parsing and HTTP only:
the rules live in gis_app/services/patrol.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from gis_app.core import clock
from gis_app.core.errors import AppError, BadRequest, Conflict
from gis_app.features.ledger.permissions import own_street
from gis_app.features.maps import service as map_data
from gis_app.features.patrol import coverage, findings, gpx, plans
from gis_app.features.patrol.areas import KINDS
from gis_app.features.patrol.priorities import CLASSES, DEFAULT_ORDER
from gis_app.features.photos.service import limits_for, store_for
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.openapi_legacy import operation
from gis_app.http.parsing import json_body
from gis_app.http.security import csp_nonce
from layers.patrol_map import base_map, fit, outline_points, patrol_map
from layers.site_map import render_map

bp = Blueprint("patrol", __name__, template_folder="templates")
api = Blueprint("api", __name__, url_prefix="/api/v1")
pages = Blueprint("pages", __name__, url_prefix="/patrols")
#: who patrols: the district office, the street offices and their inspectors (own street)
STAFF = SITE_STAFF
GEOJSON = "application/geo+json"
GPX = "application/gpx+xml"


def _district() -> str:
    return current_app.config["DISTRICT_CODE"]


def _speeds() -> tuple[float, float]:
    """The configured walking and cycling speeds (km/h) of the routes' estimated times."""
    return float(current_app.config["PATROL_WALK_KMH"]), float(
        current_app.config["PATROL_BIKE_KMH"]
    )


def _duplicate_metres() -> float:
    return float(current_app.config["PATROL_DUPLICATE_METRES"])


def _doc(patrol_id: int) -> dict[str, Any]:
    actor = current_actor()
    patrol = plans.get_patrol(session(), patrol_id, actor)
    return plans.patrol_dict(session(), patrol, actor)


def _uploads() -> list[findings.Upload]:
    files = request.files.getlist("photos") + request.files.getlist("file")
    return [findings.Upload(f.read(), f.filename) for f in files if f and f.filename]


def _finding_raw() -> dict[str, Any]:
    names = (
        "lon",
        "lat",
        "note",
        "address",
        "kind",
        "disposition",
        "community",
        "attach_to",
        "force_reason",
        "patrol_id",
    )
    return {n: request.form.get(n) for n in names if request.form.get(n) not in (None, "")}


# ---------------------------------------------------------------- JSON API


@api.post("/patrols/preview")
@allow(*STAFF)
def api_preview() -> Response:
    """The stops and route a plan would get; nothing is written."""
    plan = plans.build_plan(session(), json_body(), current_actor(), _district(), speeds=_speeds())
    session().rollback()
    return jsonify(plan.as_dict())


@api.post("/patrols")
@allow(*STAFF)
def api_create() -> Response:
    patrol, plan = plans.create_patrol(
        session(), json_body(), current_actor(), _district(), speeds=_speeds()
    )
    if patrol is None:
        return jsonify({"created": False, "message": plan.message, "plan": plan.as_dict()})
    response = jsonify({"created": True, **_doc(patrol.id)})
    response.status_code = 201
    response.headers["Location"] = url_for("patrol.api.api_patrol", patrol_id=patrol.id)
    return response


@api.get("/patrols")
@allow(*STAFF)
def api_list() -> Response:
    street = (request.args.get("street") or "").strip() or None
    return jsonify({"patrols": plans.list_patrols(session(), current_actor(), street)})


@api.get("/patrols/<int:patrol_id>")
@allow(*STAFF)
def api_patrol(patrol_id: int) -> Response:
    return jsonify(_doc(patrol_id))


@api.get("/patrols/<int:patrol_id>/route.gpx")
@allow(*STAFF)
def api_gpx(patrol_id: int) -> Response:
    doc = _doc(patrol_id)
    return Response(
        gpx.to_gpx(doc),
        mimetype=GPX,
        headers={"Content-Disposition": f'attachment; filename="patrol-{patrol_id}.gpx"'},
    )


@api.get("/patrols/<int:patrol_id>/route.geojson")
@allow(*STAFF)
def api_geojson(patrol_id: int) -> Response:
    response = jsonify(gpx.to_geojson(_doc(patrol_id)))
    response.mimetype = GEOJSON
    return response


@api.post("/patrols/<int:patrol_id>/start")
@allow(*STAFF)
def api_start(patrol_id: int) -> Response:
    plans.start_patrol(session(), patrol_id, current_actor())
    return jsonify(_doc(patrol_id))


@api.post("/patrols/<int:patrol_id>/finish")
@allow(*STAFF)
def api_finish(patrol_id: int) -> Response:
    plans.finish_patrol(session(), patrol_id, current_actor())
    return jsonify(_doc(patrol_id))


@api.post("/patrols/<int:patrol_id>/stops/<int:stop_id>/visit")
@allow(*STAFF)
def api_visit(patrol_id: int, stop_id: int) -> Response:
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象", "body")
    plans.tick_stop(
        session(), patrol_id, stop_id, current_actor(), body.get("visited", True), body.get("note")
    )
    return jsonify(_doc(patrol_id))


@api.get("/patrols/coverage")
@allow(*STAFF)
def api_coverage() -> Response:
    monday = coverage.parse_week(request.args.get("week"))
    days = coverage.parse_days(request.args.get("days"))
    actor = current_actor()
    return jsonify(
        {
            **coverage.weekly_coverage(session(), actor, _district(), monday),
            "stale": coverage.stale_streets(session(), actor, _district(), days),
        }
    )


@api.get("/patrols/stale")
@allow(*STAFF)
def api_stale() -> Response:
    days = coverage.parse_days(request.args.get("days"))
    return jsonify(coverage.stale_streets(session(), current_actor(), _district(), days))


@api.post("/findings")
@allow(*STAFF)
def api_finding() -> Response:
    """multipart: lon, lat, note, photos (one or more files), and to confirm a nearby site:
    attach_to (that site) or force_reason (a new site all the same)."""
    result = findings.record_finding(
        session(),
        store_for(current_app.config),
        limits_for(current_app.config),
        current_actor(),
        _finding_raw(),
        _uploads(),
        _duplicate_metres(),
    )
    response = jsonify(findings.get_finding(session(), result.finding.id, current_actor()))
    response.status_code = 201
    return response


@api.get("/findings/<int:finding_id>")
@allow(*STAFF)
def api_get_finding(finding_id: int) -> Response:
    return jsonify(findings.get_finding(session(), finding_id, current_actor()))


# ---------------------------------------------------------------- pages


def _streets() -> dict[str, Any]:
    return map_data.outlines(session(), _district()).streets


def _leaflet() -> tuple[str, str]:
    return (
        url_for("static", filename="vendor/leaflet/leaflet.js"),
        url_for("static", filename="vendor/leaflet/leaflet.css"),
    )


@pages.get("/")
@allow(*STAFF)
def index() -> str:
    actor = current_actor()
    return render_template(
        "patrol/index.html",
        patrols=plans.list_patrols(session(), actor),
        stale=coverage.stale_streets(session(), actor, _district(), coverage.DEFAULT_STALE_DAYS),
    )


def _form_point(prefix: str) -> list[str] | None:
    lon = (request.form.get(f"{prefix}_lon") or "").strip()
    lat = (request.form.get(f"{prefix}_lat") or "").strip()
    return [lon, lat] if lon or lat else None


def _plan_raw_from_form() -> dict[str, Any]:
    """The planning form as the API's JSON request."""
    form = request.form
    kind = form.get("area_kind", "street")
    area: dict[str, Any] = {"kind": kind}
    if kind == "street":
        area["street"] = form.get("street") or own_street(current_actor())
    elif kind == "polygon":
        area["geometry"] = form.get("area_geometry") or None
        area["repair"] = form.get("repair", "1") != "0"
    elif kind == "circle":
        area["center"] = _form_point("center")
        area["radius_m"] = form.get("radius_m")
    elif kind == "bbox":
        area["bbox"] = form.get("bbox")
    order = [p for p in form.getlist("priority") if p]
    raw: dict[str, Any] = {
        "title": form.get("title", ""),
        "area": area,
        "priorities": order,
        "cap": form.get("cap"),
        "due_days": form.get("due_days"),
        "closed_days": form.get("closed_days"),
        "use_roads": form.get("use_roads") or None,
    }
    if form.get("start_mode") == "point":
        # no point given (the GPS failed, nothing typed): refused naming start, not the office
        raw["start"] = _form_point("start") or [None, None]
    end = _form_point("end")
    if end:
        raw["end"] = end
    return raw


def _plan_page(status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_actor()
    js, css = _leaflet()
    streets_fc = _streets()
    fmap = base_map(streets_fc, js, css)
    mine = own_street(actor)
    fit(  # a street role's own street, else the whole district
        fmap,
        [
            p
            for f in streets_fc["features"]
            if mine is None or f["properties"]["code"] == mine
            for p in outline_points(f["geometry"])
        ],
    )
    parts = render_map(fmap, csp_nonce())
    streets = [
        (f["properties"]["code"], f["properties"]["name"])
        for f in streets_fc["features"]
        if actor.is_district or f["properties"]["code"] == own_street(actor)
    ]
    html = render_template(
        "patrol/plan.html",
        parts=parts,
        map_name=fmap.get_name(),
        streets=streets,
        kinds=KINDS,
        classes=CLASSES,
        default_order=DEFAULT_ORDER,
        form=request.form,
        **context,
    )
    return html, status


@pages.get("/new")
@allow(*STAFF)
def plan_form() -> tuple[str, int]:
    return _plan_page()


@pages.post("/new")
@allow(*STAFF)
def plan_create() -> WerkzeugResponse | tuple[str, int]:
    try:
        patrol, plan = plans.create_patrol(
            session(), _plan_raw_from_form(), current_actor(), _district(), speeds=_speeds()
        )
    except AppError as exc:
        session().rollback()
        return _plan_page(exc.status, error=exc.message, error_field=exc.field)
    if patrol is None:
        return _plan_page(200, notice=plan.message)
    return redirect(url_for("patrol.pages.patrol", patrol_id=patrol.id), 303)


@pages.get("/<int:patrol_id>")
@allow(*STAFF)
def patrol(patrol_id: int) -> str:
    doc = _doc(patrol_id)
    js, css = _leaflet()
    parts = render_map(patrol_map(doc, _streets(), js, css), csp_nonce())
    return render_template(
        "patrol/route.html", doc=doc, parts=parts, notice=request.args.get("msg")
    )


@pages.get("/<int:patrol_id>/sheet")
@allow(*STAFF)
def sheet(patrol_id: int) -> str:
    return render_template("patrol/sheet.html", doc=_doc(patrol_id), printed=clock.local_now())


@pages.post("/<int:patrol_id>/start")
@allow(*STAFF)
def start(patrol_id: int) -> WerkzeugResponse:
    plans.start_patrol(session(), patrol_id, current_actor())
    return redirect(url_for("patrol.pages.patrol", patrol_id=patrol_id), 303)


@pages.post("/<int:patrol_id>/finish")
@allow(*STAFF)
def finish(patrol_id: int) -> WerkzeugResponse:
    plans.finish_patrol(session(), patrol_id, current_actor())
    return redirect(url_for("patrol.pages.patrol", patrol_id=patrol_id), 303)


@pages.post("/<int:patrol_id>/stops/<int:stop_id>/visit")
@allow(*STAFF)
def visit(patrol_id: int, stop_id: int) -> WerkzeugResponse:
    plans.tick_stop(
        session(),
        patrol_id,
        stop_id,
        current_actor(),
        request.form.get("visited", "1"),
        request.form.get("note"),
    )
    return redirect(
        url_for("patrol.pages.patrol", patrol_id=patrol_id, _anchor=f"stop-{stop_id}"), 303
    )


def _finding_page(status: int = 200, **context: Any) -> tuple[str, int]:
    patrol_id = request.values.get("patrol_id") or ""
    html = render_template(
        "patrol/finding.html",
        form=request.form,
        patrol_id=patrol_id,
        duplicate_metres=_duplicate_metres(),
        **context,
    )
    return html, status


@pages.get("/findings/new")
@allow(*STAFF)
def finding_form() -> tuple[str, int]:
    return _finding_page()


@pages.post("/findings/new")
@allow(*STAFF)
def finding_create() -> WerkzeugResponse | tuple[str, int]:
    try:
        result = findings.record_finding(
            session(),
            store_for(current_app.config),
            limits_for(current_app.config),
            current_actor(),
            _finding_raw(),
            _uploads(),
            _duplicate_metres(),
        )
    except Conflict as exc:
        session().rollback()
        return _finding_page(409, error=exc.message, candidates=exc.details.get("candidates"))
    except AppError as exc:
        session().rollback()
        return _finding_page(exc.status, error=exc.message, error_field=exc.field)
    label = findings.ACTIONS[result.finding.action]
    message = f"已记录巡查发现：{label}（点位 {result.site.code}）"
    if result.finding.patrol_id:
        return redirect(
            url_for("patrol.pages.patrol", patrol_id=result.finding.patrol_id, msg=message), 303
        )
    return redirect(url_for("site_pages.site_page", site_id=result.site.id), 303)


@pages.get("/coverage")
@allow(*STAFF)
def coverage_page() -> str:
    actor = current_actor()
    monday = coverage.parse_week(request.args.get("week"))
    days = coverage.parse_days(request.args.get("days"))
    return render_template(
        "patrol/coverage.html",
        cov=coverage.weekly_coverage(session(), actor, _district(), monday),
        stale=coverage.stale_streets(session(), actor, _district(), days),
        prev_week=coverage.week_label(monday.fromordinal(monday.toordinal() - 7)),
        next_week=coverage.week_label(monday.fromordinal(monday.toordinal() + 7)),
    )


bp.register_blueprint(api)
bp.register_blueprint(pages)


# ---------------------------------------------------------------- OpenAPI


def openapi_paths() -> dict[str, Any]:
    """The patrol part of the OpenAPI document (paths relative to /api/v1)."""

    op = operation

    def path_id(name: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}

    point = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    plan_schema = {
        "type": "object",
        "required": ["area"],
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "area": {
                "type": "object",
                "required": ["kind"],
                "description": "范围：街道 street、绘制多边形 polygon（GeoJSON，可有洞；"
                "自相交自动修复，"
                "repair=false 则拒绝）、圆 circle（center + radius_m，椭球面距离）、视野 bbox",
                "properties": {
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "street": {"type": "string"},
                    "geometry": {"type": "object"},
                    "repair": {"type": "boolean"},
                    "center": point,
                    "radius_m": {
                        "type": "number",
                        "exclusiveMinimum": True,
                        "minimum": 0,
                        "maximum": 5000,
                    },
                    "bbox": {"type": "array", "items": {"type": "number"}},
                },
            },
            "priorities": {
                "type": "array",
                "items": {"type": "string", "enum": list(CLASSES)},
                "description": "优先类别，按先后："
                + "；".join(f"{k} = {v}" for k, v in CLASSES.items()),
            },
            "cap": {"type": "integer", "minimum": 1, "maximum": 200},
            "due_days": {"type": "integer", "minimum": 0, "maximum": 365},
            "closed_days": {"type": "integer", "minimum": 1, "maximum": 365},
            "start": {"description": "起点 [经度, 纬度]；省略为街道办位置", **point},
            "end": {"description": "终点；省略则返回起点", **point},
            "use_roads": {"type": "boolean"},
        },
    }
    plan_body = {"required": True, "content": {"application/json": {"schema": plan_schema}}}
    patrol_id = path_id("patrol_id")
    finding_schema = {
        "type": "object",
        "required": ["lon", "lat", "note", "photos"],
        "properties": {
            "lon": {"type": "number"},
            "lat": {"type": "number"},
            "note": {"type": "string", "maxLength": 1000},
            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "address": {"type": "string"},
            "kind": {"type": "string"},
            "disposition": {"type": "string"},
            "patrol_id": {"type": "integer"},
            "attach_to": {"type": "integer", "description": "确认并入附近的点位（已销账则为回潮）"},
            "force_reason": {"type": "string", "description": "附近已有点位时另行登记的理由"},
        },
    }
    return {
        "/patrols/preview": {
            "post": op(
                "预览巡查计划：范围内按优先类别选出的点位与路线（不保存）",
                "previewPatrol",
                requestBody=plan_body,
            )
        },
        "/patrols": {
            "get": op(
                "巡查记录：谁在何时巡查了哪个范围",
                "listPatrols",
                parameters=[{"name": "street", "in": "query", "schema": {"type": "string"}}],
            ),
            "post": op(
                "制定并保存巡查计划（范围内无点位时 created=false 并说明）",
                "createPatrol",
                requestBody=plan_body,
                responses={
                    "201": {"description": "已保存"},
                    "200": {"description": "范围内无点位"},
                },
            ),
        },
        "/patrols/coverage": {
            "get": op(
                "巡查覆盖率：各街道某 ISO 周在办点位被巡查到的比例；N 天未巡查的街道",
                "patrolCoverage",
                parameters=[
                    {
                        "name": "week",
                        "in": "query",
                        "schema": {"type": "string"},
                        "example": "2026-W24",
                    },
                    {
                        "name": "days",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 366},
                    },
                ],
            )
        },
        "/patrols/stale": {
            "get": op(
                "最近 N 天没有巡查的街道",
                "staleStreets",
                parameters=[
                    {
                        "name": "days",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 366},
                    }
                ],
            )
        },
        "/patrols/{patrol_id}": {
            "get": op("巡查计划详情（点位顺序、路线）", "getPatrol", parameters=[patrol_id])
        },
        "/patrols/{patrol_id}/route.gpx": {
            "get": op("路线 GPX（点位为航点，另含路线与轨迹）", "patrolGpx", parameters=[patrol_id])
        },
        "/patrols/{patrol_id}/route.geojson": {
            "get": op("路线 GeoJSON（RFC 7946）", "patrolGeojson", parameters=[patrol_id])
        },
        "/patrols/{patrol_id}/start": {
            "post": op("开始巡查", "startPatrol", parameters=[patrol_id])
        },
        "/patrols/{patrol_id}/finish": {
            "post": op("结束巡查", "finishPatrol", parameters=[patrol_id])
        },
        "/patrols/{patrol_id}/stops/{stop_id}/visit": {
            "post": op(
                "勾选已到点位",
                "visitStop",
                parameters=[patrol_id, path_id("stop_id")],
                requestBody={
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "visited": {"type": "boolean"},
                                    "note": {"type": "string", "maxLength": 500},
                                },
                            }
                        }
                    }
                },
            )
        },
        "/findings": {
            "post": op(
                "记录巡查发现：新点位（新发现）、并入附近点位或回潮重新打开",
                "createFinding",
                requestBody={
                    "required": True,
                    "content": {"multipart/form-data": {"schema": finding_schema}},
                },
                responses={
                    "201": {"description": "已记录"},
                    "409": {
                        "description": "附近已有点位：candidates 列出，"
                        "须确认 attach_to 或 force_reason"
                    },
                },
            )
        },
        "/findings/{finding_id}": {
            "get": op("巡查发现详情", "getFinding", parameters=[path_id("finding_id")])
        },
    }
