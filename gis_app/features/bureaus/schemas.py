"""公安 support requests as the API takes and gives them (the service checks the values)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from gis_app.core.schemas import CheckedBody, Schema


class PoliceAsk(CheckedBody):
    wanted_on: Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})] = None
    reason: Annotated[Any, WithJsonSchema({"type": "string", "description": "申请事由"})] = None


class PoliceAnswer(CheckedBody):
    decision: Annotated[Any, WithJsonSchema({"type": "string", "enum": ["accept", "decline"]})] = (
        None
    )
    note: Annotated[Any, WithJsonSchema({"type": "string", "description": "说明"})] = ""


class PoliceOutcome(CheckedBody):
    outcome: Annotated[Any, WithJsonSchema({"type": "string", "description": "处置结果"})] = None
    violent: Annotated[Any, WithJsonSchema({"type": "boolean", "description": "暴力抗法"})] = False
    case_number: Annotated[
        Any, WithJsonSchema({"type": "string", "description": "案件编号（暴力抗法时必填）"})
    ] = ""


class PoliceRequestRecord(Schema):
    id: int
    site_id: int
    site_code: str
    address: str
    street_code: str
    street: str
    wanted_on: str
    reason: str
    status: str = Field(description="requested、accepted、declined、done")
    status_label: str
    requested_by: str
    answer_note: str
    outcome: str
    violent: bool
    case_number: str


class PoliceRequestList(Schema):
    requests: list[PoliceRequestRecord]


class ReliefGiven(CheckedBody):
    what: Annotated[Any, WithJsonSchema({"type": "string", "description": "救助内容"})] = None
    given_on: Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})] = None


class ReliefRecordOut(Schema):
    id: int
    site_id: int
    street_code: str
    street: str
    what: str
    given_on: str
    recorded_by: str


class ReliefList(Schema):
    relief: list[ReliefRecordOut]


# ---------------------------------------------------------------- 住建委: renovation plans

_STEPS_SCHEMA = {
    "type": "array",
    "description": "方案步骤，按先后：每步 {title, due_date}",
    "items": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "步骤内容"},
            "due_date": {"type": "string", "format": "date", "description": "完成日期"},
        },
    },
}


class RenovationPlanAsk(CheckedBody):
    content: Annotated[Any, WithJsonSchema({"type": "string", "description": "治理内容"})] = None
    steps: Annotated[Any, WithJsonSchema(_STEPS_SCHEMA)] = None


class RenovationPlanDecision(CheckedBody):
    decision: Annotated[Any, WithJsonSchema({"type": "string", "enum": ["approve", "return"]})] = (
        None
    )
    comment: Annotated[
        Any, WithJsonSchema({"type": "string", "description": "审核意见（退回时必填）"})
    ] = ""


class RenovationWorksDone(CheckedBody):
    done_on: Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})] = None
    what: Annotated[Any, WithJsonSchema({"type": "string", "description": "施工内容"})] = None
    note: Annotated[Any, WithJsonSchema({"type": "string", "description": "说明"})] = ""


class RenovationPlanFilter(Schema):
    status: Annotated[
        str | None,
        WithJsonSchema(
            {
                "type": "string",
                "enum": ["submitted", "returned", "approved"],
                "description": "只列该状态的方案",
            }
        ),
    ] = None


class RenovationStep(Schema):
    title: str
    due_date: str


class RenovationWorkOut(Schema):
    id: int
    done_on: str
    what: str
    note: str
    recorded_by: str


class RenovationPlanRecord(Schema):
    id: int
    site_id: int
    site_code: str
    address: str
    street_code: str
    street: str
    content: str = Field(description="治理内容")
    steps: list[RenovationStep]
    status: str = Field(description="submitted、returned、approved")
    status_label: str
    revision: int = Field(description="第几次报送")
    submitted_by: str
    submitted_at: str
    submitted_at_local: str
    reviewed_by: str | None
    reviewed_at_local: str | None
    review_comment: str
    works: int = Field(description="已记录的施工次数")
    last_works_on: str | None


class RenovationPlanDetail(RenovationPlanRecord):
    works_done: list[RenovationWorkOut]


class RenovationPlanList(Schema):
    plans: list[RenovationPlanRecord]
