"""通报 as the API takes and gives them: the parsers the service shares, the declared bodies
and the answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, WithJsonSchema

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
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label}必须是文字", field)
    value = value.strip()
    if required and not value:
        raise ValidationError(f"缺少{label}", field)
    if len(value) > limit:
        raise ValidationError(f"{label}过长（最多 {limit} 个字）", field)
    if "\x00" in value:
        raise ValidationError(f"{label}含有不允许的字符", field)
    return value


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
