"""Monthly reports (月报) and statistics as the API takes and gives them: the month and
narrative parsers the service shares, the declared bodies and filters, and the answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from gis_app.core import codes
from gis_app.core.errors import ValidationError
from gis_app.core.schemas import CheckedBody, Schema

MAX_NARRATIVE = 5000
TREND_MONTHS = 12
MAX_TREND_MONTHS = 60
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
#: a month as the API writes it (2000 onwards)
MONTH_PATTERN = r"^[2-9][0-9]{3}-(0?[1-9]|1[0-2])$"
REPORT_STATES = ("on_time", "late", "draft", "missing")


def parse_month(value: Any, field: str = "month") -> date:
    """'YYYY-MM' as the first day of that month."""
    m = _MONTH.match(str(value or "").strip())
    if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 2000:
        raise ValidationError(f"月份格式应为 2026-06：{value!r}", field)
    return date(int(m[1]), int(m[2]), 1)


def clean_narrative(narrative: Any, required: bool) -> str:
    """A report's narrative: text of at most MAX_NARRATIVE characters (required to submit)."""
    if not isinstance(narrative, str | type(None)):
        raise ValidationError("情况说明必须是文字", "narrative")
    text = (narrative or "").strip()
    if len(text) > MAX_NARRATIVE:
        raise ValidationError(f"情况说明过长（最多 {MAX_NARRATIVE} 个字）", "narrative")
    if required and not text:
        raise ValidationError("报送月报须填写本月工作情况说明", "narrative")
    return text


def parse_trend_months(value: Any) -> int:
    """How many months a trend covers: 1 to 60 (blank: 12)."""
    raw = str(value or "") or str(TREND_MONTHS)
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_TREND_MONTHS:
        raise ValidationError(f"months 须是 1 到 {MAX_TREND_MONTHS} 的整数", "months")
    return int(raw)


def _blank_as_none(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


def _optional_month(value: Any) -> date | None:
    return parse_month(value) if value else None


#: the path parameters of a report
REPORT_PATH: dict[str, dict[str, Any]] = {
    "code": {"schema": {"type": "string", "maxLength": 12}, "description": "街道代码"},
    "month_text": {
        "schema": {"type": "string", "pattern": MONTH_PATTERN},
        "description": "月份（YYYY-MM）",
    },
}
Month = Annotated[
    date | None,
    BeforeValidator(_optional_month),
    WithJsonSchema(
        {"type": "string", "pattern": MONTH_PATTERN, "description": "月份（YYYY-MM，默认当月）"}
    ),
]
Street = Annotated[
    str | None,
    BeforeValidator(_blank_as_none),
    WithJsonSchema({"type": "string", "description": "街道代码（街道用户只能看本街道）"}),
]


class ReportsQuery(Schema):
    """Which month's reports to list."""

    month: Month = None


class ReportDraft(Schema):
    """A street's draft of its report."""

    narrative: Annotated[
        str,
        BeforeValidator(lambda v: clean_narrative(v, False)),
        WithJsonSchema(
            {"type": "string", "maxLength": MAX_NARRATIVE, "description": "本月工作情况说明"}
        ),
    ] = ""


class ReportSubmission(CheckedBody):
    """A street's report as submitted: its figures are frozen, a late one is marked."""

    narrative: Annotated[
        str,
        BeforeValidator(lambda v: clean_narrative(v, True)),
        WithJsonSchema(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_NARRATIVE,
                "description": "本月工作情况说明",
            }
        ),
    ]


class TrendQuery(Schema):
    """How many months the trend covers, and for which street."""

    months: Annotated[
        int,
        BeforeValidator(parse_trend_months),
        WithJsonSchema(
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_TREND_MONTHS,
                "description": f"月数（默认 {TREND_MONTHS}）",
            }
        ),
    ] = TREND_MONTHS
    street: Street = None


# ---------------------------------------------------------------- answers


class ReportFigures(Schema):
    """A report's figures over its statistical period (frozen at submission)."""

    period_start: date = Field(description="统计周期开始（上月25日17:00）")
    period_end: date = Field(description="统计周期结束（本月25日17:00）")
    counted_until: datetime = Field(description="统计截至")
    registered: int = Field(description="本期新建档点位")
    started: int = Field(description="本期开始治理")
    sent_to_acceptance: int = Field(description="本期提请验收")
    closed: int = Field(description="本期销账")
    reopened: int = Field(description="本期重新打开")
    extensions_requested: int = Field(description="本期申请延期")
    extensions_granted: int = Field(description="本期批准延期")
    overdue: int = Field(description="截至统计时逾期点位")
    total: int = Field(description="点位总数")
    closed_total: int = Field(description="累计销账")


class StreetReport(Schema):
    """A street's report of the month in the overview."""

    street_code: str = Field(description="街道代码")
    street: str = Field(description="街道名称")
    state: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "enum": list(REPORT_STATES),
                "description": "按时报送、逾期报送、草稿未报送、未报送",
            }
        ),
    ]
    state_label: str = Field(description="报送情况的中文说明")
    submitted_at_local: str = Field(description="报送时间（北京时间，未报送时为空）")
    submitted_by: str | None = Field(description="报送人")
    figures: ReportFigures | None = Field(
        description="已报送月报的数字（过截止时间后为完整统计周期；未报送时为空）"
    )
    past_due: bool = Field(description="是否已过报送截止时间")


class ReportsOverview(Schema):
    """Every street's report of a month."""

    month: str = Field(description="月份（YYYY-MM）")
    due_at: datetime = Field(description="报送截止时间（当月25日17:00 北京时间）")
    period: list[date] = Field(description="统计周期 [开始, 结束]")
    streets: list[StreetReport] = Field(description="各街道的月报")


class ReportView(Schema):
    """A street's report of a month: the stored one, or a fresh draft from the data."""

    street_code: str = Field(description="街道代码")
    street: str = Field(description="街道名称")
    month: str = Field(description="月份（YYYY-MM）")
    month_label: str = Field(description="月份的中文写法")
    period_start: date = Field(description="统计周期开始")
    period_end: date = Field(description="统计周期结束")
    due_at: datetime = Field(description="报送截止时间")
    due_at_local: str = Field(description="报送截止时间（北京时间）")
    status: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "enum": [*codes.REPORT_STATUSES, "missing"],
                "description": "草稿、已报送、尚无（missing）",
            }
        ),
    ]
    narrative: str = Field(description="本月工作情况说明")
    figures: ReportFigures = Field(description="统计周期的数字（截至报送截止时间，此前截至现在）")
    figures_at_submission: ReportFigures | None = Field(description="报送时的数字（未报送时为空）")
    completed_after_submission: bool = Field(description="提前报送：截止时间后已按完整统计周期补全")
    saved_by: str | None = Field(description="保存人")
    saved_at_local: str = Field(description="保存时间（北京时间）")
    submitted_by: str | None = Field(description="报送人")
    submitted_at: datetime | None = Field(description="报送时间")
    submitted_at_local: str = Field(description="报送时间（北京时间，未报送时为空）")
    late: bool | None = Field(description="是否逾期报送（未报送时为空）")
    overdue_now: bool = Field(description="未报送且已过截止时间")


class StreetReportMonth(Schema):
    month: str = Field(description="月份（YYYY-MM）")
    state: str = Field(description="on_time、late、draft 或 missing")


class DistrictFigures(Schema):
    """The district's totals."""

    total: int = Field(description="点位总数")
    by_status: dict[str, int] = Field(description="按状态")
    by_disposition: dict[str, int] = Field(description="按治理方式")
    closed: int = Field(description="已销账")
    completion: float | None = Field(description="销账率（0–1；无点位时为空）")
    overdue: int = Field(description="逾期点位")
    overdue_share: float | None = Field(description="逾期占比（0–1）")
    area_demolished: float = Field(description="已拆除面积（m²）")
    area_rectified: float = Field(description="已整改面积（m²）")
    reports_on_time: int = Field(description="近几个月按时报送的月报数")
    reports_due: int = Field(description="近几个月应报送的月报数")


class StreetFigures(Schema):
    """One street's figures."""

    id: int = Field(description="街道编号")
    code: str = Field(description="街道代码")
    name: str = Field(description="街道名称")
    total: int = Field(description="点位总数")
    by_status: dict[str, int] = Field(description="按状态")
    by_disposition: dict[str, int] = Field(description="按治理方式")
    closed_by_disposition: dict[str, int] = Field(description="已销账的，按治理方式")
    closed: int = Field(description="已销账")
    completion: float | None = Field(description="销账率（0–1；无点位时为空）")
    overdue: int = Field(description="逾期点位")
    overdue_share: float | None = Field(description="逾期占比（0–1）")
    area_demolished: float = Field(description="已拆除面积（m²）")
    area_rectified: float = Field(description="已整改面积（m²）")
    area_total: float = Field(description="违建总面积（m²）")
    reports: list[StreetReportMonth] = Field(description="近几个月的月报")
    reports_on_time: int = Field(description="按时报送的月报数")
    reports_due: int = Field(description="应报送的月报数")
    last_report_state: str = Field(description="最近一期月报的报送情况")
    last_report_month: str = Field(description="最近一期已到截止时间的月份（YYYY-MM）")


class StreetRank(Schema):
    rank: int = Field(description="名次")
    code: str = Field(description="街道代码")
    name: str = Field(description="街道名称")


class LaggingStreet(Schema):
    code: str = Field(description="街道代码")
    name: str = Field(description="街道名称")
    reasons: list[str] = Field(description="通报原因")


class DistrictStatistics(Schema):
    """Per-street figures, the ranking and the lagging streets (public figures)."""

    today: date = Field(description="统计日期")
    district: DistrictFigures = Field(description="全区合计")
    streets: list[StreetFigures] = Field(description="各街道")
    ranking: list[StreetRank] = Field(description="排名：销账率高、逾期少者在前")
    lagging: list[LaggingStreet] = Field(description="落后街道及原因")


class TrendMonth(Schema):
    month: str = Field(description="月份（YYYY-MM）")
    registered: int = Field(description="新建档")
    started: int = Field(description="开始治理")
    sent_to_acceptance: int = Field(description="提请验收")
    closed: int = Field(description="销账")
    reopened: int = Field(description="重新打开")


class MonthlyTrend(Schema):
    months: list[TrendMonth] = Field(description="按月，早的在前")


class StreetNotices(Schema):
    code: str = Field(description="街道代码")
    name: str = Field(description="街道名称")
    notices: int = Field(description="本次专项行动中被通报的次数")
    late_or_missing: int = Field(description="其中逾期回复或未回复的次数")
    by_month: dict[str, int] = Field(description="按签发月份（YYYY-MM）的通报次数")


class NoticeHistory(Schema):
    """The 通报 each street received in the campaign (the ranking's history)."""

    campaign: str = Field(description="专项行动名称（无进行中的专项行动时为空）")
    since: date | None = Field(description="专项行动开始日期（从此日起签发的通报计入）")
    streets: list[StreetNotices] = Field(description="各街道（街道用户只见本街道）")
