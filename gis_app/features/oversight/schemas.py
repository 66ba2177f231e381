"""通报 as the API takes and gives them: the parsers the service shares, the declared bodies
and the answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, WithJsonSchema

from gis_app.core import text
from gis_app.core.errors import ValidationError
from gis_app.core.schemas import CheckedBody, Schema
from gis_app.features.ledger.schemas import parse_date

MAX_TITLE = 200
MAX_TEXT = 4000
MAX_STREETS = 30
#: a reply is due at most this many days after the issue
MAX_REPLY_DAYS = 90


def clean_text(value: Any, field: str, label: str, required: bool, limit: int = MAX_TEXT) -> str:
    """Text of at most `limit` characters, stripped; refused naming the field."""
    return text.clean_text(value, field, label, required, limit)


def parse_reply_due(value: Any, today: date) -> date:
    """The reply due date: from today to MAX_REPLY_DAYS ahead."""
    due = parse_date(value, "reply_due")
    if due is None:
        raise ValidationError("缺少回复期限", "reply_due")
    if due < today:
        raise ValidationError(f"回复期限不能早于今天（{today}）", "reply_due")
    if (due - today).days > MAX_REPLY_DAYS:
        raise ValidationError(f"回复期限最多为 {MAX_REPLY_DAYS} 天后", "reply_due")
    return due


def parse_named(value: Any) -> list[dict[str, str]]:
    """The streets to name: [{"street": code, "reason": extra reason}], at least one, no
    street twice."""
    if not isinstance(value, list) or not value:
        raise ValidationError("请至少选择一个要通报的街道", "streets")
    if len(value) > MAX_STREETS:
        raise ValidationError(f"一次最多通报 {MAX_STREETS} 个街道", "streets")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValidationError("每个被通报街道须是 {street, reason}", f"streets[{i}]")
        code = item.get("street")
        if not isinstance(code, str) or not code.strip():
            raise ValidationError("缺少被通报街道的代码", f"streets[{i}].street")
        code = code.strip()
        if code in seen:
            raise ValidationError(f"街道 {code} 重复", f"streets[{i}].street")
        seen.add(code)
        reason = clean_text(item.get("reason"), f"streets[{i}].reason", "通报理由", False, 1000)
        out.append({"street": code, "reason": reason})
    return out


NAMED_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_STREETS,
    "description": "被通报的街道；理由可补充，不在落后名单上的街道须填写理由",
    "items": {
        "type": "object",
        "required": ["street"],
        "properties": {
            "street": {"type": "string", "description": "街道代码"},
            "reason": {"type": "string", "maxLength": 1000, "description": "补充的通报理由"},
        },
    },
}


class NoticeIssue(CheckedBody):
    """The office issues a 通报 (dated today)."""

    title: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "title", "通报标题", True, MAX_TITLE)),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_TITLE}),
    ]
    reply_due: Annotated[
        str,
        WithJsonSchema({"type": "string", "format": "date", "description": "整改措施回复期限"}),
    ]
    streets: Annotated[
        list[dict[str, str]], BeforeValidator(parse_named), WithJsonSchema(NAMED_SCHEMA)
    ]
    body: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "body", "通报正文", False)),
        WithJsonSchema({"type": "string", "maxLength": MAX_TEXT, "description": "通报正文"}),
    ] = ""

    absent: ClassVar[dict[str, Any]] = {"reply_due": ""}


class NoticeReplyBody(CheckedBody):
    """A named street's rectification measures."""

    measures: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "measures", "整改措施", True)),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_TEXT}),
    ]


class NoticeFilter(Schema):
    street: Annotated[
        str | None,
        BeforeValidator(lambda v: (v.strip() or None) if isinstance(v, str) else v),
        WithJsonSchema({"type": "string", "description": "街道代码（只列通报该街道的）"}),
    ] = None


# ---------------------------------------------------------------- answers


class ReplyRecord(Schema):
    id: int
    measures: str = Field(description="整改措施")
    replied_by: str
    replied_at: str
    replied_at_local: str
    late: bool = Field(description="是否逾期回复")


class NamedStreet(Schema):
    street_code: str
    street: str = Field(description="街道名称")
    reasons: list[str] = Field(description="通报理由")
    figures: dict[str, Any] = Field(description="通报时的指标（冻结，不再变化）")
    replies: list[ReplyRecord] = Field(description="整改措施回复")
    reply_state: str = Field(
        description="answered 已回复、late 逾期回复、due 待回复、overdue 逾期未回复"
    )


class NoticeRecord(Schema):
    id: int
    number: str = Field(description="文号")
    title: str
    body: str
    source: str = Field(description="lagging 来自落后名单、choice 由区办选定")
    issued_on: date
    reply_due: date
    issued_by: str
    streets: list[NamedStreet] = Field(description="被通报的街道（街道用户只见本街道）")


class ListedNotice(Schema):
    id: int
    number: str
    title: str
    issued_on: date
    reply_due: date
    street_code: str
    street: str
    reply_state: str
    replies: int = Field(description="回复次数")


class NoticeList(Schema):
    notices: list[ListedNotice] = Field(description="通报（每个被通报街道一行），最新的在前")


# ---------------------------------------------------------------- 专项督查

MAX_FINDINGS = 100
REVIEWS = ("accept", "return")


def parse_findings(value: Any) -> list[dict[str, Any]]:
    """The findings: [{site (code), finding, correction, due_date, photo_ids?}] (dates and
    sites are checked by the service)."""
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ValidationError("督查发现须是列表", "findings")
    if len(value) > MAX_FINDINGS:
        raise ValidationError(f"一次最多记录 {MAX_FINDINGS} 条发现", "findings")
    out = []
    for i, item in enumerate(value):
        where = f"findings[{i}]"
        if not isinstance(item, dict):
            raise ValidationError("每条发现须是 {site, finding, correction, due_date}", where)
        site = item.get("site")
        if not isinstance(site, str) or not site.strip():
            raise ValidationError("缺少点位编号", f"{where}.site")
        photos = item.get("photo_ids") or []
        if not isinstance(photos, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) and 0 < p < 2**63 for p in photos
        ):
            raise ValidationError("照片须是照片编号的列表", f"{where}.photo_ids")
        out.append(
            {
                "site": site.strip(),
                "finding": clean_text(item.get("finding"), f"{where}.finding", "督查发现", True),
                "correction": clean_text(
                    item.get("correction"), f"{where}.correction", "整改要求", True
                ),
                "due_date": item.get("due_date"),
                "photo_ids": sorted(set(photos)),
            }
        )
    return out


FINDINGS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": MAX_FINDINGS,
    "description": "走访点位的发现与整改要求",
    "items": {
        "type": "object",
        "required": ["site", "finding", "correction", "due_date"],
        "properties": {
            "site": {"type": "string", "description": "点位编号"},
            "finding": {"type": "string", "maxLength": MAX_TEXT},
            "correction": {"type": "string", "maxLength": MAX_TEXT, "description": "整改要求"},
            "due_date": {"type": "string", "format": "date", "description": "整改期限"},
            "photo_ids": {"type": "array", "items": {"type": "integer"}, "description": "照片"},
        },
    },
}


class InspectionCreate(CheckedBody):
    """The office records a 专项督查."""

    held_on: Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
    title: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "title", "督查名称", True, MAX_TITLE)),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_TITLE}),
    ]
    streets: Annotated[
        list[str],
        WithJsonSchema(
            {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "街道"}
        ),
    ]
    findings: Annotated[
        list[dict[str, Any]], BeforeValidator(parse_findings), WithJsonSchema(FINDINGS_SCHEMA)
    ] = []  # noqa: RUF012
    note: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "note", "督查说明", False)),
        WithJsonSchema({"type": "string", "maxLength": MAX_TEXT}),
    ] = ""

    absent: ClassVar[dict[str, Any]] = {"held_on": "", "streets": []}


class CorrectionAnswer(CheckedBody):
    answer: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "answer", "整改情况", True)),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_TEXT}),
    ]


class CorrectionReview(CheckedBody):
    decision: Annotated[
        str,
        WithJsonSchema({"type": "string", "enum": list(REVIEWS), "description": "通过／退回"}),
    ]
    comment: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "comment", "审核意见", False)),
        WithJsonSchema({"type": "string", "maxLength": MAX_TEXT}),
    ] = ""

    absent: ClassVar[dict[str, Any]] = {"decision": ""}


class FindingRecord(Schema):
    id: int
    site_id: int
    site_code: str
    street_code: str
    street: str
    finding: str
    photo_ids: list[int]
    correction: str
    due_date: date
    status: str = Field(description="open 待整改、answered 已答复待审核、closed 已通过")
    overdue: bool
    answer: str
    answered_by: str | None
    answered_at_local: str
    review_comment: str
    reviewed_by: str | None


class InspectionRecord(Schema):
    id: int
    held_on: date
    title: str
    note: str
    streets: list[str] = Field(description="督查的街道（名称）")
    created_by: str
    findings: list[FindingRecord] = Field(description="发现（街道用户只见本街道的）")


class ListedInspection(Schema):
    id: int
    held_on: date
    title: str
    streets: list[str]
    findings: int
    open: int = Field(description="未完成的整改")


class InspectionList(Schema):
    inspections: list[ListedInspection]


# ---------------------------------------------------------------- 例会, 追责

ANY_LIST = {"type": "array", "items": {"type": "object"}}


class MeetingCreate(CheckedBody):
    """A 例会 (its figures are frozen by the server when it is recorded)."""

    held_on: Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})]
    title: Annotated[Any, WithJsonSchema({"type": "string", "maxLength": MAX_TITLE})]
    attendees: Annotated[Any, WithJsonSchema({"type": "string", "description": "参会人员"})]
    reports: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": "array",
                "description": "听取的街道汇报",
                "items": {
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "summary": {"type": "string"}},
                },
            }
        ),
    ] = []  # noqa: RUF012
    decisions: Annotated[Any, WithJsonSchema({"type": "string", "description": "会议决定"})] = ""
    tasks: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": "array",
                "description": "任务：责任单位（街道代码或 bureau_housing 等）、内容、期限",
                "items": {
                    "type": "object",
                    "properties": {
                        "owner": {"type": "string"},
                        "task": {"type": "string"},
                        "due_date": {"type": "string", "format": "date"},
                    },
                },
            }
        ),
    ] = []  # noqa: RUF012


class TaskDone(CheckedBody):
    note: Annotated[Any, WithJsonSchema({"type": "string", "description": "完成情况"})] = None


class EscalationCreate(CheckedBody):
    street: Annotated[Any, WithJsonSchema({"type": "string", "description": "街道代码"})] = None
    person: Annotated[Any, WithJsonSchema({"type": "string", "description": "被追责人员"})] = ""
    escalated_to: Annotated[
        Any, WithJsonSchema({"type": "string", "enum": ["committee", "government"]})
    ] = None
    grounds: Annotated[Any, WithJsonSchema({"type": "string", "description": "追责事由"})] = None
    notice_ids: Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "integer"}})] = (
        None
    )
    finding_ids: Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "integer"}})] = (
        None
    )
    site_codes: Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "string"}})] = (
        None
    )


class EscalationDecision(CheckedBody):
    decision: Annotated[Any, WithJsonSchema({"type": "string", "description": "处理决定"})] = None


class MeetingTaskRecord(Schema):
    id: int
    meeting_id: int
    meeting: str
    owner: str
    task: str
    due_date: date
    status: str = Field(description="open 未完成、done 已办结")
    overdue: bool
    done_note: str
    done_by: str | None
    done_at_local: str


class MeetingRecord(Schema):
    id: int
    held_on: date
    title: str
    attendees: str
    reports: list[dict[str, Any]]
    figures: list[dict[str, Any]] = Field(description="会上通报的各街道指标（冻结）")
    decisions: str
    created_by: str
    tasks: list[MeetingTaskRecord]


class MeetingTaskList(Schema):
    tasks: list[MeetingTaskRecord]


class MeetingList(Schema):
    meetings: list[dict[str, Any]]


class EscalationList(Schema):
    escalations: list[dict[str, Any]]
