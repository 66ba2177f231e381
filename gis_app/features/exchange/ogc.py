"""OGC API – Features, Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0): the collections and queries.

Two collections: `sites` (the live sites, no personal data) and `streets` (street boundaries
with their site counts). Items are built by PostgreSQL from the same field lists as the file
exports (the `export` package beside this module), so the OGC API, the exports and the data
dictionary agree. This module knows nothing of HTTP: the blueprint (ogc_api.py) negotiates
formats and links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import NotFound, ValidationError
from gis_app.features.exchange.export.fields import ExportField, fields_for
from gis_app.features.exchange.export.source import (
    Expr,
    LayerSource,
    local_time,
    site_source,
    street_source,
)
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import own_street, site_scope
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.streets.models import Street

CONFORMANCE: Final = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TRS: Final = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 10_000
MAX_OFFSET: Final = 10_000_000

# the parameters every items request understands; the rest are the collection's queryables
COMMON_PARAMETERS: Final = ("f", "limit", "offset", "bbox", "bbox-crs", "datetime")


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    queryables: tuple[str, ...]  # property names usable as `name=value` filters
    extra_parameters: tuple[str, ...] = ()  # SiteFilter parameters accepted as well


SITE_QUERYABLES: Final = (
    "code",
    "street_code",
    "status",
    "disposition",
    "kind",
    "source",
    "community",
    "overdue",
    *(f"flag_{flag}" for flag in codes.FLAGS),
)
COLLECTIONS: Final[Mapping[str, Collection]] = {
    "sites": Collection(
        "sites",
        "违建点位 Illegal-construction sites",
        "The live sites of the ledger (no personal data): status, disposition, deadlines, "
        "flags. Property filters: `status=in_progress`, `street_code=120102002`, "
        "`flag_central_inspection=true`, ...; `datetime` applies to the last change "
        "(`updated_at`).",
        SITE_QUERYABLES,
        ("street", "flag", "q", "deadline_from", "deadline_to"),
    ),
    "streets": Collection(
        "streets",
        "街道边界 Street boundaries",
        "The streets of the district with the number of live sites in each, by status. "
        "`datetime` applies to the last change of the boundary.",
        ("code", "name", "approximate"),
    ),
}


def get_collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"没有名为 {collection_id} 的集合（可选：{', '.join(COLLECTIONS)}）", "collectionId"
        ) from None


def collection_fields(collection_id: str) -> tuple[ExportField, ...]:
    return fields_for(collection_id, personal=False)


# ---------------------------------------------------------------- parameters


def _int_param(args: MultiDict, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"参数 {name} 必须是整数：{raw!r}", name) from None
    if value < minimum:
        raise ValidationError(f"参数 {name} 不能小于 {minimum}", name)
    return min(value, maximum)


def parse_ogc_bbox(raw: str, crs: str | None) -> tuple[float, float, float, float]:
    """bbox in CRS84: 4 numbers (or 6, with heights, which are ignored)."""
    if crs not in (None, "", CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326"):
        raise ValidationError(f"bbox-crs 只支持 {CRS84}", "bbox-crs")
    try:
        numbers = [float(p) for p in raw.split(",")]
    except ValueError:
        raise ValidationError(f"bbox 含有非数字：{raw!r}", "bbox") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise ValidationError("bbox 应为 4 个数：最小经度,最小纬度,最大经度,最大纬度", "bbox")
    minx, miny, maxx, maxy = numbers
    if any(v != v or abs(v) == float("inf") for v in numbers):
        raise ValidationError("bbox 含有非有限数", "bbox")
    if crs == "http://www.opengis.net/def/crs/EPSG/0/4326":  # latitude first
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


def _bool_param(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "是"):
        return True
    if value in ("false", "0", "no", "否"):
        return False
    raise ValidationError(f"参数 {name} 应为 true 或 false：{raw!r}", name)


@dataclass
class ItemsQuery:
    collection: Collection
    limit: int
    offset: int
    flt: SiteFilter = field(default_factory=SiteFilter)
    extra: list[Expr] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)  # to rebuild paging links


def parse_items_query(collection: Collection, args: MultiDict) -> ItemsQuery:
    """Read and check every parameter of /items; an unknown one is refused (400)."""
    allowed = set(COMMON_PARAMETERS) | set(collection.queryables) | set(collection.extra_parameters)
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ValidationError(
            f"未知的查询参数：{', '.join(unknown)}（可用：{', '.join(sorted(allowed))}）",
            unknown[0],
        )
    for name in args:
        if (
            name != "status"
            and name not in collection.extra_parameters
            and len(args.getlist(name)) > 1
        ):
            raise ValidationError(f"参数 {name} 只能给一次", name)
    query = ItemsQuery(
        collection,
        limit=_int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int_param(args, "offset", 0, 0, MAX_OFFSET),
    )
    params = {k: args.get(k, "") for k in args if k not in ("f", "limit", "offset")}
    query.params = {k: v for k, v in params.items() if v != ""}
    table = Site if collection.id == "sites" else Street
    raw_datetime = args.get("datetime")
    if raw_datetime:
        start, stop = parse_datetime(raw_datetime)
        if start is not None:
            query.extra.append(table.updated_at >= start)
        if stop is not None:
            query.extra.append(table.updated_at < stop)
    if collection.id == "sites":
        query.flt = _site_filter(args, query.extra)
    else:
        query.flt = _street_filter(args, query.extra)
    raw_bbox = args.get("bbox")
    if raw_bbox:
        query.flt.bbox = parse_ogc_bbox(raw_bbox, args.get("bbox-crs"))
    elif args.get("bbox-crs"):
        parse_ogc_bbox("0,0,0,0", args.get("bbox-crs"))
    return query


def _site_filter(args: MultiDict, extra: list[Expr]) -> SiteFilter:
    """Map the queryables onto SiteFilter's parameters (same validation, same messages)."""
    site_args: MultiDict = MultiDict()
    for name in ("status", "disposition", "kind", "source", "community", "overdue", "q"):
        for value in args.getlist(name):
            site_args.add(name, value)
    for name in ("street", "flag", "deadline_from", "deadline_to"):
        for value in args.getlist(name):
            site_args.add(name, value)
    for value in args.getlist("street_code"):
        site_args.add("street", value)
    for flag in codes.FLAGS:
        raw = args.get(f"flag_{flag}")
        if raw is None or not raw.strip():
            continue
        if _bool_param(raw, f"flag_{flag}"):
            site_args.add("flag", flag)
        else:
            extra.append(getattr(Site, f"flag_{flag}").is_(False))
    code = args.get("code")
    if code:
        extra.append(Site.code == code.strip())
    return SiteFilter.from_args(site_args)


def _street_filter(args: MultiDict, extra: list[Expr]) -> SiteFilter:
    flt = SiteFilter()
    code = args.get("code")
    if code:
        flt = SiteFilter.from_args(MultiDict([("street", code)]))
    name = args.get("name")
    if name:
        extra.append(Street.name == name.strip())
    approximate = args.get("approximate")
    if approximate:
        extra.append(Street.approximate.is_(_bool_param(approximate, "approximate")))
    return flt


# ---------------------------------------------------------------- reading


def items_source(query: ItemsQuery, today: date, actor: Actor | None = None) -> LayerSource:
    """The features of a query, of those `actor` may see (a street role: its own street)."""
    if query.collection.id == "sites":
        return site_source(query.flt, today, query.extra, actor)
    # the counts are of every live site; the filter here only selects streets
    return street_source(
        SiteFilter(streets=query.flt.streets, bbox=query.flt.bbox), today, query.extra, actor
    )


@dataclass
class ItemsPage:
    features: list[str]  # GeoJSON text of each feature
    number_matched: int


def read_items(
    session: Session, query: ItemsQuery, today: date, actor: Actor | None = None
) -> ItemsPage:
    src = items_source(query, today, actor)
    fields = collection_fields(query.collection.id)
    local_time(session)
    features = list(
        session.execute(src.features(fields, "en", query.limit, query.offset)).scalars()
    )
    matched = src.count(session)
    return ItemsPage(features, matched)


def read_item(
    session: Session,
    collection: Collection,
    feature_id: str,
    today: date,
    actor: Actor | None = None,
) -> str:
    """One feature's GeoJSON text, or NotFound (also for one `actor` may not see)."""
    extra: list[Expr]
    if collection.id == "sites":
        if not feature_id.isdigit() or len(feature_id) > 18:
            raise NotFound(f"没有标识为 {feature_id} 的点位", "featureId")
        extra = [Site.id == int(feature_id)]
        src = site_source(SiteFilter(), today, extra, actor)
    else:
        src = street_source(SiteFilter(), today, [Street.code == feature_id], actor)
    local_time(session)
    text = session.execute(src.features(collection_fields(collection.id), "en")).scalar()
    if text is None:
        raise NotFound(f"集合 {collection.id} 中没有标识为 {feature_id} 的要素", "featureId")
    return text


def extent(session: Session, collection: Collection, actor: Actor | None = None) -> dict[str, Any]:
    """Spatial extent (the streets' bounding box) and temporal extent of the last changes, of
    what `actor` may see (a street role: its own street and its sites)."""
    mine = own_street(actor) if actor is not None else None
    streets = [Street.code == mine] if mine is not None else []
    box = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(Street.geom)),
            func.ST_YMin(func.ST_Extent(Street.geom)),
            func.ST_XMax(func.ST_Extent(Street.geom)),
            func.ST_YMax(func.ST_Extent(Street.geom)),
        ).where(*streets)
    ).one()
    if collection.id == "sites":
        times = session.execute(
            select(func.min(Site.updated_at), func.max(Site.updated_at)).where(
                Site.deleted_at.is_(None), *(site_scope(actor) if actor is not None else [])
            )
        ).one()
    else:
        times = session.execute(
            select(func.min(Street.updated_at), func.max(Street.updated_at)).where(*streets)
        ).one()
    out: dict[str, Any] = {}
    if box[0] is not None:
        out["spatial"] = {"bbox": [[round(v, 7) for v in box]], "crs": CRS84}
    out["temporal"] = {
        "interval": [[_iso(times[0]), _iso(times[1])]],
        "trs": TRS,
    }
    return out


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
