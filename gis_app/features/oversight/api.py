"""通报 in the JSON API: the office issues, the named streets reply, both list and read."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gis_app.features.oversight import service as notices
from gis_app.features.oversight.schemas import (
    CorrectionAnswer,
    CorrectionReview,
    InspectionCreate,
    InspectionList,
    InspectionRecord,
    NoticeFilter,
    NoticeIssue,
    NoticeList,
    NoticeRecord,
    NoticeReplyBody,
    ReplyRecord,
)
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("oversight_api", __name__, url_prefix="/api/v1")
TAGS = ("oversight",)
JSON_OK = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {"id": {"type": "integer"}, "status": {"type": "string"}},
}


@bp.get("/notices")
@allow(*SITE_STAFF)
@operation(
    "通报列表（街道只见通报本街道的）",
    "listNotices",
    tags=TAGS,
    query=NoticeFilter,
    replies=[Reply(200, "通报，每个被通报街道一行", NoticeList)],
)
def list_notices(query: NoticeFilter) -> Response:
    return jsonify({"notices": notices.list_notices(session(), current_actor(), query.street)})


@bp.post("/notices")
@allow(*SITE_STAFF)
@operation(
    "签发通报（区办）：点名街道、理由、冻结指标、回复期限",
    "issueNotice",
    tags=TAGS,
    body=NoticeIssue,
    replies=[Reply(201, "已签发的通报", NoticeRecord)],
)
def issue_notice(body: NoticeIssue) -> Response:
    notice = notices.issue(
        session(), current_actor(), body.title, body.reply_due, body.streets, body.body
    )
    response = jsonify(notices.notice_view(session(), notice.id, current_actor()))
    response.status_code = 201
    return response


@bp.get("/notices/<int:notice_id>")
@allow(*SITE_STAFF)
@operation(
    "一份通报（街道只见本街道的理由、指标和回复）",
    "getNotice",
    tags=TAGS,
    replies=[Reply(200, "通报", NoticeRecord)],
)
def get_notice(notice_id: int) -> Response:
    return jsonify(notices.notice_view(session(), notice_id, current_actor()))


@bp.post("/notices/<int:notice_id>/replies")
@allow(*SITE_STAFF)
@operation(
    "回复整改措施（被通报街道）",
    "replyNotice",
    tags=TAGS,
    body=NoticeReplyBody,
    replies=[Reply(201, "已记录的回复", ReplyRecord)],
)
def reply_notice(notice_id: int, body: NoticeReplyBody) -> Response:
    row = notices.reply(session(), notice_id, current_actor(), body.measures)
    response = jsonify(notices.reply_dict(row))
    response.status_code = 201
    return response


# ---------------------------------------------------------------- 专项督查


@bp.get("/inspections")
@allow(*SITE_STAFF)
@operation(
    "专项督查列表（街道只见督查本街道的）",
    "listInspections",
    tags=TAGS,
    replies=[Reply(200, "专项督查，最新的在前", InspectionList)],
)
def list_inspections() -> Response:
    return jsonify({"inspections": notices.list_inspections(session(), current_actor())})


@bp.post("/inspections")
@allow(*SITE_STAFF)
@operation(
    "记录专项督查（区办）：日期、街道、走访点位的发现与整改要求",
    "createInspection",
    tags=TAGS,
    body=InspectionCreate,
    replies=[Reply(201, "已记录的专项督查", InspectionRecord)],
)
def create_inspection(body: InspectionCreate) -> Response:
    ins = notices.create_inspection(
        session(),
        current_actor(),
        body.held_on,
        body.title,
        body.streets,
        body.findings,
        body.note,
    )
    response = jsonify(notices.inspection_view(session(), ins.id, current_actor()))
    response.status_code = 201
    return response


@bp.get("/inspections/<int:inspection_id>")
@allow(*SITE_STAFF)
@operation(
    "一次专项督查（街道只见本街道的发现）",
    "getInspection",
    tags=TAGS,
    replies=[Reply(200, "专项督查", InspectionRecord)],
)
def get_inspection(inspection_id: int) -> Response:
    return jsonify(notices.inspection_view(session(), inspection_id, current_actor()))


@bp.post("/inspection-findings/<int:finding_id>/answer")
@allow(*SITE_STAFF)
@operation(
    "答复整改情况（该街道）",
    "answerCorrection",
    tags=TAGS,
    body=CorrectionAnswer,
    errors=[409],
    replies=[Reply(200, "已答复，待区办审核", JSON_OK)],
)
def answer_correction(finding_id: int, body: CorrectionAnswer) -> Response:
    done = notices.answer_correction(session(), finding_id, current_actor(), body.answer)
    return jsonify({"id": done.id, "status": done.status})


@bp.post("/inspection-findings/<int:finding_id>/review")
@allow(*SITE_STAFF)
@operation(
    "审核整改情况（区办：通过或退回）",
    "reviewCorrection",
    tags=TAGS,
    body=CorrectionReview,
    errors=[409],
    replies=[Reply(200, "审核后的状态", JSON_OK)],
)
def review_correction(finding_id: int, body: CorrectionReview) -> Response:
    done = notices.review_correction(
        session(), finding_id, current_actor(), body.decision, body.comment
    )
    return jsonify({"id": done.id, "status": done.status})
