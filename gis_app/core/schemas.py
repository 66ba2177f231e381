"""Declared schemas without a web framework: the base of the app's pydantic models, reading
query-style arguments into them, and pydantic's refusals in the app's words (Chinese, naming
the field) as `ValidationError`.

Models may validate with the app's own parsers (a `BeforeValidator` that raises
`ValidationError`): pydantic lets those pass through untouched, with their own message.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Protocol, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

from gis_app.core.errors import ValidationError

M = TypeVar("M", bound=BaseModel)


class Schema(BaseModel):
    """Base of the declared models: unknown keys are ignored, fields may be given by name or
    by alias (query parameters use the alias: `street` for `streets`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CheckedBody(Schema):
    """A JSON body whose fields are checked by the app's own parsers. A required field left
    out reaches its parser as its `absent` value (None unless named there), so the parser
    refuses it in its own words, as it did before the body was declared (pydantic would say
    only "缺少 …")."""

    #: what a required field left out is read as, by field name (None unless named here)
    absent: ClassVar[dict[str, Any]] = {}

    @pydantic.model_validator(mode="before")
    @classmethod
    def _absent_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        left_out = {
            key: cls.absent.get(name)
            for name, info in cls.model_fields.items()
            if info.is_required() and (key := info.alias or name) not in data
        }
        return {**data, **left_out} if left_out else data


class ArgSource(Protocol):
    """Query-style arguments: Werkzeug's MultiDict, or anything with `getlist`."""

    def getlist(self, key: str) -> list[str]: ...


def bad_text(data: Any, field: str = "body") -> tuple[str, str] | None:
    """The first string in `data` (a JSON value, query or form values) that no text column can
    hold: (field, what is wrong). A lone surrogate (JSON's "\\udc80") cannot be encoded in
    UTF-8 and NUL cannot be stored by PostgreSQL: either failed as a 500 in the database."""
    if isinstance(data, str):
        for ch in data:
            if "\ud800" <= ch <= "\udfff":
                return field, f"孤立的代理项字符 U+{ord(ch):04X}"
            if ch == "\x00":
                return field, "空字符 U+0000"
        return None
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = str(key) if field == "body" else f"{field}.{key}"
            found = bad_text(str(key), name) or bad_text(value, name)
            if found:
                return found
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            found = bad_text(value, f"{field}[{i}]" if field != "body" else "body")
            if found:
                return found
    return None


def validate(model: type[M], data: Any) -> M:
    """`data` as a `model`, or the app's 422 naming the first bad field (a string with a
    character no text can hold, first of all)."""
    found = bad_text(data)
    if found is not None:
        field, what = found
        raise ValidationError(f"字段 {field[:64]} 含有无效字符（{what}）", field[:64])
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise refusal(exc) from None


def from_args(model: type[M], args: ArgSource) -> M:
    """Query-style arguments as a `model`: a list field takes every value (repeated and
    comma-separated values are the model's to split), any other field only one."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        values = args.getlist(key)
        if not values:
            continue
        if is_list(info.annotation):
            data[key] = values
        elif len(values) > 1:
            raise ValidationError(f"参数 {key} 只能给一次", key)
        else:
            data[key] = values[0]
    return validate(model, data)


def is_list(annotation: Any) -> bool:
    """Whether a field's type is a list (or an optional list)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return is_list(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(is_list(a) for a in typing.get_args(annotation) if a is not type(None))
    return origin in (list, set, frozenset)


def refusal(exc: pydantic.ValidationError) -> ValidationError:
    """The first error of a pydantic validation as the app's ValidationError (Chinese)."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
    name = loc[-1] if loc else "body"
    if err["type"] == "missing":
        name = ".".join(loc) or name
    return ValidationError(_message(err, name), name)


def _excerpt(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "…"


def _message(err: Mapping[str, Any], name: str) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    templates: dict[str, str] = {
        "missing": "缺少 {name}",
        "string_type": "{name} 必须是文字",
        "string_too_short": "{name} 不能为空",
        "string_too_long": "{name} 过长（最多 {max_length} 个字）",
        "string_pattern_mismatch": "{name} 的格式不对：{value}",
        "int_type": "{name} 必须是整数",
        "int_parsing": "{name} 必须是整数：{value}",
        "int_from_float": "{name} 必须是整数：{value}",
        "float_type": "{name} 必须是数字",
        "float_parsing": "{name} 必须是数字：{value}",
        "finite_number": "{name} 必须是有限的数",
        "bool_type": "{name} 必须是 true 或 false",
        "bool_parsing": "{name} 必须是 true 或 false：{value}",
        "greater_than": "{name} 必须大于 {gt}",
        "greater_than_equal": "{name} 不能小于 {ge}",
        "less_than": "{name} 必须小于 {lt}",
        "less_than_equal": "{name} 不能大于 {le}",
        "literal_error": "{name} 的值无效：{value}（可选：{expected}）",
        "enum": "{name} 的值无效：{value}（可选：{expected}）",
        "date_type": "{name} 必须是日期（YYYY-MM-DD）",
        "date_parsing": "{name} 不是有效的日期（YYYY-MM-DD）：{value}",
        "date_from_datetime_parsing": "{name} 不是有效的日期（YYYY-MM-DD）：{value}",
        "date_from_datetime_inexact": "{name} 必须是日期，不带时刻：{value}",
        "datetime_type": "{name} 必须是时间（ISO 8601）",
        "datetime_parsing": "{name} 不是有效的时间（ISO 8601）：{value}",
        "datetime_from_date_parsing": "{name} 不是有效的时间（ISO 8601）：{value}",
        "list_type": "{name} 必须是列表",
        "too_short": "{name} 至少要有 {min_length} 项",
        "too_long": "{name} 最多 {max_length} 项",
        "dict_type": "{name} 必须是对象",
        "model_type": "{name} 必须是对象",
        "model_attributes_type": "{name} 必须是对象",
        "extra_forbidden": "不认识的字段 {name}",
        "value_error": "{name} 的值无效",
    }
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        text = str(ctx["error"])
        if text and not text.isascii():  # a Chinese message of the app's own
            return text
    template = templates.get(kind, "{name} 的值无效：{value}")
    params = _Blank({k: v for k, v in ctx.items() if isinstance(v, (int, float, str))})
    params.update(name=name, value=_excerpt(value))
    return template.format_map(params)


class _Blank(dict[str, Any]):
    """Formatting values; a placeholder the error lacks reads as "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


# ---------------------------------------------------------------- GeoJSON answers (RFC 7946)


class Feature(Schema):
    """A GeoJSON Feature (RFC 7946: longitude, latitude; no crs member)."""

    type: typing.Literal["Feature"]
    id: int | str | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None


class FeatureCollection(Schema):
    """A GeoJSON FeatureCollection."""

    type: typing.Literal["FeatureCollection"]
    features: list[Feature]


class Page(FeatureCollection):
    """One page of features: how many match, how many are here, links to the next and
    previous pages."""

    numberMatched: int
    numberReturned: int
    links: list[dict[str, Any]] = []
