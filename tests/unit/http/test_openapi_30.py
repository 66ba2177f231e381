"""openapi_30: the 3.1 constructs pydantic writes, rewritten for OpenAPI 3.0 readers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from gis_app.http.openapi import openapi_30


class Item(BaseModel):
    kind: Literal["Feature"]
    note: str | None = None
    parent: Item | None = None
    size: int = Field(1, gt=0, lt=10, examples=[3])


def test_null_types_const_examples_and_bounds_become_30() -> None:
    schema = Item.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"]["Item"]
    doc = {
        "openapi": "3.1.0",
        "components": {"schemas": {"Item": schema}},
        "paths": {"/x": {"get": {"parameters": [{"schema": {"type": ["string", "null"]}}]}}},
    }
    out = openapi_30(doc)
    assert out["openapi"] == "3.0.3" and doc["openapi"] == "3.1.0"  # a copy
    props = out["components"]["schemas"]["Item"]["properties"]
    assert props["kind"]["enum"] == ["Feature"] and "const" not in props["kind"]
    assert props["note"]["type"] == "string" and props["note"]["nullable"] is True
    assert "anyOf" not in props["note"] and props["note"]["default"] is None
    assert props["parent"]["allOf"] == [{"$ref": "#/components/schemas/Item"}]
    assert props["parent"]["nullable"] is True
    assert props["size"]["minimum"] == 0 and props["size"]["exclusiveMinimum"] is True
    assert props["size"]["maximum"] == 10 and props["size"]["exclusiveMaximum"] is True
    assert props["size"]["example"] == 3 and "examples" not in props["size"]
    param = out["paths"]["/x"]["get"]["parameters"][0]["schema"]
    assert param == {"type": "string", "nullable": True}


def test_a_default_of_null_goes_where_null_is_not_allowed() -> None:
    out = openapi_30({"schema": {"type": "boolean", "default": None}})
    assert out["schema"] == {"type": "boolean"}
    # names of properties are not schema keywords
    kept = {"properties": {"type": {"type": "string"}, "const": {"type": "integer"}}}
    assert openapi_30({"schema": kept})["schema"] == kept
