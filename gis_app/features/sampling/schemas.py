"""The spot checks' declared API schemas: the bodies and queries the API takes, validated with
the services' own parsers (same Chinese messages, same fields), and the answers it gives.

The frame's query is `frame.FrameSpec` itself (the site list's filters and the closing
range). A value whose check needs the database or the frame (a street the district lacks, a
login, a sample size larger than the frame) is documented here and checked by the service.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from gis_app.core.errors import ValidationError
from gis_app.core.fieldtime import parse_recorded_at
from gis_app.core.schemas import Schema
from gis_app.features.sampling import design, gbt2828, inspectors, service
from gis_app.features.sampling.allocation import ALLOCATIONS, check_allocation
from gis_app.features.sampling.frame import FrameSpec


def _labels(mapping: dict[str, str]) -> str:
    return "; ".join(f"{k} = {v}" for k, v in mapping.items())


def _frame(raw: Any) -> FrameSpec:
    """The frame object of a draw, read like the query of GET /samples/frame."""
    data = raw or {}
    if not isinstance(data, dict):
        raise ValidationError("frame 必须是对象（抽样框筛选条件）", "frame")
    return FrameSpec.from_object(data)


#: a seed: an integer 0 … 2^63-1 (as text, since JSON numbers that large lose digits)
Seed = Annotated[
    int | None,
    BeforeValidator(design.given_seed),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,19}$"}),
]
SIZE_MODE_DEFAULT: Final = "gbt2828"


class DrawBody(Schema):
    """A draw: which sites (the frame), how many, how, and the seed that makes it
    reproducible. The frame, method, allocation, seed and title are checked first; the size
    when the frame is known."""

    frame: Annotated[FrameSpec, BeforeValidator(_frame)] = Field(
        default_factory=FrameSpec,
        description="抽样框条件（与 GET /samples/frame 的参数相同；默认全部已销账点位）",
    )
    method: Annotated[
        str,
        BeforeValidator(design.check_method),
        WithJsonSchema({"type": "string", "enum": list(design.METHODS)}),
    ] = Field(design.DEFAULT_METHOD, description=f"抽样方法：{_labels(design.METHODS)}")
    allocation: Annotated[
        str,
        BeforeValidator(check_allocation),
        WithJsonSchema({"type": "string", "enum": list(ALLOCATIONS)}),
    ] = Field("proportional", description=f"样本在各街道间的分配：{_labels(ALLOCATIONS)}")
    seed: Seed = Field(None, description="随机种子（0 … 2^63-1；省略则随机生成并保存）")
    title: Annotated[
        str,
        BeforeValidator(service.check_title),
        WithJsonSchema({"type": "string", "maxLength": service.MAX_TITLE}),
    ] = Field("", description="批次名称（省略则为“日期 抽查”）")
    size_mode: Annotated[
        str,
        BeforeValidator(lambda raw: str(raw or SIZE_MODE_DEFAULT).strip()),
        WithJsonSchema({"type": "string", "enum": list(design.SIZE_MODES)}),
    ] = Field(SIZE_MODE_DEFAULT, description=f"样本量方式：{_labels(design.SIZE_MODES)}")
    n: Annotated[Any, WithJsonSchema({"type": "number", "exclusiveMinimum": 0})] = Field(
        None,
        description="样本量：fixed 为点位数（整数，不超过抽样框），percent 为百分比"
        "（大于 0、不超过 100）；gbt2828 时不用",
    )
    level: Annotated[Any, WithJsonSchema({"type": "string", "enum": list(gbt2828.LEVELS)})] = Field(
        None, description="GB/T 2828.1 检验水平（gbt2828 时用，默认 II）"
    )

    def request(self) -> service.DrawRequest:
        return service.DrawRequest(
            size_mode=self.size_mode,
            size_value=self.n,
            level=self.level,
            method=self.method,
            allocation=self.allocation,
            seed=self.seed,
            title=self.title,
        )


class AssignBody(Schema):
    """The double-random draw of inspectors: at most `cap` sites each, never of their own
    street."""

    cap: Annotated[
        int,
        BeforeValidator(service.check_cap),
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": service.MAX_CAP}),
    ] = Field(20, description="每名执法人员最多分到的点位数")
    seed: Seed = Field(None, description="随机种子（0 … 2^63-1；省略则随机生成并保存）")


class ResultBody(Schema):
    """The result of one sampled site's check; a fail needs notes and reopens the site."""

    result: Annotated[str, WithJsonSchema({"type": "string", "enum": list(service.RESULTS)})] = (
        Field(description="核查结果：pass = 合格；fail = 不合格（点位重新打开）")
    )
    notes: Annotated[str, WithJsonSchema({"type": "string", "maxLength": service.MAX_NOTES})] = (
        Field("", description="说明（不合格时必填：发现的问题）")
    )
    photo_ids: Annotated[
        Any, WithJsonSchema({"type": "array", "items": {"type": "integer", "minimum": 1}})
    ] = Field(None, description="现场照片的编号（先上传照片）")
    recorded_at: Annotated[
        Any, WithJsonSchema({"type": ["string", "null"], "format": "date-time"})
    ] = Field(None, description="现场录入的时间（ISO 8601，含时区；离线录入、稍后发送时）")

    @model_validator(mode="before")
    @classmethod
    def _outcome(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        outcome, notes = service.parse_outcome(data.get("result"), data.get("notes", ""))
        parse_recorded_at(data.get("recorded_at"))
        return {**data, "result": outcome, "notes": notes}


class InspectorCreate(Schema):
    """A new entry of the inspectors' pool: a person, or a login of role inspector (then the
    name may be left out and the street is the account's). Checked by the service, which
    needs the accounts and streets."""

    name: Annotated[
        Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": inspectors.MAX_NAME})
    ] = Field(None, description="姓名（关联登录账户时可省略，取账户的显示名）")
    street: Annotated[
        Any, WithJsonSchema({"type": "string", "pattern": "^([0-9]{9}([0-9]{3})?)?$"})
    ] = Field(None, description="所属街道代码（空：区级，可查任何街道；关联账户时取账户的街道）")
    username: Annotated[Any, WithJsonSchema({"type": "string", "maxLength": 64})] = Field(
        None, description="关联的登录账户（在岗的执法队员）"
    )


class InspectorUpdate(Schema):
    """An inspector taken out of future draws, or back in (the history stays)."""

    active: bool = Field(description="true = 在岗；false = 停用，不再被抽取")

    @model_validator(mode="before")
    @classmethod
    def _strict_bool(cls, data: Any) -> Any:
        """true or false only (not "true", 1 or null)."""
        if isinstance(data, dict) and not isinstance(data.get("active"), bool):
            raise ValidationError("active 必须是 true 或 false", "active")
        return data


def _batch_number(raw: Any) -> int | None:
    text = str(raw) if raw is not None else ""
    if not text:
        return None
    if not text.isdecimal():
        raise ValidationError("参数 batch 必须是批次编号", "batch")
    return int(text)


class QualityQuery(Schema):
    """Which batch the streets' ranking is estimated from."""

    batch: Annotated[
        int | None,
        BeforeValidator(_batch_number),
        WithJsonSchema({"type": "integer", "minimum": 1}),
    ] = Field(None, description="批次编号（省略：最近一次有核查结果的批次）")


# ---------------------------------------------------------------- answers


class StreetCount(Schema):
    code: str
    name: str
    count: int = Field(description="抽样框中该街道的点位数")


class SizeSuggestion(Schema):
    code_letter: str = Field(description="样本量字码")
    n: int = Field(description="样本量")


class FrameSummary(Schema):
    """The frame the filters select: its size per street and the GB/T 2828.1 sample sizes."""

    frame_size: int
    streets_with_sites: int
    by_street: list[StreetCount]
    gbt2828: dict[str, SizeSuggestion] = Field(description="各检验水平的样本量（抽样框至少 2 个）")
    frame: dict[str, str] = Field(description="抽样框条件（查询参数）")


class BatchListed(Schema):
    """A batch in a list: the office's with its design and counts, the published list's with
    its name and size only."""

    id: int
    title: str
    created_at: str
    sample_size: int


class BatchList(Schema):
    batches: list[BatchListed]


class EstimateDoc(Schema):
    """The share truly rectified with its 95 % interval (None while nothing is inspected)."""

    population: int
    sampled: int
    inspected: int
    passed: int
    failed: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    complete: bool


class StreetEstimate(EstimateDoc):
    code: str
    name: str


class Estimates(Schema):
    batch_id: int
    streets: list[StreetEstimate]
    district: EstimateDoc


class Quality(Schema):
    """Each street's estimate by street code, from one batch (batch_id None: no results)."""

    batch_id: int | None
    streets: dict[str, StreetEstimate]
    district: EstimateDoc | None


class SampledSite(Schema):
    ord: int
    site_id: int
    code: str | None
    address: str | None
    community: str | None
    street_code: str
    street_name: str | None
    status: str | None
    disposition: str | None
    lon: float
    lat: float
    inspector_id: int | None
    inspector: str | None
    result: str | None
    notes: str
    photo_ids: list[int]
    reopened: bool
    inspected_at: str | None
    inspected_by: str | None


class BatchDocument(Schema):
    """A batch: for the office its design, seed, frame fingerprint, balance, estimates and
    every sampled site; for an inspector its name and the sites assigned to him or her."""

    id: int
    title: str
    created_at: str
    sites: list[SampledSite]
    created_by: str | None = None
    method: str | None = None
    method_label: str | None = None
    allocation: str | None = None
    allocation_label: str | None = None
    seed: str | None = None
    frame_size: int | None = None
    sample_size: int | None = None
    frame_sha256: str | None = None
    params: dict[str, Any] | None = None
    balance: dict[str, Any] | None = None
    assignment: dict[str, Any] | None = None
    estimates: Estimates | None = None
    report_archived_at: str | None = None


class Difference(Schema):
    ord: int
    expected: int | None
    stored: int | None


class Audit(Schema):
    """The batch drawn again from its stored frame, method and seed, compared."""

    batch_id: int
    match: bool
    frame_ok: bool
    sample_ok: bool
    assignment_ok: bool | None
    frame_size: int
    sample_size: int
    seed: str
    method: str
    balance_stored: float | None
    balance_redrawn: float | None
    differences: list[Difference]


class ResultRecorded(Schema):
    batch_id: int
    site_id: int
    result: str
    reopened: bool
    inspected_at: str | None
    recorded_at: str | None = Field(None, description="现场录入的时间（离线录入时）")


class PublicSummary(Schema):
    """双随机一公开: what was drawn, how, and the results; no personal data."""

    batch: dict[str, Any]
    double_random: dict[str, Any]
    streets: list[dict[str, Any]]
    district: EstimateDoc
    sites: list[dict[str, Any]]


class PoolEntry(Schema):
    id: int
    name: str
    street_code: str | None
    street_name: str
    active: bool
    username: str | None
    login_active: bool | None


class Pool(Schema):
    inspectors: list[PoolEntry]


class InspectorAdded(Schema):
    id: int
    name: str
    street_code: str | None
    username: str | None


class InspectorState(Schema):
    id: int
    name: str
    active: bool


class SamplePhoto(Schema):
    """A photo stored for a sampled site's check."""

    id: int
    site_id: int
    warnings: list[dict[str, str]] = Field(description="佐证警示（如拍摄位置远离点位）")
