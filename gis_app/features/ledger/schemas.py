"""Parse and validate the fields of a site, from the API or from a ledger row.

Every error names the field and says in Chinese what is wrong; all errors of a record are
collected so that an import can list them row by row.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, WithJsonSchema, model_validator

from gis_app.core import codes, labels
from gis_app.core.errors import ValidationError, excerpt
from gis_app.core.geo.coords import parse_lonlat
from gis_app.core.schemas import Schema
from gis_app.core.text import (
    describe,
    first_bidi_control,
    identifier_problem,
    name_problem,
    nfkc,
    only_invisible,
)

FIELD_LABELS: dict[str, str] = {
    "code": "编号",
    "address": "地址",
    "community": "社区",
    "kind": "违建类型",
    "area_m2": "面积",
    "person_name": "相对人",
    "person_contact": "联系电话",
    "disposition": "治理方式",
    "flag_central_inspection": "中央第二次环保督查",
    "flag_hardship": "困难户",
    "flag_renovation": "旧楼区改造",
    "flag_obstruction": "阻挠执法",
    "committed_deadline": "承诺期限",
    "current_deadline": "当前期限",
    "status": "状态",
    "source": "来源",
    "note": "备注",
    "addition_reason": "补录原因",
    "historical_source": "历史来源",
    "historical_closed_on": "销账日期",
    "lon": "经度",
    "lat": "纬度",
}
labels.register(FIELD_LABELS)  # refusals name these fields in Chinese
FLAG_FIELDS = tuple(f"flag_{name}" for name in codes.FLAGS)
TEXT_LIMITS = {
    "code": 64,
    "address": 200,
    "community": 64,
    "person_name": 64,
    "person_contact": 64,
    "note": 2000,
    "addition_reason": 500,
}
MAX_AREA_M2 = 1_000_000


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError(message, field)


# ---------------------------------------------------------------- single-value parsers

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?(?:前|之前)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(?:底|末)?(?:前|之前)?$"),
)


def parse_date(value: object, field: str = "date") -> date | None:
    """A date from a date/datetime, ISO or Chinese text; a bare month means its last day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise field_error(field, f"{_label(field)}无法识别为日期：{excerpt(value)!r}")
    text = value.strip()
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(text)
        if m and 1 <= int(m[2]) <= 12:
            year, month = int(m[1]), int(m[2])
            return date(year, month, calendar.monthrange(year, month)[1])
    shown = excerpt(value)
    raise field_error(field, f"{_label(field)}无法识别为日期：{shown!r}（请用 2022-06-30 的格式）")


_TRUE = {"1", "true", "yes", "y", "是", "有", "√", "✓", "t", "x"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", "f", ""}


def parse_bool(value: object, field: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise field_error(field, f"{_label(field)}应为“是”或“否”：{excerpt(value)!r}")


_AREA_UNITS = re.compile(r"\s*(㎡|m²|m2|平方米|平米)\s*$", re.IGNORECASE)


def parse_area(value: object, field: str = "area_m2") -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise field_error(field, "面积必须是数字")
    try:
        if isinstance(value, str):
            number = Decimal(_AREA_UNITS.sub("", value.strip()).replace(",", ""))
        else:
            number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise field_error(field, f"面积不是数字：{excerpt(value)!r}") from None
    if not number.is_finite() or number <= 0:
        raise field_error(field, f"面积必须大于 0：{excerpt(value)!r}")
    if number > MAX_AREA_M2:
        raise field_error(field, f"面积过大（超过 {MAX_AREA_M2:,} m²）：{excerpt(value)!r}")
    return number.quantize(Decimal("0.01"))


def parse_text(value: object, field: str, required: bool = False) -> str:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        text = str(int(value)) if float(value).is_integer() else str(value)
    else:
        raise field_error(field, f"{_label(field)}必须是文字")
    if field in IDENTIFIER_FIELDS:
        text = nfkc(text).strip()  # ＤＺＧ－００１ is DZG-001
    if only_invisible(text):
        text = ""  # an address of zero-width spaces is no address
    if required and not text:
        raise field_error(field, f"缺少{_label(field)}")
    limit = TEXT_LIMITS.get(field)
    if limit and len(text) > limit:
        raise field_error(field, f"{_label(field)}过长（最多 {limit} 个字）")
    if "\x00" in text:
        raise field_error(field, f"{_label(field)}含有不可见的控制字符")
    problem = (
        identifier_problem(text)
        if field in IDENTIFIER_FIELDS
        else name_problem(text)
        if field in NAME_FIELDS
        else None
    )
    bidi = first_bidi_control(text)
    if problem is None and bidi is not None:
        problem = f"含有改变文字显示顺序的控制字符（{describe(bidi)}）"
    if problem is not None:
        raise field_error(field, f"{_label(field)}{problem}")
    return text


#: compared by their normal form (core.text.normal_code): no look-alikes, nothing invisible
IDENTIFIER_FIELDS = frozenset({"code"})
#: read by people as a name: nothing invisible, no look-alike letters
NAME_FIELDS = frozenset({"person_name"})


def parse_choice(value: object, field: str, mapping: Mapping[str, str]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise field_error(field, f"缺少{_label(field)}")
    code = codes.lookup(mapping, value)
    if code is None:
        allowed = "、".join(mapping.values())
        raise field_error(field, f"未知的{_label(field)}：{excerpt(value)!r}（可选：{allowed}）")
    return code


def _label(field: str) -> str:
    return FIELD_LABELS.get(field, field)


# ---------------------------------------------------------------- a whole record

Parser = Callable[[object, str], Any]
_PARSERS: dict[str, Parser] = {
    "code": lambda v, f: parse_text(v, f, required=True),
    "address": lambda v, f: parse_text(v, f, required=True),
    "community": parse_text,
    "person_name": parse_text,
    "person_contact": parse_text,
    "note": parse_text,
    "addition_reason": parse_text,
    "kind": lambda v, f: parse_choice(v, f, codes.KINDS),
    "disposition": lambda v, f: parse_choice(v, f, codes.DISPOSITIONS),
    "status": lambda v, f: parse_choice(v, f, codes.STATUSES),
    "source": lambda v, f: parse_choice(v, f, codes.SOURCES),
    "area_m2": parse_area,
    "committed_deadline": parse_date,
    **{flag: parse_bool for flag in FLAG_FIELDS},
}
EDITABLE_FIELDS = frozenset(_PARSERS) | {"lon", "lat"}
REQUIRED_ON_CREATE = ("address", "disposition", "lon", "lat")


def clean_site_fields(
    raw: Mapping[str, Any], *, partial: bool = False, require_code: bool = False
) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse every known field of `raw`; return the clean values and all errors found.

    With partial=False (create, import) the required fields must be present; with
    partial=True (update) only the fields given are checked. Blank optional values count as
    absent on create and as "clear it" on update.
    """
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    required = set(REQUIRED_ON_CREATE) | ({"code"} if require_code else set())
    if not partial:
        for name in sorted(required, key=list(FIELD_LABELS).index):
            value = raw.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors.append(FieldError(name, f"缺少{_label(name)}"))
    for name, parser in _PARSERS.items():
        if name not in raw:
            continue
        value = raw[name]
        blank = value is None or (isinstance(value, str) and not value.strip())
        if blank and name in required:
            if partial:
                errors.append(FieldError(name, f"{_label(name)}不能为空"))
            continue
        if blank and not partial and name in ("kind", "status", "source"):
            continue  # defaults apply
        if blank and name in ("kind", "status", "source", "disposition"):
            errors.append(FieldError(name, f"{_label(name)}不能为空"))
            continue
        try:
            clean[name] = parser(value, name)
        except ValidationError as exc:
            errors.append(FieldError(exc.field or name, exc.message))
    if "lon" in raw or "lat" in raw:
        lon, lat = raw.get("lon"), raw.get("lat")
        if partial and (lon is None) != (lat is None):
            missing = "lat" if lat is None else "lon"
            errors.append(
                FieldError(missing, f"修改位置需同时给出经度和纬度：缺少{_label(missing)}")
            )
        elif not any(e.field in ("lon", "lat") for e in errors):
            try:
                clean["lon"], clean["lat"] = parse_lonlat(lon, lat)
            except ValidationError as exc:
                errors.append(FieldError(exc.field or "lon", exc.message))
    return clean, errors


def raise_first(errors: list[FieldError]) -> None:
    """Raise a 422 naming the first bad field, with all of them in `errors`."""
    if errors:
        first = errors[0]
        raise ValidationError(
            first.message,
            first.field,
            errors=[{"field": e.field, "message": e.message} for e in errors],
        )


# ---------------------------------------------------------------- declared API bodies


def _field(schema: dict[str, Any], description: str) -> Any:
    """A body field documented as `schema`; its value is checked by the record's parsers."""
    return Annotated[Any, WithJsonSchema({**schema, "description": description})]


def _enum(mapping: Mapping[str, str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(mapping)}


Code = _field({"type": "string", "maxLength": 64}, "编号（省略时自动生成）")
Address = _field({"type": "string", "minLength": 1, "maxLength": 200}, "地址")
Community = _field({"type": "string", "maxLength": 64}, "社区")
Kind = _field(_enum(codes.KINDS), "违建类型")
Area = _field({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_AREA_M2}, "面积（m²）")
PersonName = _field({"type": "string", "maxLength": 64}, "相对人（个人信息）")
PersonContact = _field({"type": "string", "maxLength": 64}, "联系电话（个人信息）")
Disposition = _field(_enum(codes.DISPOSITIONS), "治理方式")
Deadline = _field({"type": "string", "format": "date"}, "承诺期限")
Note = _field({"type": "string", "maxLength": 2000}, "备注")
Lon = _field({"type": "number", "minimum": -180, "maximum": 180}, "经度 WGS84")
Lat = _field({"type": "number", "minimum": -90, "maximum": 90}, "纬度 WGS84")
Flag = _field({"type": "boolean"}, "标记：是 / 否")


def flat_site_input(data: Any) -> Any:
    """A GeoJSON Feature with a Point geometry as the flat object the API also takes."""
    if not isinstance(data, dict) or data.get("type") != "Feature":
        return data
    props = data.get("properties") or {}
    if not isinstance(props, dict):
        raise ValidationError("properties 必须是对象", "properties")
    geometry = data.get("geometry")
    out = dict(props)
    if geometry is not None:
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise ValidationError("geometry 必须是 Point", "geometry")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise ValidationError("Point 的 coordinates 必须是 [经度, 纬度]", "geometry")
        out["lon"], out["lat"] = coords[0], coords[1]
    return out


class SiteFields(Schema):
    """The fields of a site as the API takes them (a flat object, or a GeoJSON Feature with
    a Point). Every value is checked by the same parsers as a ledger row, with the same
    Chinese messages; unknown fields are kept for the service, which refuses them by name."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    code: Code = None
    address: Address = None
    community: Community = None
    kind: Kind = None
    area_m2: Area = None
    person_name: PersonName = None
    person_contact: PersonContact = None
    disposition: Disposition = None
    committed_deadline: Deadline = None
    note: Note = None
    lon: Lon = None
    lat: Lat = None
    flag_central_inspection: Flag = None
    flag_hardship: Flag = None
    flag_renovation: Flag = None
    flag_obstruction: Flag = None

    #: whether the required fields must be there (create) or only the given ones are checked
    partial: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        data = flat_site_input(data)
        if isinstance(data, dict):
            known = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
            _, errors = clean_site_fields(known, partial=cls.partial)
            raise_first(errors)
        return data

    def given(self) -> dict[str, Any]:
        """The fields as given (unset ones left out, unknown ones kept)."""
        return self.model_dump(exclude_unset=True)


class SiteCreate(SiteFields):
    """A new site; its street is derived from the point."""

    partial: ClassVar[bool] = False

    address: Address
    disposition: Disposition
    lon: Lon
    lat: Lat


class SiteUpdate(SiteFields):
    """Changed fields of a site, with the version read (or an If-Match header): a stale
    version is refused with 409."""

    version: Annotated[
        Any, WithJsonSchema({"type": "integer", "minimum": 1, "description": "读取时得到的版本号"})
    ] = None
    reason: Annotated[
        Any, WithJsonSchema({"type": "string", "maxLength": 500, "description": "修改原因"})
    ] = None


class HistoricalSiteCreate(SiteCreate):
    """A site closed before the system existed (区级管理员 only): its fields, and where and
    when its closure is recorded."""

    historical_source: Annotated[
        Any,
        WithJsonSchema(
            {"type": "string", "minLength": 1, "maxLength": 200, "description": "历史来源"}
        ),
    ] = None
    historical_closed_on: Annotated[
        Any, WithJsonSchema({"type": "string", "format": "date", "description": "销账日期"})
    ] = None


class SiteDelete(Schema):
    """Why a site is deleted (soft delete: its history stays readable)."""

    reason: Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 500})]
    version: Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 1})] = None
