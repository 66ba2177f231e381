"""The workflow as the API takes and gives it: the parsers of a transition's target, a
reopening's cause and a reason (shared with the service), the declared bodies, and the
answers (the transitions table, a site's workflow summary, the acceptance view)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, WithJsonSchema

from gis_app.core import codes
from gis_app.core.errors import ValidationError
from gis_app.core.schemas import CheckedBody, Schema
from gis_app.features.extensions.schemas import ExtensionRecord
from gis_app.features.photos.schemas import PhotoRecord
from gis_app.features.plans.schemas import PlanStep

MAX_REASON = 500


def clean_reason(reason: Any, required: bool = False, what: str = "") -> str:
    """Why a site moves: text of at most MAX_REASON characters (`required` for `what`)."""
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise ValidationError("原因 reason 必须是文字", "reason")
    reason = reason.strip()
    if required and not reason:
        raise ValidationError(f"{what}必须说明原因", "reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"原因过长（最多 {MAX_REASON} 个字）", "reason")
    return reason


def parse_target(target: Any) -> str:
    """The status a transition goes to."""
    if not isinstance(target, str):
        raise ValidationError("缺少目标状态 to", "to")
    if target not in codes.STATUSES:
        allowed = ", ".join(codes.STATUSES)
        raise ValidationError(f"目标状态无效：{target!r}（可选：{allowed}）", "to")
    return target


def parse_cause(cause: Any) -> str:
    """Why a closed site is reopened: a failed spot check or a rebound (回潮)."""
    if cause not in codes.REOPEN_CAUSES:
        allowed = "、".join(f"{k}（{v}）" for k, v in codes.REOPEN_CAUSES.items())
        raise ValidationError(f"重新打开的原因类别无效：{cause!r}（可选：{allowed}）", "cause")
    return cause


#: a transition's reason: whether it is required depends on the move, which the service
#: checks first (a move not in the table is a 409 whatever the reason), so the service checks
#: the reason too; a closing comment is the reason of the move to 已销账 (refusals name it
#: `reason`)
TransitionReason = Annotated[
    Any,
    WithJsonSchema(
        {"type": "string", "maxLength": MAX_REASON, "description": "原因（退回整改时必填）"}
    ),
]
Comment = Annotated[
    Any,
    WithJsonSchema({"type": "string", "maxLength": MAX_REASON, "description": "验收意见"}),
]
OpenStepsReason = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_REASON,
            "description": "治理方案尚有未完成步骤时销账的理由（此时必填）",
        }
    ),
]
ReopenReason = Annotated[
    str,
    BeforeValidator(lambda v: clean_reason(v, True, "重新打开已销账点位")),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_REASON, "description": "原因"}
    ),
]
#: the version read, checked by the service (a stale one is a 409)
Version = Annotated[
    Any,
    WithJsonSchema(
        {"type": "integer", "minimum": 1, "description": "读取时得到的版本号（过期时 409）"}
    ),
]


class TransitionBody(CheckedBody):
    """A move along the transitions table."""

    to: Annotated[
        str,
        BeforeValidator(parse_target),
        WithJsonSchema({"type": "string", "enum": list(codes.STATUSES), "description": "目标状态"}),
    ]
    reason: TransitionReason = ""
    version: Version = None


class ReopenBody(CheckedBody):
    """A closed site back to 治理中, with its cause and a reason."""

    absent: ClassVar[dict[str, Any]] = {"cause": "", "reason": ""}

    cause: Annotated[
        str,
        BeforeValidator(parse_cause),
        WithJsonSchema(
            {
                "type": "string",
                "enum": list(codes.REOPEN_CAUSES),
                "description": "抽查不合格 spot_check／回潮 rebound",
            }
        ),
    ]
    reason: ReopenReason
    version: Version = None


class CloseBody(CheckedBody):
    """销账 by the district office, after viewing the newest before/after pair."""

    comment: Comment = ""
    version: Version = None
    open_steps_reason: OpenStepsReason = ""


# ---------------------------------------------------------------- answers


class TransitionRule(Schema):
    """A row of the transitions table."""

    from_: str = Field(alias="from", description="原状态")
    to: str = Field(description="目标状态")
    label: str = Field(description="操作名称")
    by: str = Field(description="由谁办理：street 点位所在街道（或区办）、district 仅区办")
    reason_required: bool = Field(description="是否须说明原因")
    needs_photos: bool = Field(description="是否须有整改前、整改后照片")
    needs_viewed_pair: bool = Field(description="是否须先在验收页面查看最新照片对")
    via: str | None = Field(None, description="经由的接口（reopen：重新打开）")


class TransitionTable(Schema):
    transitions: list[TransitionRule] = Field(description="状态流转规则")


class WorkflowSite(Schema):
    """The site as its workflow panel shows it."""

    id: int = Field(description="点位编号")
    code: str = Field(description="点位编码")
    address: str = Field(description="地址")
    street_code: str = Field(description="街道代码")
    street: str = Field(description="街道名称")
    status: str = Field(description="状态")
    status_label: str = Field(description="状态的中文名")
    disposition_label: str = Field(description="治理方式的中文名")
    committed_deadline: date | None = Field(description="承诺期限")
    current_deadline: date | None = Field(description="当前期限")
    days_left: int | None = Field(description="距当前期限的天数（逾期为负）")
    overdue: bool = Field(description="是否逾期")
    version: int = Field(description="版本号")
    flag_renovation: bool = Field(description="旧楼区改造")
    renovation_done_on: date | None = Field(description="旧楼区改造完工日期")


class WorkflowMove(Schema):
    """A move from the site's status, with whether this user may make it now."""

    to: str = Field(description="目标状态")
    to_label: str = Field(description="目标状态的中文名")
    label: str = Field(description="操作名称")
    by: str = Field(description="由谁办理（street、district）")
    reason_required: bool = Field(description="是否须说明原因")
    needs_viewed_pair: bool = Field(False, description="是否须先查看最新照片对")
    reopen: bool = Field(False, description="重新打开（经由 reopen 接口）")
    allowed: bool = Field(description="当前用户现在能否办理")
    blocked: str | None = Field(description="不能办理的原因")


class WorkflowPhotos(Schema):
    before: list[PhotoRecord] = Field(description="整改前照片")
    after: list[PhotoRecord] = Field(description="整改后照片")
    inspection: list[PhotoRecord] = Field(description="巡查照片")
    newest_before: PhotoRecord | None = Field(description="最新的整改前照片")
    newest_after: PhotoRecord | None = Field(description="最新的整改后照片")


class PhotoWarningOfSite(Schema):
    photo_id: int = Field(description="照片编号")
    kind: str = Field(description="照片类别的中文名")
    code: str = Field(description="警示代码")
    message: str = Field(description="警示说明")


class SiteEventEntry(Schema):
    at_local: str = Field(description="时间（北京时间）")
    actor: str = Field(description="办理人")
    action: str = Field(description="事件代码")
    action_label: str = Field(description="事件的中文名")
    reason: str = Field(description="原因")
    changes: dict[str, Any] = Field(description="改动：字段 → [原值, 新值]")


class WorkflowPermissions(Schema):
    upload: bool = Field(description="能否上传照片")
    plan: bool = Field(description="能否制定/调整方案")
    complete_steps: bool = Field(description="能否完成步骤")
    request_extension: bool = Field(description="能否申请延期")
    decide_extension: bool = Field(description="能否审批延期")
    accept: bool = Field(description="能否验收")


class WorkflowSummary(Schema):
    """Everything the workflow part of a site page shows."""

    site: WorkflowSite = Field(description="点位")
    moves: list[WorkflowMove] = Field(description="可办理的状态变更")
    photos: WorkflowPhotos = Field(description="照片")
    photo_kinds: dict[str, str] = Field(description="现在可以上传的照片类别")
    steps: list[PlanStep] = Field(description="治理步骤")
    extensions: list[ExtensionRecord] = Field(description="延期申请")
    pending_extension: ExtensionRecord | None = Field(description="待审批的延期申请")
    warnings: list[PhotoWarningOfSite] = Field(description="照片的警示")
    history: list[SiteEventEntry] = Field(description="最近 30 条历史")
    can: WorkflowPermissions = Field(description="当前用户能做什么")
    suggested_steps: list[str] = Field(description="常用步骤")
    today: date = Field(description="今天")


class AcceptancePair(Schema):
    """The newest before/after pair for acceptance."""

    site: WorkflowSite = Field(description="点位")
    before: PhotoRecord | None = Field(description="最新的整改前照片")
    after: PhotoRecord | None = Field(description="最新的整改后照片")
    view_recorded: bool = Field(description="这次查看是否已记录（区办、待验收、照片齐全时）")
    viewed_at: datetime | None = Field(description="查看时间")
