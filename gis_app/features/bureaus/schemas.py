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
