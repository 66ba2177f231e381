"""CheckedBody: a required field left out is refused by its own parser, in its own words,
and stays required in the JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import pytest
from pydantic import BeforeValidator

from gis_app.core.errors import ValidationError
from gis_app.core.schemas import CheckedBody, validate


def _target(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("缺少目标状态 to", "to")
    return value


def _cause(value: Any) -> str:
    if value not in ("rebound", "spot_check"):
        raise ValidationError(f"原因类别无效：{value!r}", "cause")
    return value


class Move(CheckedBody):
    absent: ClassVar[dict[str, Any]] = {"cause": ""}

    to: Annotated[str, BeforeValidator(_target)]
    cause: Annotated[str, BeforeValidator(_cause)]
    note: str = ""


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        # left out: the parser's own words (field names in Chinese, core/labels.readable)
        ({"cause": "rebound"}, "to", "缺少目标状态"),
        ({"to": None, "cause": "rebound"}, "to", "缺少目标状态"),
        ({"to": "closed"}, "cause", "原因类别无效：''"),  # left out: read as its `absent` value
        ({"to": "closed", "cause": None}, "cause", "原因类别无效：None"),
        ({"to": "closed", "cause": "rebound", "note": 5}, "note", "说明必须是文字"),
    ],
)
def test_a_refusal_names_the_field_in_the_parsers_words(body, field, message) -> None:
    with pytest.raises(ValidationError) as refused:
        validate(Move, body)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_given_fields_are_parsed_and_the_schema_keeps_them_required() -> None:
    move = validate(Move, {"to": "closed", "cause": "rebound"})
    assert (move.to, move.cause, move.note) == ("closed", "rebound", "")
    assert Move.model_json_schema()["required"] == ["to", "cause"]
