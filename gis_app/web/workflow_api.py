"""JSON API of the rectification workflow under /api/v1: transitions, photos, steps,
extensions, monthly reports, campaign and statistics. Described in the OpenAPI document by
`openapi_paths()`."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from gis_app import clock
from gis_app.db import session
from gis_app.errors import Forbidden, ValidationError
from gis_app.services import (
    extensions,
    idempotency,
    photos,
    reports,
    statistics,
    steps,
    workflow,
)
from gis_app.services.permissions import can_see_sites, role_label
from gis_app.services.site_workflow import workflow_summary
from gis_app.web.access import API_READERS, OPEN_DATA, SITE_STAFF, allow
from gis_app.web.actor import current_actor
from gis_app.web.api import _json_body
from gis_app.web.workflow_pages import photo_limits, photo_store

bp = Blueprint("workflow_api", __name__, url_prefix="/api/v1")


def _site_state(site: Any) -> dict[str, Any]:
    return {
        "id": site.id,
        "code": site.code,
        "status": site.status,
        "version": site.version,
        "committed_deadline": site.committed_deadline.isoformat()
        if site.committed_deadline
        else None,
        "current_deadline": site.current_deadline.isoformat() if site.current_deadline else None,
    }


def _summary(site_id: int) -> dict[str, Any]:
    return workflow_summary(session(), site_id, current_actor(), clock.today())


def _reader() -> None:
    actor = current_actor()
    if not can_see_sites(actor):
        raise Forbidden(f"无权查看（当前身份：{role_label(actor)}）", "role")


@bp.get("/workflow/transitions")
@allow(*API_READERS)
def transitions_table() -> Response:
    return jsonify({"transitions": workflow.moves_table()})


@bp.get("/sites/<int:site_id>/workflow")
@allow(*SITE_STAFF)
def site_workflow(site_id: int) -> Response:
    _reader()
    return jsonify(_summary(site_id))


@bp.post("/sites/<int:site_id>/transitions")
@allow(*SITE_STAFF)
def post_transition(site_id: int) -> Response:
    body = _json_body()
    target = body.get("to")
    if not isinstance(target, str):
        raise ValidationError("缺少目标状态 to", "to")
    site = workflow.transition(
        session(), site_id, current_actor(), target, body.get("reason", ""), body.get("version")
    )
    return jsonify(_site_state(site))


@bp.post("/sites/<int:site_id>/reopen")
@allow(*SITE_STAFF)
def post_reopen(site_id: int) -> Response:
    body = _json_body()
    site = workflow.reopen(
        session(),
        site_id,
        current_actor(),
        body.get("reason", ""),
        body.get("cause", ""),
        body.get("version"),
    )
    return jsonify(_site_state(site))


@bp.get("/sites/<int:site_id>/acceptance")
@allow(*SITE_STAFF)
def get_acceptance(site_id: int) -> Response:
    """The newest before/after pair; for the district office this records that it saw them."""
    _reader()
    view = workflow.record_acceptance_view(session(), site_id, current_actor())
    data = _summary(site_id)
    return jsonify(
        {
            "site": data["site"],
            "before": data["photos"]["newest_before"],
            "after": data["photos"]["newest_after"],
            "view_recorded": view is not None,
            "viewed_at": view.viewed_at.isoformat() if view else None,
        }
    )


@bp.post("/sites/<int:site_id>/close")
@allow(*SITE_STAFF)
def post_close(site_id: int) -> Response:
    body = _json_body() if request.data else {}
    site = workflow.close(
        session(), site_id, current_actor(), body.get("comment", ""), body.get("version")
    )
    return jsonify(_site_state(site))


@bp.get("/sites/<int:site_id>/photos")
@allow(*SITE_STAFF)
def list_photos(site_id: int) -> Response:
    _reader()
    data = _summary(site_id)["photos"]
    return jsonify({k: data[k] for k in ("before", "after", "inspection")})


@bp.post("/sites/<int:site_id>/photos")
@allow(*SITE_STAFF)
def post_photo(site_id: int) -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("请上传照片（表单字段 file）", "file")
    step_raw = (request.form.get("step_id") or "").strip()
    try:
        step_id = int(step_raw) if step_raw else None
    except ValueError:
        raise ValidationError(f"步骤编号须是整数：{step_raw!r}", "step_id") from None
    kind = (request.form.get("kind") or "").strip()
    data = upload.read()
    actor = current_actor()
    key = idempotency.check_key(request.headers.get(idempotency.HEADER))
    if key is not None:
        print_ = idempotency.fingerprint(
            "POST", request.path, kind, str(step_id or ""), hashlib.sha256(data).digest()
        )
        replay = idempotency.claim(session(), actor, key, print_)
        if replay is not None:
            session().rollback()
            response = Response(replay.body, status=replay.status_code, mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            return response
    photo, created = photos.add_photo(
        session(),
        photo_store(),
        photo_limits(),
        site_id,
        actor,
        data,
        upload.filename,
        kind,
        step_id,
        commit=key is None,
    )
    response = jsonify(photos.photo_dict(session(), photo))
    response.status_code = 201 if created else 200
    if key is not None:
        idempotency.remember(
            session(),
            actor,
            key,
            print_,
            ("POST", request.path),
            (response.status_code, response.get_data(as_text=True)),
            photo.district_code,
        )
        session().commit()  # the photo, its event and the stored answer: one transaction
    return response


@bp.get("/photos/<int:photo_id>")
@allow(*SITE_STAFF)
def get_photo(photo_id: int) -> Response:
    photo = photos.get_photo(session(), photo_id, current_actor())
    return jsonify(photos.photo_dict(session(), photo))


@bp.get("/sites/<int:site_id>/steps")
@allow(*SITE_STAFF)
def list_steps(site_id: int) -> Response:
    _reader()
    return jsonify({"steps": _summary(site_id)["steps"]})


@bp.put("/sites/<int:site_id>/steps")
@allow(*SITE_STAFF)
def put_steps(site_id: int) -> Response:
    body = _json_body()
    site = steps.set_plan(
        session(), site_id, current_actor(), body.get("steps"), body.get("reason", "") or ""
    )
    today = clock.today()
    return jsonify(
        {
            "site": _site_state(site),
            "steps": [steps.step_dict(s, today) for s in steps.site_steps(session(), site.id)],
        }
    )


@bp.post("/steps/<int:step_id>/complete")
@allow(*SITE_STAFF)
def post_step_done(step_id: int) -> Response:
    body = _json_body()
    step = steps.complete_step(
        session(), step_id, current_actor(), body.get("note", ""), body.get("photo_id")
    )
    return jsonify(steps.step_dict(step, clock.today()))


@bp.get("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
def list_site_extensions(site_id: int) -> Response:
    _reader()
    return jsonify({"extensions": _summary(site_id)["extensions"]})


@bp.post("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
def post_extension(site_id: int) -> Response:
    body = _json_body()
    req = extensions.request_extension(
        session(),
        site_id,
        current_actor(),
        body.get("new_deadline"),
        body.get("reason"),
        body.get("plan"),
    )
    response = jsonify(extensions.request_dict(req))
    response.status_code = 201
    return response


@bp.get("/extensions")
@allow(*SITE_STAFF)
def list_extensions() -> Response:
    _reader()
    status = (request.args.get("status") or "").strip() or None
    street = (request.args.get("street") or "").strip() or None
    rows = extensions.list_requests(session(), current_actor(), status, street)
    return jsonify({"extensions": rows})


@bp.post("/extensions/<int:request_id>/decision")
@allow(*SITE_STAFF)
def post_decision(request_id: int) -> Response:
    body = _json_body()
    req = extensions.decide(
        session(), request_id, current_actor(), body.get("decision"), body.get("comment", "")
    )
    return jsonify(extensions.request_dict(req))


@bp.get("/reports")
@allow(*SITE_STAFF)
def reports_overview() -> Response:
    _reader()
    month = (
        reports.parse_month(request.args["month"])
        if request.args.get("month")
        else reports.current_month()
    )
    return jsonify(
        {
            "month": f"{month:%Y-%m}",
            "due_at": reports.due_at(month).isoformat(),
            "period": [d.isoformat() for d in reports.period(month)],
            "streets": reports.overview(session(), month, current_actor()),
        }
    )


@bp.get("/reports/<code>/<month_text>")
@allow(*SITE_STAFF)
def get_report(code: str, month_text: str) -> Response:
    _reader()
    month = reports.parse_month(month_text)
    return jsonify(reports.report_view(session(), code, month, current_actor()))


@bp.put("/reports/<code>/<month_text>")
@allow(*SITE_STAFF)
def put_report(code: str, month_text: str) -> Response:
    month = reports.parse_month(month_text)
    actor = current_actor()
    reports.save_report(session(), code, month, actor, _json_body().get("narrative"))
    return jsonify(reports.report_view(session(), code, month, actor))


@bp.post("/reports/<code>/<month_text>/submit")
@allow(*SITE_STAFF)
def submit_report(code: str, month_text: str) -> Response:
    month = reports.parse_month(month_text)
    body = _json_body()
    actor = current_actor()
    reports.save_report(session(), code, month, actor, body.get("narrative"), True)
    return jsonify(reports.report_view(session(), code, month, actor))


@bp.get("/campaign")
@allow(*API_READERS)
def campaign() -> Response:
    return jsonify(current_app.extensions["campaign"].status(clock.today()))


@bp.get("/statistics")
@allow(*SITE_STAFF, *OPEN_DATA)
def get_statistics() -> Response:
    # public figures (no personal data): the district, media, agencies; a street its own
    street = statistics.street_for(current_actor(), None)
    stats = statistics.street_stats(session(), clock.today(), street)
    return jsonify(
        {
            "today": clock.today().isoformat(),
            "district": statistics.district_totals(stats),
            "streets": stats,
            "ranking": [
                {"rank": r["rank"], "code": r["code"], "name": r["name"]}
                for r in statistics.ranking(stats)
            ],
            "lagging": [
                {"code": r["code"], "name": r["name"], "reasons": r["reasons"]}
                for r in statistics.lagging(stats)
            ],
        }
    )


@bp.get("/statistics/trend")
@allow(*SITE_STAFF, *OPEN_DATA)
def get_trend() -> Response:
    raw = request.args.get("months") or "12"
    if not raw.isdigit() or not 1 <= int(raw) <= 60:
        raise ValidationError("months 须是 1 到 60 的整数", "months")
    requested = (request.args.get("street") or "").strip() or None
    street = statistics.street_for(current_actor(), requested)
    rows = statistics.monthly_trend(session(), clock.today().replace(day=1), int(raw), street)
    return jsonify({"months": rows})


# ---------------------------------------------------------------- OpenAPI


def _err(*statuses: int) -> dict[str, Any]:
    text = {
        400: "请求无法解析",
        403: "角色或街道无权办理",
        404: "不存在",
        409: "状态冲突（不允许的状态变更、已审批、已报送）",
        413: "照片过大",
        422: "字段无效（field 指出哪个字段）",
    }
    return {
        str(s): {
            "description": text[s],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for s in statuses
    }


def _op(
    summary: str,
    op_id: str,
    *errors: int,
    body: dict | None = None,
    params: list | None = None,
    ok: str = "200",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "operationId": op_id,
        "tags": ["workflow"],
        "responses": {
            ok: {
                "description": "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **_err(*errors),
        },
    }
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _path_param(name: str, kind: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_STR = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_PLAN = {
    "type": "array",
    "minItems": 1,
    "maxItems": 20,
    "items": _obj(
        ["title", "due_date"], title={"type": "string", "maxLength": 100}, due_date=_DATE
    ),
}


def openapi_paths() -> dict[str, Any]:
    """The workflow's paths, merged into the document of gis_app/web/openapi.py."""
    site = [_path_param("site_id")]
    report = [_path_param("code", "string"), _path_param("month", "string")]
    multipart = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": _obj(
                    ["file", "kind"],
                    file={"type": "string", "format": "binary"},
                    kind={"type": "string", "enum": ["before", "after", "inspection"]},
                    step_id={"type": "integer"},
                )
            }
        },
    }
    photo_post = _op(
        "上传照片（JPEG/PNG/WebP；同一照片重复上传返回已有记录 200）",
        "uploadPhoto",
        400,
        403,
        404,
        409,
        413,
        422,
        params=site,
        ok="201",
    )
    photo_post["requestBody"] = multipart
    photo_post["parameters"] = [
        *site,
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": (
                "幂等键（如 UUID）：同一用户用同一键重试时只保存一次，并返回第一次的应答"
                "（24 小时内有效）；同一键用于不同的请求返回 422"
            ),
            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
        },
    ]
    photo_post["responses"]["200"] = {
        "description": "同一照片已上传过（或同一 Idempotency-Key 的重试）：返回已有记录",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    return {
        "/workflow/transitions": {"get": _op("状态流转规则表", "transitionTable")},
        "/sites/{site_id}/workflow": {
            "get": _op(
                "点位的治理流程信息（照片、步骤、延期、可办理的操作）",
                "siteWorkflow",
                403,
                404,
                params=site,
            )
        },
        "/sites/{site_id}/transitions": {
            "post": _op(
                "状态流转（已建档→治理中→待验收→已销账）",
                "transition",
                400,
                403,
                404,
                409,
                422,
                params=site,
                body=_obj(["to"], to=_STR, reason=_STR, version={"type": "integer"}),
            )
        },
        "/sites/{site_id}/reopen": {
            "post": _op(
                "重新打开已销账点位（抽查不合格 spot_check／回潮 rebound，须说明原因）",
                "reopen",
                400,
                403,
                404,
                409,
                422,
                params=site,
                body=_obj(
                    ["cause", "reason"],
                    cause={"type": "string", "enum": ["spot_check", "rebound"]},
                    reason=_STR,
                ),
            )
        },
        "/sites/{site_id}/acceptance": {
            "get": _op(
                "验收：最新整改前后照片（区办查看即记录）", "acceptance", 403, 404, params=site
            )
        },
        "/sites/{site_id}/close": {
            "post": _op(
                "销账（区办，须先查看最新照片对）",
                "closeSite",
                400,
                403,
                404,
                409,
                422,
                params=site,
                body=_obj([], comment=_STR, version={"type": "integer"}),
            )
        },
        "/sites/{site_id}/photos": {
            "get": _op("点位照片", "listPhotos", 403, 404, params=site),
            "post": photo_post,
        },
        "/photos/{photo_id}": {
            "get": _op(
                "照片信息（EXIF 时间、GPS、警示）",
                "getPhoto",
                403,
                404,
                params=[_path_param("photo_id")],
            )
        },
        "/sites/{site_id}/steps": {
            "get": _op("分步治理方案", "listSteps", 403, 404, params=site),
            "put": _op(
                "制定/调整方案（未完成的步骤整体替换；最后一步日期即当前期限）",
                "setSteps",
                400,
                403,
                404,
                409,
                422,
                params=site,
                body=_obj(["steps"], steps=_PLAN, reason=_STR),
            ),
        },
        "/steps/{step_id}/complete": {
            "post": _op(
                "完成步骤（说明或照片作为佐证）",
                "completeStep",
                400,
                403,
                404,
                409,
                422,
                params=[_path_param("step_id")],
                body=_obj([], note=_STR, photo_id={"type": "integer"}),
            )
        },
        "/sites/{site_id}/extensions": {
            "get": _op("点位的延期申请记录", "siteExtensions", 403, 404, params=site),
            "post": _op(
                "申请延期（街道）",
                "requestExtension",
                400,
                403,
                404,
                409,
                422,
                params=site,
                ok="201",
                body=_obj(
                    ["new_deadline", "reason", "plan"], new_deadline=_DATE, reason=_STR, plan=_PLAN
                ),
            ),
        },
        "/extensions": {
            "get": _op(
                "延期申请列表",
                "listExtensions",
                403,
                422,
                params=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["pending", "approved", "rejected"]},
                    },
                    {"name": "street", "in": "query", "schema": _STR},
                ],
            )
        },
        "/extensions/{request_id}/decision": {
            "post": _op(
                "审批延期申请（区办；驳回须填意见）",
                "decideExtension",
                400,
                403,
                404,
                409,
                422,
                params=[_path_param("request_id")],
                body=_obj(
                    ["decision"],
                    decision={"type": "string", "enum": ["approve", "reject"]},
                    comment=_STR,
                ),
            )
        },
        "/reports": {
            "get": _op(
                "某月各街道月报报送情况",
                "reportsOverview",
                403,
                422,
                params=[
                    {
                        "name": "month",
                        "in": "query",
                        "schema": {"type": "string", "pattern": r"^\d{4}-\d{1,2}$"},
                    }
                ],
            )
        },
        "/reports/{code}/{month}": {
            "get": _op(
                "一个街道某月的月报（未报送时为系统草稿）",
                "getReport",
                403,
                404,
                422,
                params=report,
            ),
            "put": _op(
                "保存月报草稿（街道）",
                "saveReport",
                400,
                403,
                404,
                409,
                422,
                params=report,
                body=_obj([], narrative=_STR),
            ),
        },
        "/reports/{code}/{month}/submit": {
            "post": _op(
                "报送月报（截止当月25日17:00，逾期标注）",
                "submitReport",
                400,
                403,
                404,
                409,
                422,
                params=report,
                body=_obj(["narrative"], narrative=_STR),
            )
        },
        "/campaign": {"get": _op("专项行动当前阶段与剩余天数", "campaign")},
        "/statistics": {"get": _op("各街道统计、排名、落后街道", "statistics", 403)},
        "/statistics/trend": {
            "get": _op(
                "按月趋势",
                "trend",
                403,
                404,
                422,
                params=[
                    {
                        "name": "months",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 60},
                    },
                    {"name": "street", "in": "query", "schema": _STR},
                ],
            )
        },
    }
