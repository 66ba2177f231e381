"""Coverage and publicity work as the API takes and gives them (the services check values)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from gis_app.core import codes
from gis_app.core.schemas import CheckedBody, Schema
from gis_app.http.schemas import Upload


def _text(description: str) -> Any:
    return WithJsonSchema({"type": "string", "description": description})


class CoverageIn(CheckedBody):
    kind: Annotated[
        Any,
        WithJsonSchema(
            {"type": "string", "enum": list(codes.COVERAGE_KINDS), "description": "报道类别"}
        ),
    ] = None
    published_on: Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})] = None
    outlet: Annotated[Any, _text("媒体")] = None
    title: Annotated[Any, _text("标题（公开页面显示，勿含个人信息）")] = None
    url: Annotated[Any, _text("链接（http:// 或 https://）")] = None
    summary: Annotated[Any, _text("摘要（不公开）")] = ""
    published: Annotated[Any, WithJsonSchema({"type": "boolean", "description": "公开"})] = False
    sites: Annotated[
        Any,
        WithJsonSchema({"type": "array", "items": {"type": "string"}, "description": "点位编号"}),
    ] = None
    streets: Annotated[
        Any,
        WithJsonSchema({"type": "array", "items": {"type": "string"}, "description": "街道代码"}),
    ] = None


class CoverageLinkOut(Schema):
    street_code: str
    street: str
    site_id: int | None
    site_code: str | None


class CoverageOut(Schema):
    id: int
    kind: str = Field(description="exposure、follow_up、other")
    kind_label: str
    published_on: str
    outlet: str
    title: str
    url: str
    summary: str
    published: bool
    sites: list[str]
    streets: list[str]
    links: list[CoverageLinkOut]
    recorded_by: str
    updated_by: str


class CoverageList(Schema):
    coverage: list[CoverageOut]


class PublicCoverage(Schema):
    published_on: str
    kind_label: str
    outlet: str
    title: str
    url: str
    streets: list[str]


class PublicCoverageList(Schema):
    coverage: list[PublicCoverage]


class PublicityIn(CheckedBody):
    kind: Annotated[
        Any,
        WithJsonSchema(
            {"type": "string", "enum": list(codes.PUBLICITY_KINDS), "description": "宣传形式"}
        ),
    ] = None
    content: Annotated[Any, _text("宣传内容")] = None
    place: Annotated[Any, _text("地点")] = None
    done_on: Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})] = None
    quantity: Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 1})] = None
    lon: Annotated[Any, WithJsonSchema({"type": "number", "description": "经度（可选）"})] = None
    lat: Annotated[Any, WithJsonSchema({"type": "number", "description": "纬度（可选）"})] = None


class PublicityPhotoForm(Schema):
    """The photo of a publicity record (JPEG, PNG or WebP)."""

    file: Upload


class PublicityOut(Schema):
    id: int
    street_code: str
    street: str
    kind: str
    kind_label: str
    unit: str
    content: str
    place: str
    lon: float | None
    lat: float | None
    done_on: str
    quantity: int
    has_photo: bool
    photo_taken_at: str | None
    recorded_by: str
    updated_by: str


class PublicityList(Schema):
    publicity: list[PublicityOut]


class PublicityQuery(Schema):
    street: str | None = Field(default=None, description="街道代码（区级）")
    month: str | None = Field(default=None, description="月份 YYYY-MM")
    kind: str | None = Field(default=None, description="宣传形式")


class MonthQuery(Schema):
    month: str | None = Field(default=None, description="月份 YYYY-MM（默认本月）")


class KindCount(Schema):
    records: int
    quantity: int


class KindInfo(Schema):
    code: str
    label: str
    unit: str


class StreetMonth(Schema):
    street_code: str
    street: str
    kinds: dict[str, KindCount]
    records: int
    no_photo: int


class PublicityMonth(Schema):
    month: str
    kinds: list[KindInfo]
    rows: list[StreetMonth]
    totals: dict[str, KindCount]
    records: int
    streets_without: list[str]
