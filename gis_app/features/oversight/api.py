"""通报 in the JSON API: the office issues, the named streets reply, both list and read."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gis_app.features.oversight import service as notices
from gis_app.features.oversight.schemas import (
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
