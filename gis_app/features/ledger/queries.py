"""Filtering sites and rendering them as GeoJSON, in PostGIS.

One filter object serves the API list, the maps and the exports, so that the same query
parameters mean the same thing everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from geoalchemy2 import Geography
from pydantic import BeforeValidator, Field, PrivateAttr, WithJsonSchema, model_validator
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Select,
    and_,
    any_,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON
from sqlalchemy.orm import Session

from gis_app.core import codes, deadlines
from gis_app.core.actor import Actor
from gis_app.core.errors import ValidationError, excerpt
from gis_app.core.schemas import ArgSource, Schema, from_args
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.schemas import parse_bool, parse_date
from gis_app.features.plans.models import SiteStep
from gis_app.features.streets.models import Street

# the widest bbox accepted (degrees): a city, not the world in one request
MAX_BBOX_SPAN = 5.0
# the largest radius of `near` (metres): a patrol area or a neighbourhood, not a city
MAX_NEAR_RADIUS_M = 10_000.0
# metres in a degree of latitude, at its shortest (the equator, WGS84), and in a degree of
# longitude at the equator (at latitude φ never less than cos φ of it): a box in degrees built
# from them always holds the circle
_M_PER_DEG_LAT_MIN = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


def _split(raw: Any) -> list[str]:
    """Repeated and comma-separated values of a query parameter (or a list given as is)."""
    items = [raw] if isinstance(raw, str) else list(raw or [])
    out: list[str] = []
    for item in items:
        out.extend(v.strip() for v in str(item).split(",") if v.strip())
    return out


def _districts(raw: Any) -> list[str]:
    out = _split(raw)
    for code in out:
        if not (code.isdigit() and len(code) == 6):
            raise ValidationError(f"区代码必须是 6 位数字：{code!r}", "district")
    return out


def _streets(raw: Any) -> list[str]:
    from gis_app.features.streets.service import normalise_street_code

    out = []
    for value in _split(raw):
        code = normalise_street_code(value)
        if code is None:
            raise ValidationError(f"街道代码必须是 9 位或 12 位数字：{excerpt(value)!r}", "street")
        out.append(code)
    return out


def _code_list(key: str, mapping: Mapping[str, str]) -> Any:
    def parse(raw: Any) -> list[str]:
        out = []
        for value in _split(raw):
            code = codes.lookup(mapping, value)
            if code is None:
                allowed = ", ".join(mapping)
                shown = excerpt(value)
                raise ValidationError(f"参数 {key} 的值 {shown!r} 无效（可选：{allowed}）", key)
            out.append(code)
        return out

    return BeforeValidator(parse)


def _codes_schema(mapping: Mapping[str, str], description: str) -> WithJsonSchema:
    labels = "; ".join(f"{k} = {v}" for k, v in mapping.items())
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[a-z_]+(,[a-z_]+)*$",
            "description": f"{description}，逗号分隔可多选：{labels}",
        }
    )


def _text(key: str, limit: int) -> Any:
    def parse(raw: Any) -> str | None:
        text = str(raw).strip() if raw is not None else ""
        if len(text) > limit:
            raise ValidationError(f"参数 {key} 过长（最多 {limit} 个字）", key)
        return text or None

    return BeforeValidator(parse)


def _tuple_or(parser: Any) -> Any:
    return BeforeValidator(
        lambda raw: raw if raw is None or isinstance(raw, tuple) else parser(str(raw))
    )


def _bool_arg(raw: Any) -> bool | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return parse_bool(raw, "overdue")


class SiteFilter(Schema):
    """Which sites: the filter of the site list, the counts, the maps, the exports and OGC,
    so that the same query parameters mean the same thing everywhere."""

    districts: Annotated[
        list[str],
        BeforeValidator(_districts),
        WithJsonSchema({"type": "string", "pattern": "^[0-9]{6}(,[0-9]{6})*$"}),
    ] = Field(
        [], alias="district", description="区代码（6 位），逗号分隔可多选：全市一库时只看某区"
    )
    streets: Annotated[
        list[str],
        BeforeValidator(_streets),
        WithJsonSchema(
            {"type": "string", "pattern": r"^[0-9]{9}([0-9]{3})?(,[0-9]{9}([0-9]{3})?)*$"}
        ),
    ] = Field(
        default_factory=list, alias="street", description="街道代码（9 或 12 位），逗号分隔可多选"
    )
    statuses: Annotated[
        list[str], _code_list("status", codes.STATUSES), _codes_schema(codes.STATUSES, "状态")
    ] = Field(default_factory=list, alias="status")
    dispositions: Annotated[
        list[str],
        _code_list("disposition", codes.DISPOSITIONS),
        _codes_schema(codes.DISPOSITIONS, "治理方式"),
    ] = Field(default_factory=list, alias="disposition")
    kinds: Annotated[
        list[str], _code_list("kind", codes.KINDS), _codes_schema(codes.KINDS, "违建类型")
    ] = Field(default_factory=list, alias="kind")
    sources: Annotated[
        list[str], _code_list("source", codes.SOURCES), _codes_schema(codes.SOURCES, "来源")
    ] = Field(default_factory=list, alias="source")
    flags: Annotated[
        list[str], _code_list("flag", codes.FLAGS), _codes_schema(codes.FLAGS, "标记（全部满足）")
    ] = Field(default_factory=list, alias="flag")
    overdue: Annotated[
        bool | None, BeforeValidator(_bool_arg), WithJsonSchema({"type": "boolean"})
    ] = Field(None, description="逾期：当前期限已过且未销账")
    bbox: Annotated[
        tuple[float, float, float, float] | None,
        _tuple_or(lambda raw: parse_bbox(raw)),
        WithJsonSchema({"type": "string", "examples": ["117.2,39.1,117.25,39.13"]}),
    ] = Field(None, description="最小经度,最小纬度,最大经度,最大纬度（每边最多 5 度）")
    near: Annotated[
        tuple[float, float, float] | None,
        _tuple_or(lambda raw: parse_near(raw)),
        WithJsonSchema({"type": "string", "examples": ["117.2381,39.11,500"]}),
    ] = Field(
        None, description="经度,纬度,半径（米，最多 10000）：该点周围半径内的点位（椭球面距离）"
    )
    q: Annotated[
        str | None, _text("q", 100), WithJsonSchema({"type": "string", "maxLength": 100})
    ] = Field(None, description="编号或地址中的文字")
    community: Annotated[
        str | None, _text("community", 64), WithJsonSchema({"type": "string", "maxLength": 64})
    ] = Field(None, description="社区")
    deadline_from: Annotated[
        date | None,
        BeforeValidator(lambda raw: parse_date(raw, "deadline_from")),
        WithJsonSchema({"type": "string", "format": "date"}),
    ] = Field(None, description="当前期限不早于")
    deadline_to: Annotated[
        date | None,
        BeforeValidator(lambda raw: parse_date(raw, "deadline_to")),
        WithJsonSchema({"type": "string", "format": "date"}),
    ] = Field(None, description="当前期限不晚于")

    # fields filtered on by conditions added beside the filter (the OGC API's flag_x=false)
    _also_filtered: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_validator(mode="after")
    def _deadlines_in_order(self) -> SiteFilter:
        if self.deadline_from and self.deadline_to and self.deadline_from > self.deadline_to:
            raise ValidationError("期限起始日期晚于截止日期", "deadline_from")
        return self

    @classmethod
    def from_args(cls, args: ArgSource) -> SiteFilter:
        """Read the filter from query parameters; every bad value names its parameter."""
        return from_args(cls, args)

    def also_filters(self, fields: Iterable[str]) -> None:
        """Record that conditions beside the filter read `fields` (checked like its own)."""
        self._also_filtered = self._also_filtered | frozenset(fields)

    def filtered_fields(self) -> frozenset[str]:
        """The site fields (export field names) the filter's conditions read: a role may filter
        only on fields it may see (`permissions.require_visible_filters`)."""
        fields = set(self._also_filtered)
        for name, used in (
            ("district_code", self.districts),
            ("street_code", self.streets),
            ("status", self.statuses),
            ("disposition", self.dispositions),
            ("kind", self.kinds),
            ("source", self.sources),
            ("overdue", self.overdue is not None),
            ("geometry", self.bbox is not None or self.near is not None),
            ("community", self.community),
            ("current_deadline", self.deadline_from or self.deadline_to),
        ):
            if used:
                fields.add(name)
        if self.q:
            fields |= {"code", "address"}
        fields |= {f"flag_{flag}" for flag in self.flags}
        return frozenset(fields)

    def conditions(self, today: date) -> list[ColumnElement[bool]]:
        """WHERE conditions on Site (the street condition is a subquery of its own)."""
        conds: list[ColumnElement[bool]] = [Site.deleted_at.is_(None)]
        if self.districts:
            conds.append(Site.district_code.in_(self.districts))
        if self.streets:
            # a semi-join on the street ids, not a filter on the joined street: the planner
            # then reads ix_sites_street_status and sorts the street's sites, instead of
            # walking the primary key in id order hoping to meet them early (1.6 s for a
            # street whose sites were loaded last in a city of a million, 9 ms this way)
            conds.append(Site.street_id.in_(select(Street.id).where(Street.code.in_(self.streets))))
        if self.statuses:
            conds.append(Site.status.in_(self.statuses))
        if self.dispositions:
            conds.append(Site.disposition.in_(self.dispositions))
        if self.kinds:
            conds.append(Site.kind.in_(self.kinds))
        if self.sources:
            conds.append(Site.source.in_(self.sources))
        for flag in self.flags:
            conds.append(getattr(Site, f"flag_{flag}").is_(True))
        if self.overdue is not None:
            expr = overdue_expr(today)
            conds.append(expr if self.overdue else ~expr)
        if self.bbox is not None:
            # the squares first: an index as the app's role (row-level security), then the box
            conds.extend(in_squares(*self.bbox))
            conds.append(Site.geom.op("&&")(func.ST_MakeEnvelope(*self.bbox, 4326)))
        if self.near is not None:
            conds.extend(near_conditions(*self.near))
        if self.q:
            pattern = (
                "%" + self.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            )
            conds.append(or_(Site.code.ilike(pattern), Site.address.ilike(pattern)))
        if self.community:
            conds.append(Site.community == self.community)
        if self.deadline_from:
            conds.append(Site.current_deadline >= self.deadline_from)
        if self.deadline_to:
            conds.append(Site.current_deadline <= self.deadline_to)
        return conds

    def to_params(self) -> dict[str, str]:
        """The filter as query parameters again (for paging links and page controls)."""
        params: dict[str, str] = {}
        for key, values in (
            ("district", self.districts),
            ("street", self.streets),
            ("status", self.statuses),
            ("disposition", self.dispositions),
            ("kind", self.kinds),
            ("source", self.sources),
            ("flag", self.flags),
        ):
            if values:
                params[key] = ",".join(values)
        if self.overdue is not None:
            params["overdue"] = "true" if self.overdue else "false"
        if self.bbox:
            # 10 significant digits: `:g` keeps 6 and moves 117.2381 to 117.238 (about 9 m)
            params["bbox"] = ",".join(f"{v:.10g}" for v in self.bbox)
        if self.near:
            params["near"] = ",".join(f"{v:.10g}" for v in self.near)
        for key, value in (("q", self.q), ("community", self.community)):
            if value:
                params[key] = value
        if self.deadline_from:
            params["deadline_from"] = self.deadline_from.isoformat()
        if self.deadline_to:
            params["deadline_to"] = self.deadline_to.isoformat()
        return params


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """'minlon,minlat,maxlon,maxlat' in degrees, validated before any SQL runs."""
    parts = raw.split(",")
    if len(parts) != 4:
        raise ValidationError("bbox 应为 4 个数：最小经度,最小纬度,最大经度,最大纬度", "bbox")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise ValidationError(f"bbox 含有非数字：{excerpt(raw)!r}", "bbox") from None
    values = (minx, miny, maxx, maxy)
    if any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise ValidationError("bbox 含有非有限数", "bbox")
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise ValidationError("bbox 超出经纬度范围", "bbox")
    if minx > maxx or miny > maxy:
        raise ValidationError("bbox 的最小值大于最大值", "bbox")
    if maxx - minx > MAX_BBOX_SPAN or maxy - miny > MAX_BBOX_SPAN:
        raise ValidationError(f"bbox 范围过大（每边最多 {MAX_BBOX_SPAN:g} 度）", "bbox")
    return values


def parse_near(raw: str) -> tuple[float, float, float]:
    """'lon,lat,radius' (degrees, metres): the sites within that distance of the point."""
    parts = raw.split(",")
    if len(parts) != 3:
        raise ValidationError("near 应为 3 个数：经度,纬度,半径（米）", "near")
    try:
        lon, lat, radius = (float(p) for p in parts)
    except ValueError:
        raise ValidationError(f"near 含有非数字：{excerpt(raw)!r}", "near") from None
    if not all(math.isfinite(v) for v in (lon, lat, radius)):
        raise ValidationError("near 含有非有限数", "near")
    if not (-180 <= lon <= 180 and -85 <= lat <= 85):
        raise ValidationError("near 的经纬度超出范围（纬度最多 ±85°）", "near")
    if not 0 < radius <= MAX_NEAR_RADIUS_M:
        raise ValidationError(f"near 的半径须大于 0、不超过 {MAX_NEAR_RADIUS_M:,.0f} 米", "near")
    return lon, lat, radius


def near_conditions(lon: float, lat: float, radius_m: float) -> list[ColumnElement[bool]]:
    """Sites within radius_m metres (on the spheroid) of the point.

    The exact test is ST_DWithin on geography; it cannot use the GiST index on the geometry
    column by itself (the column is cast), so a box in degrees that surely holds the circle
    comes first: `geom && box` is what the planner answers from ix_sites_geom.
    """
    dlat = radius_m / _M_PER_DEG_LAT_MIN
    widest = min(89.0, abs(lat) + dlat)  # the box's edge nearest the pole is the widest
    dlon = radius_m / (_M_PER_DEG_LON_EQ * math.cos(math.radians(widest))) * 1.01
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    box = func.ST_MakeEnvelope(lon - dlon, lat - dlat, lon + dlon, lat + dlat, 4326)
    return [
        Site.geom.op("&&")(box),
        func.ST_DWithin(cast(Site.geom, Geography), cast(point, Geography), radius_m),
    ]


SQUARE_ZOOM = 14  # sites.map_x, map_y (migration 0151): the squares of tile_versions
FINE_SQUARE_ZOOM = 18  # sites.map_fx, map_fy (migration 0200)


def square_of(lon: float, lat: float, zoom: int = SQUARE_ZOOM) -> tuple[int, int]:
    """The Web Mercator square of a point at `zoom`, by the formula of sites.map_x, map_y
    (zoom 14) and map_fx, map_fy (zoom 18)."""
    n = 2**zoom
    lat = max(-85.0511, min(85.0511, lat))
    sx = math.floor((lon + 180.0) / 360.0 * n)
    sy = math.floor((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return max(0, min(n - 1, sx)), max(0, min(n - 1, sy))


def in_squares(west: float, south: float, east: float, north: float) -> list[ColumnElement[bool]]:
    """Conditions on the integer squares of the sites in this box (a little wider): under
    row-level security PostgreSQL uses an index for them (integer comparisons are leakproof),
    not for `geom && box` (PostGIS's operator is not), which still decides exactly. Both the
    zoom-14 and the zoom-18 squares: the planner takes the index that reads fewer sites (the
    fine one for a point tile or a street's view, the coarse one for a large box)."""
    margin = 1e-7
    x0, y0 = square_of(west - margin, north + margin)
    x1, y1 = square_of(east + margin, south - margin)
    fx0, fy0 = square_of(west - margin, north + margin, FINE_SQUARE_ZOOM)
    fx1, fy1 = square_of(east + margin, south - margin, FINE_SQUARE_ZOOM)
    return [
        literal_column("sites.map_x").between(x0, x1),
        literal_column("sites.map_y").between(y0, y1),
        literal_column("sites.map_fx").between(fx0, fx1),
        literal_column("sites.map_fy").between(fy0, fy1),
    ]


def late_steps_query(today: date) -> Select:
    """The sites with a step of their plan not done and past its due date."""
    return select(SiteStep.site_id).where(
        SiteStep.done_at.is_(None), SiteStep.due_date < literal(today)
    )


def late_step_sites(session: Session, today: date) -> list[int]:
    """The ids of `late_steps_query`, read once (for `overdue_expr(late_sites=...)`)."""
    return list(session.scalars(late_steps_query(today).distinct()))


def overdue_expr(
    today: date, late_sites: list[int] | None = None, per_site: bool = False
) -> ColumnElement[bool]:
    """逾期: the site is open and its current deadline, or a step of its plan not yet done,
    has passed (Asia/Shanghai calendar).

    By default the late steps are one uncorrelated set: PostgreSQL hashes the late steps' sites
    once instead of probing per site (a district, a whole table). `late_sites`, read before by
    `late_step_sites` in the same transaction, puts that set into the query as a constant array
    instead of a subquery: the subquery reads site_steps under row-level security, which keeps
    a whole export's query out of parallel workers; with the array it may use them. `per_site`
    probes each site's own steps instead: for a few thousand sites (a map tile) that is
    milliseconds, where the set of every late step of a city costs 0.6 s under row-level
    security."""
    late_step: ColumnElement[bool]
    if per_site:
        late_step = (
            select(SiteStep.id)
            .where(
                SiteStep.site_id == Site.id,
                SiteStep.done_at.is_(None),
                SiteStep.due_date < literal(today),
            )
            .exists()
        )
    elif late_sites is None:
        late_step = Site.id.in_(late_steps_query(today))
    else:
        ids = cast(literal(late_sites, ARRAY(BigInteger)), ARRAY(BigInteger))
        late_step = Site.id == any_(ids)
    return or_(
        # the clock is stopped while the office has the site (待验收), and after 销账
        and_(
            Site.status.not_in(STOPPED_CLOCK),
            or_(
                and_(Site.current_deadline.is_not(None), Site.current_deadline < literal(today)),
                late_step,
            ),
        ),
        registration_late(today),
    )


LOCAL_TZ_NAME = "Asia/Shanghai"
#: statuses whose deadline clock does not run against the street
STOPPED_CLOCK = ("closed", "awaiting_acceptance")


def registration_late(today: date, days: int | None = None) -> ColumnElement[bool]:
    """A site found on patrol (新发现) not registered within the configured days."""
    days = deadlines.registration_days() if days is None else days
    found_on = cast(func.timezone(LOCAL_TZ_NAME, Site.created_at), Date)
    return and_(Site.status == "new", found_on < literal(today - timedelta(days=days)))


def closed_with_evidence() -> ColumnElement[bool]:
    """销账 with evidence: closed through the workflow, or a historical closure whose photo
    pair the office has accepted (a historical closure alone is not)."""
    return and_(
        Site.status == "closed",
        or_(Site.historical_source.is_(None), Site.historical_accepted_at.is_not(None)),
    )


def historical_pending() -> ColumnElement[bool]:
    """A historical closure still waiting for its photo pair and the office's acceptance."""
    return and_(
        Site.status == "closed",
        Site.historical_source.is_not(None),
        Site.historical_accepted_at.is_(None),
    )


def feature_expr(today: date, personal: bool = False) -> ColumnElement[Any]:
    """A site as an RFC 7946 Feature, built by PostgreSQL (needs Street joined)."""
    pairs = _feature_properties(today, personal)
    # json_build_object keeps the order (jsonb would not)
    properties = func.json_build_object(*(part for pair in pairs for part in pair))
    return func.json_build_object(
        "type",
        "Feature",
        "id",
        Site.id,
        "geometry",
        cast(func.ST_AsGeoJSON(Site.geom, 7), JSON),
        "properties",
        properties,
    )


def _feature_properties(today: date, personal: bool) -> list[tuple[str, Any]]:
    """A site's properties in their order, (name, column); the person concerned, the hardship
    flag and the note only when `personal`."""
    pairs: list[tuple[str, Any]] = [
        ("id", Site.id),
        ("code", Site.code),
        ("street_code", Street.code),
        ("street_name", Street.name),
        ("address", Site.address),
        ("community", Site.community),
        ("kind", Site.kind),
        ("area_m2", Site.area_m2),
        ("disposition", Site.disposition),
        ("status", Site.status),
        ("overdue", overdue_expr(today)),
        ("flag_central_inspection", Site.flag_central_inspection),
        ("flag_renovation", Site.flag_renovation),
        ("flag_obstruction", Site.flag_obstruction),
        ("committed_deadline", Site.committed_deadline),
        ("current_deadline", Site.current_deadline),
        ("source", Site.source),
        ("version", Site.version),
        ("created_at", Site.created_at),
        ("updated_at", Site.updated_at),
    ]
    if personal:
        pairs += [
            ("person_name", Site.person_name),
            ("person_contact", Site.person_contact),
            ("flag_hardship", Site.flag_hardship),
            ("note", Site.note),
        ]
    return pairs


def base_select(columns: list[Any]) -> Select:
    return select(*columns).select_from(Site).join(Street, Street.id == Site.street_id)


@dataclass
class Page:
    features: list[dict[str, Any]]
    number_matched: int
    limit: int
    offset: int


def scoped(flt: SiteFilter, today: date, actor: Actor | None) -> list[ColumnElement[bool]]:
    """The filter's conditions, kept to what `actor` may see (None: a command, everything);
    a filter on a field `actor` may not see is refused here, for every reader of sites."""
    from gis_app.features.ledger.permissions import require_visible_filters, site_scope

    require_visible_filters(actor, flt.filtered_fields())
    return flt.conditions(today) + (site_scope(actor) if actor is not None else [])


def list_features(
    session: Session,
    flt: SiteFilter,
    today: date,
    limit: int,
    offset: int,
    personal: bool = False,
    actor: Actor | None = None,
) -> Page:
    conds = scoped(flt, today, actor)
    total = session.execute(base_select([func.count()]).where(*conds)).scalar_one()
    order: ColumnElement[Any] = Site.id
    if flt.bbox is not None or flt.near is not None:
        # an area's sites have neighbouring ids (a street's ledger is imported at once), which
        # the planner cannot know: given ORDER BY id LIMIT it may walk the whole primary key
        # hoping to meet them early (0.7 s in a city of a million). Ordered by an expression
        # no index gives, the area's sites come from the GiST index and are sorted (a few
        # thousand at most; the same order)
        order = Site.id + 0
    # the page's ids first, then the features of those rows only: built in one query with
    # OFFSET, PostgreSQL computes the JSON of every row it skips too (offset 1,400: 1,500
    # features built, 100 sent; the load test's slowest read, docs/operations/performance.md "Load")
    page_ids = (
        base_select([Site.id.label("page_id")])
        .where(*conds)
        .order_by(order)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    rows = (
        session.execute(
            base_select([feature_expr(today, personal)])
            .join(page_ids, page_ids.c.page_id == Site.id)
            .order_by(Site.id)
        )
        .scalars()
        .all()
    )
    return Page(list(rows), total, limit, offset)


def counts_by_status(
    session: Session, flt: SiteFilter, today: date, actor: Actor | None = None
) -> dict[str, int]:
    """Counts of the filtered sites per status, plus total and overdue."""
    conds = scoped(flt, today, actor)
    rows = session.execute(
        base_select([Site.status, func.count()]).where(*conds).group_by(Site.status)
    ).all()
    counts = {code: 0 for code in codes.STATUSES}
    for status, n in rows:
        counts[status] = n
    counts["total"] = sum(counts[c] for c in codes.STATUSES)
    counts["overdue"] = session.execute(
        base_select([func.count()]).where(*conds, overdue_expr(today))
    ).scalar_one()
    return counts
