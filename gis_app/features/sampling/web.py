"""Spot checks (抽查) on the web: JSON API under /api/v1 and Chinese pages under /sampling.

One parent blueprint ``sampling`` holds both (``sampling.api.*`` and ``sampling.pages.*``),
so the app factory registers the feature with one line. ``openapi_paths()`` gives the API's
part of the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
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
from gis_app.core.errors import AppError, ValidationError
from gis_app.features.maps import service as map_data
from gis_app.features.sampling import design, gbt2828, inspectors, service
from gis_app.features.sampling.allocation import ALLOCATIONS
from gis_app.features.sampling.frame import DictArgs, FrameSpec, frame_counts
from gis_app.features.sampling.maps import RESULT_LABELS, batch_map, result_colour
from gis_app.http.access import DISTRICT, OPEN_DATA, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.openapi_legacy import operation
from gis_app.http.parsing import json_body
from gis_app.http.security import csp_nonce
from layers.site_map import render_map, render_page

bp = Blueprint("sampling", __name__, template_folder="templates")
#: who draws, assigns, reads the reports and keeps the pool: the district office
OFFICE = DISTRICT
#: who else works on a batch: an inspector, on the sites assigned to him or her
WORKERS = (*DISTRICT, "inspector")
#: who reads the published summary (双随机一公开): the office and the open-data roles
PUBLISHED = (*DISTRICT, *OPEN_DATA)
api = Blueprint("api", __name__, url_prefix="/api/v1")
pages = Blueprint("pages", __name__, url_prefix="/sampling")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_filter("iso_local")
def iso_local(value: str | None) -> str:
    """An ISO time from the API documents, shown in Asia/Shanghai."""
    return clock.fmt_local(datetime.fromisoformat(value)) if value else ""


def _district() -> str:
    return current_app.config["DISTRICT_CODE"]


def _frame_summary(spec: FrameSpec) -> dict[str, Any]:
    by_street = frame_counts(session(), spec, _district(), current_actor())
    size = sum(s["count"] for s in by_street)
    suggestions = {}
    if size >= 2:
        for level in gbt2828.LEVELS:
            letter, n = gbt2828.sample_size(size, level)
            suggestions[level] = {"code_letter": letter, "n": n}
    return {
        "frame_size": size,
        "streets_with_sites": sum(1 for s in by_street if s["count"]),
        "by_street": by_street,
        "gbt2828": suggestions,
        "frame": spec.to_params(),
    }


def _draw_request(data: dict[str, Any]) -> service.DrawRequest:
    return service.DrawRequest(
        size_mode=str(data.get("size_mode") or "gbt2828").strip(),
        size_value=data.get("n"),
        level=data.get("level"),
        method=data.get("method"),
        allocation=data.get("allocation"),
        seed=data.get("seed"),
        title=str(data.get("title") or ""),
    )


def _batch_document(batch_id: int) -> dict[str, Any]:
    """The batch for the office (design, balance, estimates, every site); for an inspector
    the batch's name and the sites assigned to him or her only."""
    actor = current_actor()
    if not actor.is_district:
        batch = service.get_batch(session(), batch_id, actor=actor)
        return {
            "id": batch.id,
            "title": batch.title,
            "created_at": batch.created_at.isoformat(),
            "sites": service.batch_sites(session(), batch_id, actor),
        }
    batch = service.archive_report(session(), batch_id, actor)
    return {
        **service.batch_summary(batch),
        "estimates": service.batch_estimates(session(), batch),
        "sites": service.batch_sites(session(), batch_id, actor),
        "report_archived_at": batch.reported_at.isoformat() if batch.reported_at else None,
    }


def _report_response(batch_id: int) -> Response:
    batch, data = service.report_xlsx(session(), batch_id, current_actor())
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=spot-check-{batch.id}.xlsx; "
        f"filename*=UTF-8''%E6%8A%BD%E6%9F%A5%E6%8A%A5%E5%91%8A-{batch.id}.xlsx"
    )
    return response


# ---------------------------------------------------------------- API


@api.get("/samples/frame")
@allow(*OFFICE)
def api_frame() -> Response:
    """The frame the filters select: its size per street and the GB/T 2828.1 sizes."""
    return jsonify(_frame_summary(FrameSpec.from_args(request.args)))


@api.get("/samples")
@allow(*WORKERS, *OPEN_DATA)
def api_list() -> Response:
    """The batches: the office's all; an inspector's those with his or her assignments; the
    open-data roles' the published list (each batch's summary at /samples/{id}/public)."""
    actor = current_actor()
    if actor.role in OPEN_DATA:
        return jsonify({"batches": service.published_batches(session(), _district())})
    return jsonify({"batches": service.list_batches(session(), _district(), actor)})


@api.post("/samples")
@allow(*OFFICE)
def api_draw() -> Response:
    body = json_body()
    frame = body.get("frame") or {}
    if not isinstance(frame, dict):
        raise ValidationError("frame 必须是对象（抽样框筛选条件）", "frame")
    spec = FrameSpec.from_args(DictArgs(frame))
    batch = service.create_batch(session(), spec, _draw_request(body), current_actor(), _district())
    response = jsonify(_batch_document(batch.id))
    response.status_code = 201
    response.headers["Location"] = url_for("sampling.api.api_batch", batch_id=batch.id)
    return response


@api.get("/samples/quality")
@allow(*OFFICE)
def api_quality() -> Response:
    """Per-street estimates of the latest batch with results (for the streets' ranking)."""
    raw = request.args.get("batch")
    batch_id = None
    if raw:
        if not raw.isdigit():
            raise ValidationError("参数 batch 必须是批次编号", "batch")
        batch_id = int(raw)
    return jsonify(service.quality_by_street(session(), _district(), batch_id))


@api.get("/samples/<int:batch_id>")
@allow(*WORKERS)
def api_batch(batch_id: int) -> Response:
    return jsonify(_batch_document(batch_id))


@api.get("/samples/<int:batch_id>/audit")
@allow(*OFFICE)
def api_audit(batch_id: int) -> Response:
    """Draw again from the stored frame and seed and compare with the stored sample."""
    return jsonify(service.audit_batch(session(), batch_id))


@api.post("/samples/<int:batch_id>/assignments")
@allow(*OFFICE)
def api_assign(batch_id: int) -> Response:
    body = json_body(optional=True)
    service.assign_inspectors(
        session(), batch_id, current_actor(), body.get("cap", 20), body.get("seed")
    )
    return jsonify(_batch_document(batch_id))


@api.post("/samples/<int:batch_id>/sites/<int:site_id>/result")
@allow(*WORKERS)
def api_result(batch_id: int, site_id: int) -> Response:
    body = json_body()
    sample = service.record_result(
        session(),
        batch_id,
        site_id,
        current_actor(),
        body.get("result"),
        body.get("notes", ""),
        body.get("photo_ids"),
    )
    return jsonify(
        {
            "batch_id": batch_id,
            "site_id": site_id,
            "result": sample.result,
            "reopened": sample.reopened,
            "inspected_at": sample.inspected_at.isoformat() if sample.inspected_at else None,
        }
    )


@api.get("/samples/<int:batch_id>/estimate")
@allow(*OFFICE)
def api_estimate(batch_id: int) -> Response:
    batch = service.get_batch(session(), batch_id, actor=current_actor())
    return jsonify(service.batch_estimates(session(), batch))


@api.get("/samples/<int:batch_id>/public")
@allow(*PUBLISHED)
def api_public(batch_id: int) -> Response:
    return jsonify(service.public_summary(session(), batch_id))


@api.get("/samples/<int:batch_id>/report.xlsx")
@allow(*OFFICE)
def api_report(batch_id: int) -> Response:
    return _report_response(batch_id)


@api.get("/inspectors")
@allow(*OFFICE)
def api_inspectors() -> Response:
    return jsonify({"inspectors": inspectors.list_inspectors(session(), _district())})


@api.post("/inspectors")
@allow(*OFFICE)
def api_add_inspector() -> Response:
    body = json_body()
    person = inspectors.add_inspector(
        session(),
        body.get("name"),
        body.get("street"),
        current_actor(),
        _district(),
        body.get("username"),
    )
    document = {
        "id": person.id,
        "name": person.name,
        "street_code": person.street_code,
        "username": body.get("username") or None if person.user_id else None,
    }
    return jsonify(document), 201


@api.patch("/inspectors/<int:inspector_id>")
@allow(*OFFICE)
def api_update_inspector(inspector_id: int) -> Response:
    body = json_body()
    active = body.get("active")
    if not isinstance(active, bool):
        raise ValidationError("active 必须是 true 或 false", "active")
    person = inspectors.set_active(session(), inspector_id, active, current_actor(), _district())
    return jsonify({"id": person.id, "name": person.name, "active": person.active})


# ---------------------------------------------------------------- pages


def _form_defaults() -> dict[str, Any]:
    return {"size_mode": "gbt2828", "level": "II", "method": "lpm", "allocation": "proportional"}


def _render_index(form: dict[str, Any], error: AppError | None = None, status: int = 200) -> Any:
    actor = current_actor()
    streets = frame_counts(session(), FrameSpec(), _district(), actor)
    body = render_template(
        "sampling/index.html",
        form=form,
        error=error,
        streets=streets,
        levels=gbt2828.LEVELS,
        methods=design.METHODS,
        size_modes=design.SIZE_MODES,
        allocations=ALLOCATIONS,
        batches=service.list_batches(session(), _district(), actor),
    )
    return body, status


@pages.get("")
@allow(*WORKERS, "bureau_media")
def index() -> Any:
    """The office's draw form and batches; an inspector's tasks; the media centre's list of
    published results."""
    actor = current_actor()
    if actor.role == "inspector":
        return render_template(
            "sampling/tasks.html",
            batches=service.list_batches(session(), _district(), actor),
        )
    if actor.role in OPEN_DATA:
        return render_template(
            "sampling/published.html", batches=service.published_batches(session(), _district())
        )
    return _render_index(_form_defaults())


@pages.post("")
@allow(*OFFICE)
def draw() -> Any:
    form = request.form
    data = {k: form.get(k, "") for k in ("size_mode", "n", "level", "method", "allocation")}
    data.update(seed=form.get("seed", ""), title=form.get("title", ""))
    frame_args = {
        key: form.getlist(key)
        for key in ("street", "status", "disposition", "flag", "closed_from", "closed_to")
    }
    try:
        spec = FrameSpec.from_args(DictArgs({k: v for k, v in frame_args.items() if v}))
        batch = service.create_batch(
            session(), spec, _draw_request(data), current_actor(), _district()
        )
    except AppError as exc:
        session().rollback()
        shown = {**data, **frame_args}
        shown.update({k: form.get(k, "") for k in ("closed_from", "closed_to")})
        return _render_index(shown, exc, exc.status)
    return redirect(url_for("sampling.pages.batch", batch_id=batch.id), 303)


def _batch_map(sites: list[dict[str, Any]]) -> Any:
    """The folium map of these sampled sites over the street boundaries (no personal data)."""
    return batch_map(
        sites,
        map_data.outlines(session(), _district()).streets,
        url_for("static", filename="vendor/leaflet/leaflet.js"),
        url_for("static", filename="vendor/leaflet/leaflet.css"),
    )


@pages.get("/batches/<int:batch_id>")
@allow(*WORKERS)
def batch(batch_id: int) -> str:
    doc = _batch_document(batch_id)
    mapped = [s for s in doc["sites"] if s["lon"] is not None]
    parts = render_map(_batch_map(mapped), csp_nonce())
    if not current_actor().is_district:
        return render_template(
            "sampling/my_batch.html",
            doc=doc,
            parts=parts,
            result_labels=RESULT_LABELS,
            result_colour=result_colour,
        )
    pool = inspectors.list_inspectors(session(), _district())
    return render_template(
        "sampling/batch.html",
        doc=doc,
        parts=parts,
        result_labels=RESULT_LABELS,
        result_colour=result_colour,
        active_inspectors=sum(1 for p in pool if p["active"]),
    )


@pages.get("/batches/<int:batch_id>/map")
@allow(*WORKERS)
def batch_map_page(batch_id: int) -> Response:
    """The batch's map as a page of its own (full screen, printable)."""
    actor = current_actor()
    service.get_batch(session(), batch_id, actor=actor)
    sites = service.batch_sites(session(), batch_id, actor)
    html = render_page(_batch_map(sites), csp_nonce())
    return Response(html, mimetype="text/html")


@pages.post("/batches/<int:batch_id>/assign")
@allow(*OFFICE)
def assign(batch_id: int) -> WerkzeugResponse:
    service.assign_inspectors(
        session(),
        batch_id,
        current_actor(),
        request.form.get("cap", "20"),
        request.form.get("seed"),
    )
    return redirect(url_for("sampling.pages.batch", batch_id=batch_id) + "#sites", 303)


@pages.post("/batches/<int:batch_id>/sites/<int:site_id>/result")
@allow(*WORKERS)
def result(batch_id: int, site_id: int) -> WerkzeugResponse:
    service.record_result(
        session(),
        batch_id,
        site_id,
        current_actor(),
        request.form.get("result"),
        request.form.get("notes", ""),
    )
    return redirect(url_for("sampling.pages.batch", batch_id=batch_id) + f"#site-{site_id}", 303)


@pages.get("/batches/<int:batch_id>/report.xlsx")
@allow(*OFFICE)
def report(batch_id: int) -> Response:
    return _report_response(batch_id)


@pages.get("/batches/<int:batch_id>/public")
@allow(*PUBLISHED)
def public(batch_id: int) -> str:
    return render_template("sampling/public.html", doc=service.public_summary(session(), batch_id))


@pages.get("/batches/<int:batch_id>/audit")
@allow(*OFFICE)
def audit(batch_id: int) -> str:
    return render_template("sampling/audit.html", audit=service.audit_batch(session(), batch_id))


@pages.get("/quality")
@allow(*OFFICE)
def quality() -> str:
    raw = request.args.get("batch", "")
    batch_id = int(raw) if raw.isdigit() else None
    return render_template(
        "sampling/quality.html",
        quality=service.quality_by_street(session(), _district(), batch_id),
    )


@pages.get("/inspectors")
@allow(*OFFICE)
def inspector_pool() -> str:
    return render_template(
        "sampling/inspectors.html",
        pool=inspectors.list_inspectors(session(), _district()),
        streets=frame_counts(session(), FrameSpec(), _district(), current_actor()),
    )


@pages.post("/inspectors")
@allow(*OFFICE)
def add_inspector() -> WerkzeugResponse:
    inspectors.add_inspector(
        session(),
        request.form.get("name"),
        request.form.get("street"),
        current_actor(),
        _district(),
        request.form.get("username"),
    )
    return redirect(url_for("sampling.pages.inspector_pool"), 303)


@pages.post("/inspectors/<int:inspector_id>/active")
@allow(*OFFICE)
def toggle_inspector(inspector_id: int) -> WerkzeugResponse:
    active = request.form.get("active") == "1"
    inspectors.set_active(session(), inspector_id, active, current_actor(), _district())
    return redirect(url_for("sampling.pages.inspector_pool"), 303)


bp.register_blueprint(api)
bp.register_blueprint(pages)


# ---------------------------------------------------------------- OpenAPI


def openapi_paths() -> dict[str, Any]:
    """The spot-check part of the OpenAPI document (paths relative to /api/v1)."""

    op = operation

    batch_id = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    site_id = {"name": "site_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    frame_params = [
        {"name": n, "in": "query", "schema": {"type": "string"}}
        for n in ("closed_from", "closed_to", "street", "status", "disposition", "flag")
    ]
    body = {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}
    draw_schema = {
        "type": "object",
        "properties": {
            "frame": {
                "type": "object",
                "description": "抽样框条件：closed_from、closed_to、street…",
            },
            "size_mode": {"type": "string", "enum": list(design.SIZE_MODES)},
            "n": {"type": "number", "description": "固定数量或百分比"},
            "level": {"type": "string", "enum": list(gbt2828.LEVELS)},
            "method": {"type": "string", "enum": list(design.METHODS)},
            "allocation": {"type": "string", "enum": list(ALLOCATIONS)},
            "seed": {"type": "string", "description": "随机种子（0 … 2^63-1，省略则随机生成）"},
            "title": {"type": "string", "maxLength": 200},
        },
    }
    return {
        "/samples/frame": {
            "get": op(
                "抽样框大小（按街道）与 GB/T 2828.1 样本量", "sampleFrame", parameters=frame_params
            )
        },
        "/samples": {
            "get": op("抽查批次列表", "listSampleBatches"),
            "post": op(
                "抽取样本（空间均衡、按街道分层、可复现）",
                "drawSample",
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": draw_schema}},
                },
                responses={"201": {"description": "已抽取"}},
            ),
        },
        "/samples/quality": {"get": op("各街道整改到位率估计（用于排名）", "sampleQuality")},
        "/samples/{batch_id}": {"get": op("批次详情", "getSampleBatch", parameters=[batch_id])},
        "/samples/{batch_id}/audit": {
            "get": op("重新抽取并核对（审计）", "auditSampleBatch", parameters=[batch_id])
        },
        "/samples/{batch_id}/assignments": {
            "post": op(
                "双随机：随机分配执法人员",
                "assignInspectors",
                parameters=[batch_id],
                requestBody=body,
            )
        },
        "/samples/{batch_id}/sites/{site_id}/result": {
            "post": op(
                "录入核查结果（不合格则重新打开点位）",
                "recordSampleResult",
                parameters=[batch_id, site_id],
                requestBody=body,
            )
        },
        "/samples/{batch_id}/estimate": {
            "get": op("整改到位率估计及 95% 置信区间", "sampleEstimate", parameters=[batch_id])
        },
        "/samples/{batch_id}/public": {
            "get": op("公开结果（不含个人信息）", "samplePublic", parameters=[batch_id])
        },
        "/samples/{batch_id}/report.xlsx": {
            "get": op("批次报告 .xlsx", "sampleReport", parameters=[batch_id])
        },
        "/inspectors": {
            "get": op("执法人员库", "listInspectors"),
            "post": op(
                "添加执法人员",
                "addInspector",
                requestBody=body,
                responses={"201": {"description": "已添加"}},
            ),
        },
        "/inspectors/{inspector_id}": {
            "patch": op(
                "启用或停用执法人员",
                "updateInspector",
                requestBody=body,
                parameters=[
                    {
                        "name": "inspector_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
            )
        },
    }
