"""The patrol API's declared requests and answers.

Every request field is checked by the parsers the services use (`areas.read_area`,
`priorities.parse_priorities`, `plans.check_plan_input`, `findings.read_finding_fields`,
`coverage.parse_week`…), so the rules and their Chinese messages stay in one place; the
fields' JSON Schema documents the wire format. What needs the database (the street, a drawn
polygon as PostGIS reads it, points inside the district, sites nearby) stays with the
services.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from gis_app.core import codes
from gis_app.core.fieldtime import parse_recorded_at
from gis_app.core.schemas import Schema
from gis_app.features.ledger.schemas import TEXT_LIMITS
from gis_app.features.patrol import assign, coverage, findings, plans
from gis_app.features.patrol.areas import (
    KINDS,
    MAX_AREA_KM2,
    MAX_RADIUS_M,
    MAX_SITES,
    MAX_VERTICES,
)
from gis_app.features.patrol.priorities import (
    CLASSES,
    DEFAULT_CAP,
    DEFAULT_CLOSED_DAYS,
    DEFAULT_DUE_DAYS,
    DEFAULT_ORDER,
    MAX_CAP,
)

ID_MAX = 2**63 - 1


def _field(schema: dict[str, Any], description: str) -> Any:
    """A field documented as `schema`; its value is checked by the services' parsers."""
    return Annotated[Any, WithJsonSchema({**schema, "description": description})]


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null (a JSON field the services read as not given)."""
    return {"anyOf": [schema, {"type": "null"}]}


def _point() -> dict[str, Any]:
    """[longitude, latitude] in degrees."""
    return {
        "type": "array",
        "items": {"type": "number", "minimum": -180, "maximum": 180},
        "minItems": 2,
        "maxItems": 2,
    }


def _labels(mapping: dict[str, str]) -> str:
    return "；".join(f"{k} = {v}" for k, v in mapping.items())


# ---------------------------------------------------------------- plans


class PatrolArea(Schema):
    """The area of a plan: a street, a drawn polygon, a circle or the map's view. What a kind
    does not use is ignored."""

    kind: _field({"type": "string", "enum": list(KINDS)}, "范围类型：" + _labels(KINDS))
    street: _field(
        _or_null({"type": "string", "pattern": r"^[0-9]{9}([0-9]{3})?$"}),
        "街道代码（kind=street；省略为当前用户的街道）",
    ) = None
    geometry: _field(
        _or_null({"type": "object"}),
        "绘制的多边形（kind=polygon）：GeoJSON Polygon 或 MultiPolygon，可有洞，"
        f"也可是其文本或 Feature；最多 {MAX_VERTICES} 个顶点、{MAX_AREA_KM2:g} 平方千米",
    ) = None
    repair: _field(
        _or_null({"type": "boolean"}),
        "多边形自相交时自动修复（默认）；false 则拒绝并说明 PostGIS 给出的原因",
    ) = True
    center: _field(_or_null(_point()), "圆心 [经度, 纬度]（kind=circle）") = None
    radius_m: _field(
        _or_null({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_M}),
        "半径（米，kind=circle；椭球面距离）",
    ) = None
    bbox: _field(
        _or_null(
            {
                "type": "array",
                "items": {"type": "number", "minimum": -180, "maximum": 180},
                "minItems": 4,
                "maxItems": 4,
            }
        ),
        "当前视野（kind=bbox）：[最小经度, 最小纬度, 最大经度, 最大纬度]，也可写成逗号分隔的文本",
    ) = None


class PatrolPlanPreview(Schema):
    """A plan request: the area, what to visit there in which order, where to start and end.
    Checked as build_plan checks it before it asks the database (the street, the drawn
    polygon as PostGIS reads it, the points inside the district)."""

    title: _field(
        _or_null({"type": "string", "maxLength": plans.MAX_TITLE}),
        "标题（保存时使用；省略则为“街道 日期 巡查”）",
    ) = None
    area: PatrolArea = Field(
        description="范围：街道 street、绘制多边形 polygon（可有洞；自相交自动修复，"
        "repair=false 则拒绝）、圆 circle（center + radius_m，椭球面距离）、视野 bbox"
    )
    priorities: _field(
        _or_null(
            {
                "type": "array",
                "items": {"type": "string", "enum": list(CLASSES)},
                "uniqueItems": True,
            }
        ),
        "优先类别，按先后（每个点位归入第一个符合的类别；省略为全部，按此顺序）："
        + _labels(CLASSES),
    ) = Field(list(DEFAULT_ORDER))
    cap: _field(_or_null({"type": "integer", "minimum": 1, "maximum": MAX_CAP}), "最多几个点位") = (
        DEFAULT_CAP
    )
    due_days: _field(
        _or_null({"type": "integer", "minimum": 0, "maximum": 365}),
        "临近期限：几天内到期（due_soon）",
    ) = DEFAULT_DUE_DAYS
    closed_days: _field(
        _or_null({"type": "integer", "minimum": 1, "maximum": 365}),
        "近期销账：几天内销账（rebound_check）",
    ) = DEFAULT_CLOSED_DAYS
    start: _field(
        {"anyOf": [_point(), {"type": "string", "enum": ["office"]}, {"type": "null"}]},
        "起点 [经度, 纬度]（须在本区内）；省略或 office 为街道办位置",
    ) = None
    end: _field(_or_null(_point()), "终点 [经度, 纬度]（须在本区内）；省略则返回起点") = None
    use_roads: _field(
        _or_null({"type": "boolean"}),
        "按导入的路网规划：true 必须按道路，false 按椭球面直线；省略则路网覆盖这些点时按道路",
    ) = None

    #: whether the title is checked (saving) or only documented (a preview ignores it)
    titled: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        if cls.titled and isinstance(data, dict):
            plans.check_title(data)
        plans.check_plan_input(data)
        return data

    def given(self) -> dict[str, Any]:
        """The request as given (fields left out stay out), for the services."""
        return self.model_dump(exclude_unset=True)


class PatrolPlanCreate(PatrolPlanPreview):
    """A plan to save: as a preview, its title checked first."""

    titled: ClassVar[bool] = True


class PatrolAssign(Schema):
    """Chosen sites handed to a patrol: a new patrol of exactly these sites for an inspector
    of their street and a day (assignee + date), or more stops of a patrol not yet started
    (patrol_id; its route is planned again). Checked as assign.read_assignment checks it."""

    sites: _field(
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            "minItems": 1,
            "maxItems": MAX_SITES,
        },
        f"所选点位的内部编号（sites 的 id，最多 {MAX_SITES} 个）",
    )
    patrol_id: _field(
        _or_null({"type": "integer", "minimum": 1, "maximum": ID_MAX}),
        "加入这个尚未开始的巡查（省略则新建巡查，须给 assignee 与 date）",
    ) = None
    assignee: _field(
        _or_null({"type": "string", "maxLength": 64}), "新巡查：执法队员的账户名（点位所在街道）"
    ) = None
    date: _field(
        _or_null({"type": "string", "format": "date"}), "新巡查：巡查日期（今天或以后）"
    ) = None
    title: _field(
        _or_null({"type": "string", "maxLength": plans.MAX_TITLE}),
        "新巡查的标题（省略则为“街道 日期 指定点位巡查（队员）”）",
    ) = None

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        assign.read_assignment(data)
        return data

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class PatrolStopVisit(Schema):
    """A stop ticked on the way: visited or not, with a note."""

    visited: _field(_or_null({"type": "boolean"}), "已到（默认 true；false 取消勾选）") = True
    note: _field(_or_null({"type": "string", "maxLength": plans.MAX_NOTE}), "现场情况备注") = None
    recorded_at: _field(
        _or_null({"type": "string", "format": "date-time"}),
        "现场勾选的时间（ISO 8601，含时区；离线记录、稍后发送时）",
    ) = None

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        if isinstance(data, dict):
            plans.check_visit(data.get("visited", True), data.get("note"))
            parse_recorded_at(data.get("recorded_at"))
        return data


def _blank_is_none(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


class PatrolListQuery(Schema):
    """Which patrols to list."""

    street: Annotated[
        str | None,
        BeforeValidator(_blank_is_none),
        WithJsonSchema({"type": "string", "description": "只看该街道的巡查（街道代码）"}),
    ] = None


def _this_monday() -> date:
    return coverage.parse_week(None)


Week = Annotated[
    date,
    BeforeValidator(coverage.parse_week),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(20[0-9]{2}|2100)-W(0[1-9]|[1-4][0-9]|5[0-3])$",
            "examples": ["2026-W24"],
            "description": "ISO 周，例如 2026-W24（默认本周）",
        }
    ),
]
Days = Annotated[
    int,
    BeforeValidator(coverage.parse_days),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": 1,
            "maximum": 366,
            "default": coverage.DEFAULT_STALE_DAYS,
            "description": "几天没有巡查算作久未巡查（1 到 366，默认 7）",
        }
    ),
]


class PatrolStaleQuery(Schema):
    """How many days without a patrol make a street stale."""

    days: Days = coverage.DEFAULT_STALE_DAYS


class PatrolCoverageQuery(PatrolStaleQuery):
    """The ISO week of the coverage, and the days of the stale streets."""

    week: Week = Field(default_factory=_this_monday)


# ---------------------------------------------------------------- findings


def _photos_required(schema: dict[str, Any]) -> None:
    """Photos are required (the service refuses a finding without one, in its own words)."""
    schema["required"] = [*schema.get("required", []), "photos"]


class FindingForm(Schema):
    """A finding on patrol (multipart form): the point, a note, one or more photos; and, when
    a site is near, the answer to the offer: attach_to (that site) or force_reason (a new
    site all the same). The photos are checked by the service (content, size, pixels)."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, json_schema_extra=_photos_required
    )

    lon: _field({"type": "number", "minimum": -180, "maximum": 180}, "经度 WGS84")
    lat: _field({"type": "number", "minimum": -90, "maximum": 90}, "纬度 WGS84")
    note: _field({"type": "string", "minLength": 1, "maxLength": findings.MAX_NOTE}, "发现情况说明")
    photos: _field(
        {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "minItems": 1,
            "maxItems": findings.MAX_PHOTOS,
        },
        f"现场照片（JPEG/PNG/WebP，1 到 {findings.MAX_PHOTOS} 张）",
    ) = None
    address: _field(
        {"type": "string", "maxLength": TEXT_LIMITS["address"]}, "地址（省略为经纬度）"
    ) = None
    kind: _field(
        {"type": "string", "enum": list(codes.KINDS)}, "违建类型（新点位）：" + _labels(codes.KINDS)
    ) = None
    disposition: _field(
        {"type": "string", "enum": list(codes.DISPOSITIONS)},
        "治理方式（新点位，默认 demolish）：" + _labels(codes.DISPOSITIONS),
    ) = None
    community: _field(
        {"type": "string", "maxLength": TEXT_LIMITS["community"]}, "社区（新点位）"
    ) = None
    patrol_id: _field({"type": "integer", "minimum": 1, "maximum": ID_MAX}, "所属巡查") = None
    attach_to: _field(
        {"type": "integer", "minimum": 1, "maximum": ID_MAX},
        "确认并入附近的点位（已销账则为回潮，重新打开）",
    ) = None
    force_reason: _field(
        {"type": "string", "maxLength": findings.MAX_REASON},
        "附近已有点位时另行登记的理由",
    ) = None
    recorded_at: _field(
        {"type": "string", "format": "date-time"},
        "现场记录的时间（ISO 8601，含时区；离线记录、稍后发送时）",
    ) = None

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        if isinstance(data, dict):
            findings.read_finding_fields(_given(data))
        return data

    def given(self) -> dict[str, Any]:
        """The fields given (blank ones left out, as the form's empty inputs), without the
        photos, for the service."""
        return _given(self.model_dump(exclude={"photos"}))


def _given(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "")}


# ---------------------------------------------------------------- answers


class PatrolOffice(Schema):
    """A street office: where the street's patrols start."""

    street: str
    street_name: str
    lon: float
    lat: float
    approximate: bool = Field(description="未登记位置：取街道范围内的一点")
    address: str


class PatrolRouteSummary(Schema):
    """Length and estimated times of a route, and how it was computed."""

    total_m: float = Field(description="全长（米）")
    walk_minutes: float = Field(description="步行（分钟）")
    bike_minutes: float = Field(description="骑行（分钟）")
    network: str = Field(description="geodesic（椭球面直线）或 roads（沿路网）")
    solver: str
    seconds: float = Field(description="计算用时（秒）")


class PatrolPriorities(Schema):
    order: list[str]
    cap: int
    due_days: int
    closed_days: int


class PatrolPlanStop(Schema):
    """A stop of a plan, in route order, with why it was chosen."""

    ord: int
    site_id: int
    code: str
    address: str
    status: str
    status_label: str
    street_code: str
    priority: str
    priority_label: str
    reason: str = Field(description="为何巡查、到场检查什么")
    lon: float
    lat: float


class PatrolPlanArea(Schema):
    """The area as understood (a circle as a polygon), with what defined it."""

    model_config = ConfigDict(extra="allow")

    kind: str
    label: str
    geometry: dict[str, Any]
    repaired: str | None = Field(description="自动修复的多边形：PostGIS 给出的原因")


class PatrolPlan(Schema):
    """A plan (nothing saved): the stops in route order and the route's summary."""

    area: PatrolPlanArea
    priorities: PatrolPriorities
    matched: dict[str, int] = Field(description="各类别符合的点位数（未截断）")
    start: list[float] | None
    start_source: str = Field(description="office（街道办）或 user（指定）")
    end: list[float] | None
    office: PatrolOffice | None
    stops: list[PatrolPlanStop]
    route: PatrolRouteSummary | None
    message: str = Field(description="范围内无点位时的说明")


class PatrolStopState(Schema):
    """A stop of a saved patrol and its tick."""

    id: int
    ord: int
    site_id: int
    code: str
    address: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    reason: str
    lon: float
    lat: float
    visited: bool
    checked_at: str | None = Field(description="服务器收到勾选的时间")
    checked_by: str | None
    recorded_at: str | None = Field(None, description="现场勾选的时间（离线记录、稍后发送时）")
    note: str


class PatrolFindingRef(Schema):
    """A finding recorded on the patrol."""

    id: int
    site_id: int
    code: str
    action: str
    note: str
    created_at: str
    created_by: str


class PatrolDocument(Schema):
    """A saved patrol: its area, stops in order with their ticks, route and findings."""

    id: int
    title: str
    street: str | None = Field(description="街道代码；跨街道的巡查为 null（全区）")
    street_name: str
    area_kind: str
    area_label: str
    area: dict[str, Any] | None = Field(description="范围（GeoJSON 几何）")
    params: dict[str, Any] = Field(description="制定时的参数")
    status: str = Field(description="planned / active / finished")
    status_label: str
    assignee: str | None = Field(None, description="执行巡查的执法队员（账户名）")
    planned_for: str | None = Field(None, description="巡查日期")
    start: list[float] | None
    end: list[float] | None
    total_m: float
    walk_minutes: float
    bike_minutes: float
    network: str | None
    solver: str | None
    route: list[list[float]] = Field(description="路线折线 [[经度, 纬度], …]")
    created_by: str
    created_at: str
    started_by: str | None
    started_at: str | None
    finished_by: str | None
    finished_at: str | None
    stops: list[PatrolStopState]
    findings: list[PatrolFindingRef]


class PatrolCreated(PatrolDocument):
    """The saved patrol (created is true)."""

    created: bool


class PatrolNotCreated(Schema):
    """Nothing to visit in the area: nothing saved (created is false), the plan says why."""

    created: bool
    message: str
    plan: PatrolPlan


class PatrolSummary(Schema):
    """A line of the patrol log."""

    id: int
    title: str
    street: str | None
    street_name: str
    area_kind: str
    area_label: str
    status: str
    status_label: str
    created_by: str
    created_at: str
    started_by: str | None
    started_at: str | None
    finished_at: str | None
    stops: int
    visited: int
    total_m: float


class PatrolList(Schema):
    """The patrol log, newest first (at most 100)."""

    patrols: list[PatrolSummary]


class PatrolStaleStreet(Schema):
    street: str
    name: str
    last_patrol: str | None
    last_patrol_local: str = Field(description="上次巡查（北京时间），或“从未巡查”")


class PatrolStaleStreets(Schema):
    """The streets with no patrol started in the last `days` days."""

    days: int
    since: str
    streets: list[PatrolStaleStreet]


class PatrolStreetCoverage(Schema):
    street: str
    name: str
    open_sites: int = Field(description="该周在办点位数")
    visited: int = Field(description="其中被巡查到的")
    share: float | None = Field(description="比例（无在办点位为 null）")


class PatrolCoverage(Schema):
    """Per street, the share of its open sites visited in the ISO week; the stale streets."""

    week: str
    from_: str = Field(alias="from")
    to: str
    streets: list[PatrolStreetCoverage]
    stale: PatrolStaleStreets


class FindingRecord(Schema):
    """A finding: the site it made or went to, what was done, its photos."""

    id: int
    patrol_id: int | None
    site_id: int
    site_code: str
    site_status: str
    street: str
    action: str = Field(description="created（新登记点位）/ attached（并入）/ rebound（回潮）")
    action_label: str
    lon: float
    lat: float
    note: str
    duplicate_of: int | None
    distance_m: float | None
    override_reason: str
    photo_ids: list[int]
    created_by: str
    created_at: str = Field(description="服务器收到的时间")
    recorded_at: str | None = Field(None, description="现场记录的时间（离线记录、稍后发送时）")


class FindingNearbySite(Schema):
    """A live site near a finding, offered to attach to."""

    id: int
    code: str
    address: str
    status: str
    status_label: str
    distance_m: float
    offer: str = Field(description="attach（并入）或 rebound（已销账：回潮）")


class FindingConflict(Schema):
    """A site near the point (candidates: attach_to one of them, or give force_reason), or
    the patrol has finished."""

    error: str
    field: str | None
    message: str
    candidates: list[FindingNearbySite] = Field(default_factory=list)


class PatrolOfflinePack(Schema):
    """What a phone stores to work on a patrol without signal (its pages keep the map data)."""

    patrol_id: int
    title: str
    status: str
    pages: list[str] = Field(description="页面：巡查记录、路线页、记录发现表单、各点位详情")
    thumbnails: list[str] = Field(description="各点位最新整改前、整改后照片的缩略图")
    files: list[str] = Field(
        description="地图组件自行加载的图片（页面引用的文件由手机从页面中读出）"
    )
    basemap: list[str] = Field(
        description="离线底图中覆盖巡查范围的瓦片（13–17 级；未导入底图时为空）"
    )
