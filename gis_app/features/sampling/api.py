"""Spot checks (抽查) in the JSON API under /api/v1: the frame, draws and their audit, the
double-random assignment, results, estimates, the published summary, the report, and the
inspectors' pool. Registered under the feature's blueprint `sampling` (`sampling.api.*`)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, url_for

from gis_app.core import idempotency
from gis_app.core.schemas import Schema
from gis_app.features.photos.service import limits_for, store_for
from gis_app.features.sampling import inspectors, service
from gis_app.features.sampling.frame import FrameSpec, frame_summary
from gis_app.features.sampling.permissions import OFFICE, PUBLISHED, WORKERS
from gis_app.features.sampling.report import XLSX, content_disposition
from gis_app.features.sampling.schemas import (
    AssignBody,
    Audit,
    BatchDocument,
    BatchList,
    DrawBody,
    Estimates,
    FrameSummary,
    InspectorAdded,
    InspectorCreate,
    InspectorState,
    InspectorUpdate,
    Pool,
    PublicSummary,
    Quality,
    QualityQuery,
    ResultBody,
    ResultRecorded,
    SamplePhoto,
)
from gis_app.http.access import OPEN_DATA, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.idempotency import idempotent
from gis_app.http.schemas import Reply, Upload, operation

bp = Blueprint("api", __name__, url_prefix="/api/v1")
TAGS = ("sampling",)
BATCH_ID = {"batch_id": {"description": "抽查批次编号"}}
SITE_ID = {"site_id": {"description": "抽中点位的点位编号"}}


def _district() -> str:
    return current_app.config["DISTRICT_CODE"]


@bp.get("/samples/frame")
@allow(*OFFICE)
@operation(
    "抽样框大小（按街道）与 GB/T 2828.1 样本量",
    "sampleFrame",
    tags=TAGS,
    query=FrameSpec,
    description="筛选条件与 GET /sites 相同，另加销账日期范围；不给 status 时只含已销账的点位。",
    replies=[Reply(200, "抽样框", FrameSummary)],
)
def api_frame(query: FrameSpec) -> Response:
    """The frame the filters select: its size per street and the GB/T 2828.1 sizes."""
    return jsonify(frame_summary(session(), query, _district(), current_actor()))


@bp.get("/samples")
@allow(*WORKERS, *OPEN_DATA)
@operation("抽查批次列表", "listSampleBatches", tags=TAGS, replies=[Reply(200, "批次", BatchList)])
def api_list() -> Response:
    """The batches: the office's all; an inspector's those with his or her assignments; the
    open-data roles' the published list (each batch's summary at /samples/{id}/public)."""
    actor = current_actor()
    if actor.role in OPEN_DATA:
        return jsonify({"batches": service.published_batches(session(), _district())})
    return jsonify({"batches": service.list_batches(session(), _district(), actor)})


@bp.post("/samples")
@allow(*OFFICE)
@operation(
    "抽取样本（空间均衡、按街道分层、可复现）",
    "drawSample",
    tags=TAGS,
    body=DrawBody,
    replies=[Reply(201, "已抽取", BatchDocument)],
)
def api_draw(body: DrawBody) -> Response:
    actor = current_actor()
    batch = service.create_batch(session(), body.frame, body.request(), actor, _district())
    response = jsonify(service.batch_document(session(), batch.id, actor))
    response.status_code = 201
    response.headers["Location"] = url_for("sampling.api.api_batch", batch_id=batch.id)
    return response


@bp.get("/samples/quality")
@allow(*OFFICE)
@operation(
    "各街道整改到位率估计（用于排名）",
    "sampleQuality",
    tags=TAGS,
    query=QualityQuery,
    errors=[404],
    replies=[Reply(200, "各街道的估计", Quality)],
)
def api_quality(query: QualityQuery) -> Response:
    """Per-street estimates of the latest batch with results (for the streets' ranking)."""
    return jsonify(service.quality_by_street(session(), _district(), query.batch))


@bp.get("/samples/<int:batch_id>")
@allow(*WORKERS)
@operation(
    "批次详情",
    "getSampleBatch",
    tags=TAGS,
    path=BATCH_ID,
    replies=[Reply(200, "批次", BatchDocument)],
)
def api_batch(batch_id: int) -> Response:
    return jsonify(service.batch_document(session(), batch_id, current_actor()))


@bp.get("/samples/<int:batch_id>/audit")
@allow(*OFFICE)
@operation(
    "重新抽取并核对（审计）",
    "auditSampleBatch",
    tags=TAGS,
    path=BATCH_ID,
    replies=[Reply(200, "核对结果", Audit)],
)
def api_audit(batch_id: int) -> Response:
    """Draw again from the stored frame and seed and compare with the stored sample."""
    return jsonify(service.audit_batch(session(), batch_id))


@bp.post("/samples/<int:batch_id>/assignments")
@allow(*OFFICE)
@operation(
    "双随机：随机分配执法人员",
    "assignInspectors",
    tags=TAGS,
    path=BATCH_ID,
    body=AssignBody,
    body_required=False,
    errors=[409],
    replies=[Reply(200, "已分配", BatchDocument)],
)
def api_assign(batch_id: int, body: AssignBody | None) -> Response:
    given = body or AssignBody()
    service.assign_inspectors(session(), batch_id, current_actor(), given.cap, given.seed)
    return jsonify(service.batch_document(session(), batch_id, current_actor()))


class CheckPhotoForm(Schema):
    """A photo taken at the check of a sampled site (JPEG, PNG or WebP)."""

    file: Upload


@bp.post("/samples/<int:batch_id>/sites/<int:site_id>/photos")
@allow(*WORKERS)
@operation(
    "抽查现场照片（录入结果前上传，其编号随结果的 photo_ids 提交；任何街道的抽中点位均可）",
    "uploadSamplePhoto",
    tags=TAGS,
    path={**BATCH_ID, **SITE_ID},
    form=CheckPhotoForm,
    errors=[409],
    headers={
        idempotency.HEADER: {
            "schema": {"type": "string", "maxLength": 255},
            "description": "幂等键：离线队列重发时同一键只保存一次，返回第一次的答复",
        }
    },
    replies=[Reply(201, "已保存", SamplePhoto)],
)
@idempotent
def api_check_photo(batch_id: int, site_id: int, form: CheckPhotoForm) -> Response:
    photo = service.add_check_photo(
        session(),
        store_for(current_app.config),
        limits_for(current_app.config),
        batch_id,
        site_id,
        current_actor(),
        (form.file.read(), form.file.filename),
    )
    response = jsonify({"id": photo.id, "site_id": photo.site_id, "warnings": photo.warnings})
    response.status_code = 201
    return response


@bp.post("/samples/<int:batch_id>/sites/<int:site_id>/result")
@allow(*WORKERS)
@operation(
    "录入核查结果（不合格则重新打开点位）",
    "recordSampleResult",
    tags=TAGS,
    path={**BATCH_ID, **SITE_ID},
    body=ResultBody,
    errors=[409],
    headers={
        idempotency.HEADER: {
            "schema": {"type": "string", "maxLength": 255},
            "description": "幂等键：离线队列重发时同一键只执行一次，返回第一次的答复",
        }
    },
    replies=[Reply(200, "已录入", ResultRecorded)],
)
@idempotent
def api_result(batch_id: int, site_id: int, body: ResultBody) -> Response:
    sample = service.record_result(
        session(),
        batch_id,
        site_id,
        current_actor(),
        body.result,
        body.notes,
        body.photo_ids,
        body.recorded_at,
    )
    return jsonify(
        {
            "batch_id": batch_id,
            "site_id": site_id,
            "result": sample.result,
            "reopened": sample.reopened,
            "inspected_at": sample.inspected_at.isoformat() if sample.inspected_at else None,
            "recorded_at": sample.recorded_at.isoformat() if sample.recorded_at else None,
        }
    )


@bp.get("/samples/<int:batch_id>/estimate")
@allow(*OFFICE)
@operation(
    "整改到位率估计及 95% 置信区间",
    "sampleEstimate",
    tags=TAGS,
    path=BATCH_ID,
    replies=[Reply(200, "估计", Estimates)],
)
def api_estimate(batch_id: int) -> Response:
    batch = service.get_batch(session(), batch_id, actor=current_actor())
    return jsonify(service.batch_estimates(session(), batch))


@bp.get("/samples/<int:batch_id>/public")
@allow(*PUBLISHED)
@operation(
    "公开结果（不含个人信息）",
    "samplePublic",
    tags=TAGS,
    path=BATCH_ID,
    replies=[Reply(200, "公开结果", PublicSummary)],
)
def api_public(batch_id: int) -> Response:
    return jsonify(service.public_summary(session(), batch_id))


@bp.get("/samples/<int:batch_id>/report.xlsx")
@allow(*OFFICE)
@operation(
    "批次报告 .xlsx",
    "sampleReport",
    tags=TAGS,
    path=BATCH_ID,
    replies=[Reply(200, "报告（全部核查完毕后为存档的报告）", None, XLSX)],
)
def api_report(batch_id: int) -> Response:
    batch, data = service.report_xlsx(session(), batch_id, current_actor())
    return Response(
        data, mimetype=XLSX, headers={"Content-Disposition": content_disposition(batch.id)}
    )


@bp.get("/inspectors")
@allow(*OFFICE)
@operation("执法人员库", "listInspectors", tags=TAGS, replies=[Reply(200, "人员库", Pool)])
def api_inspectors() -> Response:
    return jsonify({"inspectors": inspectors.list_inspectors(session(), _district())})


@bp.post("/inspectors")
@allow(*OFFICE)
@operation(
    "添加执法人员",
    "addInspector",
    tags=TAGS,
    body=InspectorCreate,
    errors=[409],
    replies=[Reply(201, "已添加", InspectorAdded)],
)
def api_add_inspector(body: InspectorCreate) -> tuple[Response, int]:
    person = inspectors.add_inspector(
        session(), body.name, body.street, current_actor(), _district(), body.username
    )
    document = {
        "id": person.id,
        "name": person.name,
        "street_code": person.street_code,
        "username": (body.username or None) if person.user_id else None,
    }
    return jsonify(document), 201


@bp.patch("/inspectors/<int:inspector_id>")
@allow(*OFFICE)
@operation(
    "启用或停用执法人员",
    "updateInspector",
    tags=TAGS,
    path={"inspector_id": {"description": "执法人员编号"}},
    body=InspectorUpdate,
    replies=[Reply(200, "已修改", InspectorState)],
)
def api_update_inspector(inspector_id: int, body: InspectorUpdate) -> Response:
    person = inspectors.set_active(
        session(), inspector_id, body.active, current_actor(), _district()
    )
    return jsonify({"id": person.id, "name": person.name, "active": person.active})
