"""Step plans (分步治理方案) as the API takes and gives them: the plan's parser (shared with
the pages and the extension requests), the declared bodies and answers.

Every refusal names the field (`steps[2].due_date`) and says in Chinese what is wrong.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from gis_app.core import clock, codes
from gis_app.core.errors import ValidationError
from gis_app.core.schemas import CheckedBody, Schema
from gis_app.features.ledger.schemas import parse_date

MAX_STEPS = 20
MAX_TITLE = 100
MAX_NOTE = 1000
#: the largest id PostgreSQL's bigint holds
MAX_ID = 2**63 - 1


def parse_plan(raw: Any, field: str = "steps", not_before: date | None = None) -> list[dict]:
    """A list of {title, due_date}: 1–20 steps, dates in order, none before `not_before`."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError("方案须至少包含一个步骤（标题和日期）", field)
    if len(raw) > MAX_STEPS:
        raise ValidationError(f"方案最多 {MAX_STEPS} 个步骤", field)
    steps: list[dict] = []
    for i, item in enumerate(raw, start=1):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(f"第 {i} 步须是对象 {{title, due_date}}", where)
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationError(f"第 {i} 步缺少标题", f"{where}.title")
        title = title.strip()
        if len(title) > MAX_TITLE:
            raise ValidationError(f"第 {i} 步标题过长（最多 {MAX_TITLE} 个字）", f"{where}.title")
        due = parse_date(item.get("due_date"), f"{where}.due_date")
        if due is None:
            raise ValidationError(f"第 {i} 步缺少完成日期", f"{where}.due_date")
        if not_before and due < not_before:
            raise ValidationError(
                f"第 {i} 步的日期 {due} 早于今天 {not_before}", f"{where}.due_date"
            )
        if steps and due < steps[-1]["due_date"]:
            raise ValidationError(
                f"第 {i} 步的日期 {due} 早于上一步的 {steps[-1]['due_date']}：步骤须按时间先后排列",
                f"{where}.due_date",
            )
        steps.append({"title": title, "due_date": due})
    return steps


def plan_from_today(field: str) -> Any:
    """A validator of a plan given in a body as `field`: no step before today."""
    return BeforeValidator(lambda raw: parse_plan(raw, field, not_before=clock.today()))


def clean_note(note: Any) -> str:
    """The evidence note of a completed step: text, at most MAX_NOTE characters."""
    if not isinstance(note, str | type(None)):
        raise ValidationError("说明必须是文字", "note")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"说明过长（最多 {MAX_NOTE} 个字）", "note")
    return note


def parse_photo_id(photo_id: Any) -> int | None:
    """The photo given as a step's evidence: an integer, or None when left blank."""
    if photo_id in ("", None):
        return None
    try:
        return int(photo_id)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"照片编号须是整数：{photo_id!r}", "photo_id") from None


#: a plan as the API takes it (the same in an extension request)
PLAN_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_STEPS,
    "items": {
        "type": "object",
        "required": ["title", "due_date"],
        "properties": {
            "title": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_TITLE,
                "description": "步骤内容",
            },
            "due_date": {
                "type": "string",
                "format": "date",
                "description": "完成日期（不早于今天，不早于上一步）",
            },
        },
    },
}


class StepPlan(CheckedBody):
    """The steps still to do, in place of those not yet done (done steps stay); the last
    step's date becomes the site's current deadline."""

    steps: Annotated[
        list[dict[str, Any]],
        plan_from_today("steps"),
        WithJsonSchema({**PLAN_SCHEMA, "description": "治理步骤（1–20 步，按日期先后）"}),
    ]
    reason: str | None = Field("", description="调整原因（超过 500 个字截断）")


class StepDone(Schema):
    """A step done, with its evidence: a note, a photo of the site, or both."""

    note: Annotated[
        str,
        BeforeValidator(clean_note),
        WithJsonSchema({"type": "string", "maxLength": MAX_NOTE, "description": "完成情况说明"}),
    ] = ""
    photo_id: Annotated[
        int | None,
        BeforeValidator(parse_photo_id),
        WithJsonSchema(
            {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": "佐证照片的编号"}
        ),
    ] = None


# ---------------------------------------------------------------- answers


class SiteState(Schema):
    """A site's state after a workflow act: its status, version and deadlines."""

    id: int = Field(description="点位编号")
    code: str = Field(description="点位编码")
    status: Annotated[
        str,
        WithJsonSchema({"type": "string", "enum": list(codes.STATUSES), "description": "状态"}),
    ]
    version: int = Field(description="版本号（下次修改时带上）")
    committed_deadline: date | None = Field(description="承诺期限")
    current_deadline: date | None = Field(description="当前期限")


class PlanStep(Schema):
    """One step of a site's plan."""

    id: int = Field(description="步骤编号")
    position: int = Field(description="第几步")
    title: str = Field(description="步骤内容")
    due_date: date = Field(description="完成日期")
    done: bool = Field(description="是否已完成")
    done_at: datetime | None = Field(description="完成时间")
    done_at_local: str = Field(description="完成时间（北京时间，未完成时为空）")
    done_by: str | None = Field(description="完成人")
    evidence_note: str = Field(description="完成情况说明")
    overdue: bool = Field(description="未完成且已过完成日期")


class SiteSteps(Schema):
    """A site's plan."""

    steps: list[PlanStep] = Field(description="治理步骤，按先后")


class PlanSet(Schema):
    """The site's state and its plan after the plan was set."""

    site: SiteState = Field(description="点位状态与期限")
    steps: list[PlanStep] = Field(description="治理步骤，按先后")
