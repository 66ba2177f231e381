"""通报 in the JSON API: the office issues, the named streets reply, both list and read."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gis_app.features.oversight import service as notices
from gis_app.features.oversight.schemas import (
    CorrectionAnswer,
    CorrectionReview,
    EscalationCreate,
    EscalationDecision,
    EscalationList,
    InspectionCreate,
    InspectionList,
    InspectionRecord,
    MeetingCreate,
    MeetingList,
    MeetingRecord,
    MeetingTaskList,
    NoticeFilter,
    NoticeIssue,
    NoticeList,
    NoticeRecord,
    NoticeReplyBody,
    ReplyRecord,
    TaskDone,
)
from gis_app.http.access import DISTRICT, SITE_STAFF, allow
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


# ---------------------------------------------------------------- 例会, 追责

TASK_READERS = (*SITE_STAFF, "bureau_housing", "bureau_civil", "bureau_police")


@bp.get("/meetings")
@allow(*DISTRICT)
@operation("例会记录列表", "listMeetings", tags=TAGS, replies=[Reply(200, "例会", MeetingList)])
def list_meetings() -> Response:
    return jsonify({"meetings": notices.list_meetings(session(), current_actor())})


@bp.post("/meetings")
@allow(*DISTRICT)
@operation(
    "记录例会（区办）：参会人员、汇报、冻结的指标、决定、任务",
    "recordMeeting",
    tags=TAGS,
    body=MeetingCreate,
    replies=[Reply(201, "已记录的例会", MeetingRecord)],
)
def record_meeting(body: MeetingCreate) -> Response:
    meeting = notices.record_meeting(
        session(),
        current_actor(),
        body.held_on,
        body.title,
        body.attendees,
        body.reports,
        body.decisions,
        body.tasks,
    )
    response = jsonify(notices.meeting_view(session(), meeting.id, current_actor()))
    response.status_code = 201
    return response


@bp.get("/meetings/<int:meeting_id>")
@allow(*DISTRICT)
@operation("一次例会", "getMeeting", tags=TAGS, replies=[Reply(200, "例会", MeetingRecord)])
def get_meeting(meeting_id: int) -> Response:
    return jsonify(notices.meeting_view(session(), meeting_id, current_actor()))


@bp.get("/meeting-tasks")
@allow(*TASK_READERS)
@operation(
    "例会任务（街道、委办局只见本单位的）",
    "listMeetingTasks",
    tags=TAGS,
    replies=[Reply(200, "任务", MeetingTaskList)],
)
def list_meeting_tasks() -> Response:
    return jsonify({"tasks": notices.meeting_tasks(session(), current_actor())})


@bp.post("/meeting-tasks/<int:task_id>/done")
@allow(*TASK_READERS)
@operation(
    "办结例会任务（责任单位或区办）",
    "completeMeetingTask",
    tags=TAGS,
    body=TaskDone,
    errors=[409],
    replies=[Reply(200, "已办结", JSON_OK)],
)
def complete_meeting_task(task_id: int, body: TaskDone) -> Response:
    task = notices.complete_task(session(), task_id, current_actor(), body.note)
    return jsonify({"id": task.id, "status": task.status})


@bp.get("/escalations")
@allow(*DISTRICT)
@operation("追责记录", "listEscalations", tags=TAGS, replies=[Reply(200, "追责", EscalationList)])
def list_escalations() -> Response:
    return jsonify({"escalations": notices.list_escalations(session(), current_actor())})


@bp.post("/escalations")
@allow(*DISTRICT)
@operation(
    "追责移交（区办）：街道或人员、事由及关联的通报、督查发现、逾期点位",
    "createEscalation",
    tags=TAGS,
    body=EscalationCreate,
    replies=[Reply(201, "已记录", JSON_OK)],
)
def create_escalation(body: EscalationCreate) -> Response:
    row = notices.escalate(
        session(),
        current_actor(),
        body.street,
        body.person,
        body.escalated_to,
        body.grounds,
        body.notice_ids,
        body.finding_ids,
        body.site_codes,
    )
    response = jsonify({"id": row.id, "status": "submitted"})
    response.status_code = 201
    return response


@bp.post("/escalations/<int:escalation_id>/decision")
@allow(*DISTRICT)
@operation(
    "记录追责处理决定",
    "decideEscalation",
    tags=TAGS,
    body=EscalationDecision,
    errors=[409],
    replies=[Reply(200, "已记录", JSON_OK)],
)
def decide_escalation(escalation_id: int, body: EscalationDecision) -> Response:
    row = notices.decide_escalation(session(), escalation_id, current_actor(), body.decision)
    return jsonify({"id": row.id, "status": "decided"})
