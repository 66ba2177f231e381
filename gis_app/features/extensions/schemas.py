"""Extension requests (延期申请) as the API takes and gives them: the parsers the service
shares, the declared bodies, the list's filter and the answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, WithJsonSchema

from gis_app.core import codes, text
from gis_app.core.errors import ValidationError
from gis_app.core.schemas import CheckedBody, Schema
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.plans.schemas import PLAN_SCHEMA, plan_from_today

MAX_TEXT = 1000
DECISIONS = ("approve", "reject")


def clean_text(value: Any, field: str, label: str, required: bool) -> str:
    """A reason or a comment: text of at most MAX_TEXT characters, stripped."""
    return text.clean_text(value, field, label, required, MAX_TEXT)


def parse_new_deadline(value: Any) -> date:
    """The deadline a request asks for."""
    wanted = parse_date(value, "new_deadline")
    if wanted is None:
        raise ValidationError("缺少申请的新期限", "new_deadline")
    return wanted


def parse_decision(value: Any) -> str:
    if value not in DECISIONS:
        raise ValidationError("审批结论须是 approve（批准）或 reject（驳回）", "decision")
    return value


def parse_status(value: Any) -> str | None:
    """A request status to filter on (blank: any)."""
    status = (value or "").strip() or None
    if status and status not in codes.EXTENSION_STATUSES:
        raise ValidationError(f"申请状态无效：{status!r}", "status")
    return status


def _blank_as_none(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


class ExtensionAsk(CheckedBody):
    """A street asks for a later deadline, with its reason and the new plan (whose last step
    falls on the new deadline)."""

    new_deadline: Annotated[
        date,
        BeforeValidator(parse_new_deadline),
        WithJsonSchema(
            {"type": "string", "format": "date", "description": "申请的新期限（须晚于当前期限）"}
        ),
    ]
    reason: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "reason", "延期理由", True)),
        WithJsonSchema(
            {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "description": "延期理由"}
        ),
    ]
    plan: Annotated[
        list[dict[str, Any]],
        plan_from_today("plan"),
        WithJsonSchema({**PLAN_SCHEMA, "description": "新的治理方案（最后一步的日期即新期限）"}),
    ]


class ExtensionDecision(CheckedBody):
    """The district office's decision on a pending request."""

    decision: Annotated[
        str,
        BeforeValidator(parse_decision),
        WithJsonSchema(
            {"type": "string", "enum": list(DECISIONS), "description": "批准 approve／驳回 reject"}
        ),
    ]
    comment: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "comment", "审批意见", False)),
        WithJsonSchema(
            {"type": "string", "maxLength": MAX_TEXT, "description": "审批意见（驳回时必填）"}
        ),
    ] = ""


class ExtensionFilter(Schema):
    """Which requests to list."""

    status: Annotated[
        str | None,
        BeforeValidator(parse_status),
        WithJsonSchema(
            {
                "type": "string",
                "enum": list(codes.EXTENSION_STATUSES),
                "description": "申请状态：pending 待审批、approved 已批准、rejected 已驳回",
            }
        ),
    ] = None
    street: Annotated[
        str | None,
        BeforeValidator(_blank_as_none),
        WithJsonSchema({"type": "string", "description": "街道代码"}),
    ] = None


# ---------------------------------------------------------------- answers


class RequestedStep(Schema):
    title: str = Field(description="步骤内容")
    due_date: date = Field(description="完成日期")


class ExtensionRecord(Schema):
    """One extension request and, once decided, its decision."""

    id: int = Field(description="申请编号")
    site_id: int = Field(description="点位编号")
    status: Annotated[
        str,
        WithJsonSchema(
            {"type": "string", "enum": list(codes.EXTENSION_STATUSES), "description": "申请状态"}
        ),
    ]
    status_label: str = Field(description="申请状态的中文名")
    old_deadline: date | None = Field(description="申请时的当前期限")
    new_deadline: date = Field(description="申请的新期限")
    reason: str = Field(description="延期理由")
    plan: list[RequestedStep] = Field(description="新的治理方案")
    requested_by: str = Field(description="申请人")
    requested_at: datetime = Field(description="申请时间")
    requested_at_local: str = Field(description="申请时间（北京时间）")
    decided_by: str | None = Field(description="审批人")
    decided_at: datetime | None = Field(description="审批时间")
    decided_at_local: str = Field(description="审批时间（北京时间，未审批时为空）")
    decision_comment: str = Field(description="审批意见")
    asked_late: bool = Field(description="是否在当前期限已过之后才申请（逾期申请）")


class ListedExtension(ExtensionRecord):
    """A request in the list, with its site and street."""

    site_code: str = Field(description="点位编码")
    address: str = Field(description="点位地址")
    street_code: str = Field(description="街道代码")
    street: str = Field(description="街道名称")


class SiteExtensions(Schema):
    extensions: list[ExtensionRecord] = Field(description="点位的延期申请，按申请时间先后")


class ExtensionList(Schema):
    extensions: list[ListedExtension] = Field(description="延期申请，最新的在前")


# ---------------------------------------------------------------- 应拆尽拆 change requests


class CentralAsk(CheckedBody):
    """A street asks to change a site flagged 中央第二次环保督查: to 规范治理, or unflagged."""

    absent: ClassVar[dict[str, Any]] = {"change": "", "reason": ""}

    change: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "enum": ["rectify", "unflag"],
                "description": "rectify 改为规范治理／unflag 取消中央第二次环保督查标记",
            }
        ),
    ]
    reason: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "reason", "申请理由", True)),
        WithJsonSchema(
            {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "description": "申请理由"}
        ),
    ]


class CentralDecision(CheckedBody):
    """The office's decision on a 应拆尽拆 change request, with its reason (always)."""

    absent: ClassVar[dict[str, Any]] = {"comment": ""}

    decision: Annotated[
        str,
        BeforeValidator(parse_decision),
        WithJsonSchema(
            {"type": "string", "enum": list(DECISIONS), "description": "批准 approve／驳回 reject"}
        ),
    ]
    comment: Annotated[
        str,
        BeforeValidator(lambda v: clean_text(v, "comment", "审批意见（理由）", True)),
        WithJsonSchema(
            {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "description": "审批理由"}
        ),
    ]


class CentralFilter(Schema):
    """Which 应拆尽拆 change requests to list."""

    status: Annotated[
        str | None,
        BeforeValidator(_blank_as_none),
        WithJsonSchema(
            {"type": "string", "enum": ["pending", "approved", "rejected"], "description": "状态"}
        ),
    ] = None
