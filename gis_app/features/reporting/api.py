"""Monthly reports (月报) and the district's statistics in the JSON API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, ClassVar

from flask import Blueprint, Response, jsonify
from pydantic import WithJsonSchema

from gis_app.core import clock
from gis_app.core.schemas import CheckedBody
from gis_app.features.campaign.service import current_campaign, current_end
from gis_app.features.ledger.permissions import own_street, require_site_reader
from gis_app.features.oversight import service as oversight
from gis_app.features.reporting import service as reports
from gis_app.features.reporting import statistics
from gis_app.features.reporting.schemas import (
    REPORT_PATH,
    DistrictStatistics,
    MonthlyTrend,
    NoticeHistory,
    ReportDraft,
    ReportsOverview,
    ReportsQuery,
    ReportSubmission,
    ReportView,
    TrendQuery,
    parse_month,
)
from gis_app.features.streets.service import leader_dict, leader_history, record_leader
from gis_app.http.access import DISTRICT, OPEN_DATA, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("reporting_api", __name__, url_prefix="/api/v1")
TAGS = ("reporting",)


def month_in_path(view: Callable[..., Response]) -> Callable[..., Response]:
    """The view takes the month of its path (`month_text`, YYYY-MM) as a date, read before
    its body: a bad month is refused first."""

    @functools.wraps(view)
    def wrapper(*args: Any, month_text: str, **kwargs: Any) -> Response:
        return view(*args, month=parse_month(month_text), **kwargs)

    return wrapper


@bp.get("/reports")
@allow(*SITE_STAFF)
@operation(
    "某月各街道月报报送情况",
    "reportsOverview",
    tags=TAGS,
    query=ReportsQuery,
    replies=[Reply(200, "各街道的月报", ReportsOverview)],
)
def reports_overview(query: ReportsQuery) -> Response:
    require_site_reader(current_actor())
    month = query.month or reports.current_month()
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
@month_in_path
@operation(
    "一个街道某月的月报（未报送时为系统草稿）",
    "getReport",
    tags=TAGS,
    path=REPORT_PATH,
    errors=[422],
    replies=[Reply(200, "月报", ReportView)],
)
def get_report(code: str, month: date) -> Response:
    require_site_reader(current_actor())
    return jsonify(reports.report_view(session(), code, month, current_actor()))


@bp.put("/reports/<code>/<month_text>")
@allow(*SITE_STAFF)
@month_in_path
@operation(
    "保存月报草稿（街道）",
    "saveReport",
    tags=TAGS,
    path=REPORT_PATH,
    body=ReportDraft,
    errors=[409],
    replies=[Reply(200, "保存后的月报", ReportView)],
)
def put_report(code: str, month: date, body: ReportDraft) -> Response:
    actor = current_actor()
    reports.save_report(session(), code, month, actor, body.narrative)
    return jsonify(reports.report_view(session(), code, month, actor))


@bp.post("/reports/<code>/<month_text>/submit")
@allow(*SITE_STAFF)
@month_in_path
@operation(
    "报送月报（截止当月25日17:00，逾期标注）",
    "submitReport",
    tags=TAGS,
    path=REPORT_PATH,
    body=ReportSubmission,
    errors=[409],
    replies=[Reply(200, "报送后的月报", ReportView)],
)
def submit_report(code: str, month: date, body: ReportSubmission) -> Response:
    actor = current_actor()
    reports.save_report(session(), code, month, actor, body.narrative, True)
    return jsonify(reports.report_view(session(), code, month, actor))


@bp.get("/statistics")
@allow(*SITE_STAFF, *OPEN_DATA)
@operation(
    "各街道统计、排名、落后街道",
    "statistics",
    tags=TAGS,
    replies=[Reply(200, "统计", DistrictStatistics)],
)
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
@operation(
    "按月趋势",
    "trend",
    tags=TAGS,
    query=TrendQuery,
    errors=[404],
    replies=[Reply(200, "按月的数字", MonthlyTrend)],
)
def get_trend(query: TrendQuery) -> Response:
    street = statistics.street_for(current_actor(), query.street)
    rows = statistics.monthly_trend(session(), clock.today().replace(day=1), query.months, street)
    return jsonify({"months": rows})


@bp.get("/statistics/notices")
@allow(*SITE_STAFF)
@operation(
    "各街道在本次专项行动中被通报的次数（排名的历史；街道只见本街道）",
    "noticeHistory",
    tags=TAGS,
    replies=[Reply(200, "各街道的通报次数，合计与按月", NoticeHistory)],
)
def get_notice_history() -> Response:
    campaign = current_campaign(session())
    since = campaign[1] if campaign else None
    return jsonify(
        {
            "campaign": campaign[0] if campaign else "",
            "since": since.isoformat() if since else None,
            "streets": oversight.notice_history(session(), current_actor(), since),
        }
    )


@bp.get("/statistics/beyond-campaign")
@allow(*SITE_STAFF)
@operation("期限晚于专项行动结束日的点位", "beyondCampaign", tags=("campaign-dates",))
def get_beyond_campaign() -> Response:
    """Only the district sees every street's; a street its own."""
    end = current_end(session())
    rows = statistics.beyond_campaign(session(), end)
    own = own_street(current_actor())
    if own:
        rows = [r for r in rows if r["street_code"] == own]
    return jsonify({"campaign_end": end.isoformat() if end else None, "sites": rows})


class LeaderBody(CheckedBody):
    """A street's first responsible person (第一责任人) from a date on."""

    absent: ClassVar[dict[str, Any]] = {"name": "", "title": "", "since": ""}

    name: Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 64})]
    title: Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 64})]
    since: Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})]


@bp.get("/streets/<code>/first-responsible")
@allow(*SITE_STAFF)
@operation(
    "街道第一责任人（现任与历任）",
    "streetLeaders",
    tags=("leaders",),
    path={"code": {"schema": {"type": "string", "maxLength": 12}, "description": "街道代码"}},
    errors=[404],
)
def get_leaders(code: str) -> Response:
    street = statistics.street_for(current_actor(), code)
    return jsonify({"street_code": street, "leaders": leader_history(session(), street or code)})


@bp.post("/streets/<code>/first-responsible")
@allow(*DISTRICT)
@operation(
    "登记街道第一责任人（区办；变更保留历史）",
    "recordStreetLeader",
    tags=("leaders",),
    path={"code": {"schema": {"type": "string", "maxLength": 12}, "description": "街道代码"}},
    body=LeaderBody,
    errors=[404],
    replies=[Reply(201, "已登记")],
)
def post_leader(code: str, body: LeaderBody) -> Response:
    leader = record_leader(session(), code, body.name, body.title, body.since, current_actor().name)
    response = jsonify(leader_dict(leader))
    response.status_code = 201
    return response
