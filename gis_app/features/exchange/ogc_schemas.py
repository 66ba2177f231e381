"""OGC API – Features' declared schemas: the query of every request (`f`), the query of each
collection's items (limit, offset, bbox, bbox-crs, datetime and the collection's queryables),
and the documents the API answers.

The views validate the requests with these models (an invalid value is the app's
ValidationError, which the OGC blueprint answers with 400), and the OpenAPI document of /ogc
is generated from them (ogc_openapi.py). A queryable of the sites is read as the SiteFilter
parameter it stands for, so the OGC API, the site list and the exports refuse the same values
with the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    model_validator,
)
from werkzeug.datastructures import MultiDict

from gis_app.core import clock, codes
from gis_app.core.errors import ValidationError, excerpt
from gis_app.core.schemas import Schema, from_args, validate
from gis_app.features.exchange.export.fields import ExportField, fields_for
from gis_app.features.ledger.queries import SiteFilter

CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326: Final = "http://www.opengis.net/def/crs/EPSG/0/4326"  # latitude first
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 10_000
MAX_OFFSET: Final = 10_000_000

Q = TypeVar("Q", bound="ItemsQuery")


# ---------------------------------------------------------------- the parameters' parsers


def _format(raw: Any) -> str:
    """'html' or 'json' (GeoJSON is JSON) from f=."""
    value = str(raw).strip().lower()
    if value == "html":
        return "html"
    if value in ("json", "geojson"):
        return "json"
    raise ValidationError(f"参数 f 只能是 json 或 html：{excerpt(raw)!r}", "f")


def _count(name: str, default: int, minimum: int, maximum: int) -> BeforeValidator:
    """A whole number of at least `minimum`; more than `maximum` is cut to it, blank is the
    default."""

    def parse(raw: Any) -> int:
        if raw is None or str(raw).strip() == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError(f"参数 {name} 必须是整数：{excerpt(raw)!r}", name) from None
        if value < minimum:
            raise ValidationError(f"参数 {name} 不能小于 {minimum}", name)
        return min(value, maximum)

    return BeforeValidator(parse)


def _check_crs(crs: str | None) -> None:
    if crs not in (None, "", CRS84, EPSG_4326):
        raise ValidationError(f"bbox-crs 只支持 {CRS84}", "bbox-crs")


def parse_ogc_bbox(raw: str, crs: str | None) -> tuple[float, float, float, float]:
    """bbox in CRS84: 4 numbers (or 6, with heights, which are ignored)."""
    _check_crs(crs)
    try:
        numbers = [float(p) for p in raw.split(",")]
    except ValueError:
        raise ValidationError(f"bbox 含有非数字：{excerpt(raw)!r}", "bbox") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise ValidationError("bbox 应为 4 个数：最小经度,最小纬度,最大经度,最大纬度", "bbox")
    minx, miny, maxx, maxy = numbers
    if any(v != v or abs(v) == float("inf") for v in numbers):
        raise ValidationError("bbox 含有非有限数", "bbox")
    if crs == EPSG_4326:  # latitude first
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError("bbox 超出经纬度范围", "bbox")
    if minx > maxx:
        raise ValidationError("bbox 跨越 180° 经线，不支持", "bbox")
    return (minx, miny, maxx, maxy)


def _parse_moment(text: str, end: bool) -> datetime | None:
    """One end of a datetime interval: '..' or '' is open; a date is its whole day."""
    text = text.strip()
    if text in ("", ".."):
        return None
    # GDAL writes a date alone as '2026-06-15T'
    day_text = text[:-1] if text.endswith("T") else text
    if len(day_text) == 10:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise ValidationError(f"datetime 无法识别：{text!r}", "datetime") from None
        start = datetime.combine(day, time(0), clock.LOCAL_TZ).astimezone(UTC)
        return start + timedelta(days=1) if end else start
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"datetime 无法识别：{text!r}（RFC 3339，如 2026-06-15T10:00:00+08:00）", "datetime"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.LOCAL_TZ)
    return moment.astimezone(UTC)


def parse_datetime(raw: str) -> tuple[datetime | None, datetime | None]:
    """An instant or an interval as [start, end) in UTC; either end may be open."""
    if "/" in raw:
        first, _, second = raw.partition("/")
        start = _parse_moment(first, end=False)
        stop = _parse_moment(second, end=True)
        if start is not None and stop is not None and start >= stop:
            raise ValidationError("datetime 区间的开始晚于结束", "datetime")
        return start, stop
    start = _parse_moment(raw, end=False)
    if start is None:
        raise ValidationError("datetime 不能为空", "datetime")
    text = raw.strip().rstrip("T")
    if len(text) == 10:
        return start, _parse_moment(raw, end=True)
    return start, start + timedelta(seconds=1)


def _interval(raw: Any) -> Any:
    if isinstance(raw, str):
        return parse_datetime(raw) if raw else None
    return raw


def _bool_arg(raw: Any, info: ValidationInfo) -> bool | None:
    """true/false (1/0, yes/no, 是/否) of a property filter; blank means no filter."""
    if raw is None or isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in ("true", "1", "yes", "是"):
        return True
    if value in ("false", "0", "no", "否"):
        return False
    if not value:
        return None
    name = info.field_name
    raise ValidationError(f"参数 {name} 应为 true 或 false：{excerpt(raw)!r}", name)


#: a true/false property filter
BoolFilter = Annotated[bool | None, BeforeValidator(_bool_arg)]


# ---------------------------------------------------------------- documenting a property

_TYPES: Final[Mapping[str, Mapping[str, str]]] = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def _field_schema(f: ExportField) -> dict[str, Any]:
    """The JSON Schema of an export field (a feature property)."""
    schema: dict[str, Any] = dict(_TYPES[f.type])
    if f.codes:
        schema["enum"] = list(f.codes)
    schema["description"] = f"{f.zh}：{f.description}"
    return schema


def _queryable(layer: str, name: str) -> WithJsonSchema:
    """A property filter `name=value`, documented as the property it filters on (the full
    field list: a filter may name a property only the district office's export carries)."""
    fields = {f.name: f for f in fields_for(layer, personal=True)}
    schema = _field_schema(fields[name])
    schema["description"] = f"只返回 {name} 等于该值的要素（{schema['description']}）"
    return WithJsonSchema({**schema, "style": "form", "explode": False})


def _site_parameter(description: str) -> WithJsonSchema:
    """A SiteFilter parameter the sites' items take as well."""
    return WithJsonSchema({"type": "string", "description": f"{description}（同 /api/v1/sites）"})


# ---------------------------------------------------------------- queries


class FormatQuery(Schema):
    """What every request of the OGC API may ask: the format (else the Accept header)."""

    f: Annotated[
        str | None,
        BeforeValidator(_format),
        WithJsonSchema({"type": "string", "enum": ["json", "html"]}),
    ] = Field(None, description="输出格式（也可用 Accept 头）")


class ItemsQuery(FormatQuery):
    """The parameters of every collection's items; each collection adds its queryables."""

    limit: Annotated[
        int,
        _count("limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        WithJsonSchema(
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "style": "form",
                "explode": False,
            }
        ),
    ] = Field(DEFAULT_LIMIT, description=f"每页要素数（超过 {MAX_LIMIT} 按 {MAX_LIMIT}）")
    offset: Annotated[
        int, _count("offset", 0, 0, MAX_OFFSET), WithJsonSchema({"type": "integer", "minimum": 0})
    ] = Field(0, description="跳过的要素数")
    bbox: Annotated[
        tuple[float, float, float, float] | None,
        WithJsonSchema(
            {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "items": {"type": "number"},
                "style": "form",
                "explode": False,
            }
        ),
    ] = Field(None, description="最小经度,最小纬度,最大经度,最大纬度（CRS84）")
    bbox_crs: Annotated[
        str | None,
        WithJsonSchema({"type": "string", "format": "uri", "enum": [CRS84, EPSG_4326]}),
    ] = Field(None, alias="bbox-crs", description="bbox 的坐标参照系（EPSG:4326 为纬度在前）")
    interval: Annotated[
        tuple[datetime | None, datetime | None] | None,
        BeforeValidator(_interval),
        WithJsonSchema({"type": "string", "style": "form", "explode": False}),
    ] = Field(
        None,
        alias="datetime",
        description=(
            "最后修改时间（updated_at）：时刻或区间，RFC 3339，"
            "如 2026-06-01T00:00:00Z/.. 或 2026-06-15（北京时间整日）"
        ),
    )
    #: the filter on sites the parameters amount to (a street's sites: its street code)
    _filter: SiteFilter = PrivateAttr(default_factory=SiteFilter)

    @model_validator(mode="before")
    @classmethod
    def _bbox_in_its_crs(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        raw, crs = data.get("bbox"), data.get("bbox-crs", data.get("bbox_crs"))
        if isinstance(raw, str) and raw:
            return {**data, "bbox": parse_ogc_bbox(raw, crs)}
        _check_crs(crs)
        return {**data, "bbox": None} if raw == "" else data

    @property
    def site_filter(self) -> SiteFilter:
        return self._filter


class SiteItemsQuery(ItemsQuery):
    """The sites' items: their queryables (property = value), then SiteFilter parameters."""

    code: Annotated[str | None, _queryable("sites", "code")] = None
    street_code: Annotated[str | None, _queryable("sites", "street_code")] = None
    # the one queryable that may be repeated (status=a&status=b: either)
    status: Annotated[list[str], _queryable("sites", "status")] = Field(default_factory=list)
    disposition: Annotated[str | None, _queryable("sites", "disposition")] = None
    kind: Annotated[str | None, _queryable("sites", "kind")] = None
    source: Annotated[str | None, _queryable("sites", "source")] = None
    community: Annotated[str | None, _queryable("sites", "community")] = None
    overdue: Annotated[str | None, _queryable("sites", "overdue")] = None
    # one per flag of the ledger (codes.FLAGS)
    flag_central_inspection: Annotated[
        BoolFilter, _queryable("sites", "flag_central_inspection")
    ] = None
    flag_hardship: Annotated[BoolFilter, _queryable("sites", "flag_hardship")] = None
    flag_renovation: Annotated[BoolFilter, _queryable("sites", "flag_renovation")] = None
    flag_obstruction: Annotated[BoolFilter, _queryable("sites", "flag_obstruction")] = None
    street: Annotated[list[str], _site_parameter("街道代码，可多选")] = Field(default_factory=list)
    flag: Annotated[list[str], _site_parameter("标记（全部满足），可多选")] = Field(
        default_factory=list
    )
    q: Annotated[str | None, _site_parameter("编号或地址中的文字")] = None
    deadline_from: Annotated[str | None, _site_parameter("当前期限不早于")] = None
    deadline_to: Annotated[str | None, _site_parameter("当前期限不晚于")] = None

    @model_validator(mode="after")
    def _as_site_filter(self) -> SiteItemsQuery:
        """Read the queryables as SiteFilter's parameters (same validation, same messages);
        flag_x=true is SiteFilter's flag=x (flag_x=false is left to the query)."""
        flags = [flag for flag in codes.FLAGS if getattr(self, f"flag_{flag}") is True]
        data: dict[str, Any] = {
            "status": self.status,
            "street": [*self.street, *([self.street_code] if self.street_code is not None else [])],
            "flag": [*self.flag, *flags],
        }
        for name in (
            "disposition",
            "kind",
            "source",
            "community",
            "overdue",
            "q",
            "deadline_from",
            "deadline_to",
        ):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        self._filter = validate(SiteFilter, data)
        # flag_x=false reads flag_x too: checked against what the reader may see like flag=x
        self._filter.also_filters(f"flag_{flag}" for flag in self.flags_off())
        return self

    def flags_off(self) -> list[str]:
        """The flags asked to be false (flag_x=false)."""
        return [flag for flag in codes.FLAGS if getattr(self, f"flag_{flag}") is False]


class StreetItemsQuery(ItemsQuery):
    """The streets' items: by code, name, or whether the boundary is approximate."""

    code: Annotated[str | None, _queryable("streets", "code")] = None
    name: Annotated[str | None, _queryable("streets", "name")] = None
    approximate: Annotated[BoolFilter, _queryable("streets", "approximate")] = None

    @model_validator(mode="after")
    def _as_site_filter(self) -> StreetItemsQuery:
        if self.code:
            self._filter = validate(SiteFilter, {"street": [self.code]})
        return self


def read_items_query(model: type[Q], args: MultiDict[str, str]) -> Q:
    """The items parameters as `model`; a parameter the model does not know is refused."""
    allowed = {info.alias or name for name, info in model.model_fields.items()}
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ValidationError(
            f"未知的查询参数：{', '.join(unknown)}（可用：{', '.join(sorted(allowed))}）",
            unknown[0],
        )
    return from_args(model, args)


# ---------------------------------------------------------------- answers


class Link(Schema):
    href: str
    rel: str | None = None
    type: str | None = None
    title: str | None = None


class LandingPage(Schema):
    title: str | None = None
    description: str | None = None
    links: list[Link]


class Conformance(Schema):
    conformsTo: list[str]


class Collection(Schema):
    id: str
    title: str | None = None
    description: str | None = None
    links: list[Link]
    extent: dict[str, Any] | None = None
    itemType: str | None = None
    crs: list[str] | None = None


class Collections(Schema):
    links: list[Link]
    collections: list[Collection]


def _properties(layer: str) -> type[Schema]:
    """A collection's feature properties: the export fields for other agencies."""
    fields: dict[str, Any] = {
        f.name: (Annotated[Any, WithJsonSchema(_field_schema(f))], None)
        for f in fields_for(layer, personal=False)
    }
    return create_model(f"{layer}_properties", __base__=Schema, __module__=__name__, **fields)


SiteProperties = _properties("sites")
StreetProperties = _properties("streets")


class Feature(Schema):
    """A GeoJSON Feature with the properties of one of the collections."""

    type: Literal["Feature"]
    id: Annotated[int | str, WithJsonSchema({"oneOf": [{"type": "string"}, {"type": "integer"}]})]
    geometry: dict[str, Any]
    properties: SiteProperties | StreetProperties  # type: ignore[valid-type]
    links: list[Link] | None = None


class FeatureCollection(Schema):
    type: Literal["FeatureCollection"]
    features: list[Feature]
    links: list[Link] | None = None
    timeStamp: datetime | None = None
    numberMatched: int | None = Field(None, ge=0)
    numberReturned: int | None = Field(None, ge=0)


class OgcException(Schema):
    """An error: OGC's code and description, and the app's own members."""

    code: str = Field(description="InvalidParameterValue、NotFound，或应用的错误类别")
    description: str | None = None
    error: str | None = None
    field: str | None = Field(None, description="出错的参数")
    message: str | None = None
