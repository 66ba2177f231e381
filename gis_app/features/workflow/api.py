"""JSON API of the rectification workflow under /api/v1: the transitions table, a site's
workflow summary, transitions, reopening, the acceptance view and closing. Described in the
OpenAPI document by `openapi_paths()`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from gis_app.core import clock
from gis_app.core.errors import ValidationError
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.features.ledger.service import site_state
from gis_app.features.workflow import service as workflow
from gis_app.features.workflow.summary import workflow_summary
from gis_app.http.access import API_READERS, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.parsing import json_body

bp = Blueprint("workflow_api", __name__, url_prefix="/api/v1")


def _summary(site_id: int) -> dict[str, Any]:
    return workflow_summary(session(), site_id, current_actor(), clock.today())


@bp.get("/workflow/transitions")
@allow(*API_READERS)
def transitions_table() -> Response:
    return jsonify({"transitions": workflow.moves_table()})


@bp.get("/sites/<int:site_id>/workflow")
@allow(*SITE_STAFF)
def site_workflow(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(_summary(site_id))


@bp.post("/sites/<int:site_id>/transitions")
@allow(*SITE_STAFF)
def post_transition(site_id: int) -> Response:
    body = json_body()
    target = body.get("to")
    if not isinstance(target, str):
        raise ValidationError("缺少目标状态 to", "to")
    site = workflow.transition(
        session(), site_id, current_actor(), target, body.get("reason", ""), body.get("version")
    )
    return jsonify(site_state(site))


@bp.post("/sites/<int:site_id>/reopen")
@allow(*SITE_STAFF)
def post_reopen(site_id: int) -> Response:
    body = json_body()
    site = workflow.reopen(
        session(),
        site_id,
        current_actor(),
        body.get("reason", ""),
        body.get("cause", ""),
        body.get("version"),
    )
    return jsonify(site_state(site))


@bp.get("/sites/<int:site_id>/acceptance")
@allow(*SITE_STAFF)
def get_acceptance(site_id: int) -> Response:
    """The newest before/after pair; for the district office this records that it saw them."""
    require_site_reader(current_actor())
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
    body = json_body(optional=True)
    site = workflow.close(
        session(), site_id, current_actor(), body.get("comment", ""), body.get("version")
    )
    return jsonify(site_state(site))


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
    """The workflow's paths, merged into the document of gis_app/http/openapi.py."""
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
