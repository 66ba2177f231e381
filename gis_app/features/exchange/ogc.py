"""OGC API – Features, Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0): the collections and queries.

Two collections: `sites` (the live sites, no personal data) and `streets` (street boundaries
with their site counts). Items are built by PostgreSQL from the same field lists as the file
exports (the `export` package beside this module), so the OGC API, the exports and the data
dictionary agree. This module knows nothing of HTTP: the blueprint (ogc_api.py) negotiates
formats and links; the parameters are validated by the models of ogc_schemas.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.core.errors import NotFound
from gis_app.features.exchange.export.fields import ExportField, fields_for
from gis_app.features.exchange.export.source import (
    Expr,
    LayerSource,
    local_time,
    site_source,
    street_source,
)
from gis_app.features.exchange.ogc_schemas import (
    CRS84,
    ItemsQuery,
    SiteItemsQuery,
    StreetItemsQuery,
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
TRS: Final = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    query: type[ItemsQuery]  # the parameters of its items: the common ones, its queryables


COLLECTIONS: Final[Mapping[str, Collection]] = {
    "sites": Collection(
        "sites",
        "违建点位 Illegal-construction sites",
        "The live sites of the ledger (no personal data): status, disposition, deadlines, "
        "flags. Property filters: `status=in_progress`, `street_code=120102002`, "
        "`flag_central_inspection=true`, ...; `datetime` applies to the last change "
        "(`updated_at`).",
        SiteItemsQuery,
    ),
    "streets": Collection(
        "streets",
        "街道边界 Street boundaries",
        "The streets of the district with the number of live sites in each, by status. "
        "`datetime` applies to the last change of the boundary.",
        StreetItemsQuery,
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


# ---------------------------------------------------------------- selecting


@dataclass
class ItemsSelection:
    """Which features of a collection a validated items query selects, and which page."""

    collection: Collection
    limit: int
    offset: int
    flt: SiteFilter = field(default_factory=SiteFilter)
    extra: list[Expr] = field(default_factory=list)


def select_items(collection: Collection, query: ItemsQuery) -> ItemsSelection:
    """The selection of a query validated by the collection's model (`collection.query`)."""
    table = Site if collection.id == "sites" else Street
    extra: list[Expr] = []
    if query.interval is not None:
        start, stop = query.interval
        if start is not None:
            extra.append(table.updated_at >= start)
        if stop is not None:
            extra.append(table.updated_at < stop)
    if isinstance(query, SiteItemsQuery):
        extra += _site_conditions(query)
    elif isinstance(query, StreetItemsQuery):
        extra += _street_conditions(query)
    flt = query.site_filter
    if query.bbox is not None:
        flt = flt.model_copy(update={"bbox": query.bbox})
    return ItemsSelection(collection, query.limit, query.offset, flt, extra)


def _site_conditions(query: SiteItemsQuery) -> list[Expr]:
    """What the sites' queryables ask beyond SiteFilter: the code, flags that are false."""
    conds: list[Expr] = [getattr(Site, f"flag_{flag}").is_(False) for flag in query.flags_off()]
    if query.code:
        conds.append(Site.code == query.code.strip())
    return conds


def _street_conditions(query: StreetItemsQuery) -> list[Expr]:
    conds: list[Expr] = []
    if query.name:
        conds.append(Street.name == query.name.strip())
    if query.approximate is not None:
        conds.append(Street.approximate.is_(query.approximate))
    return conds


# ---------------------------------------------------------------- reading


def items_source(selection: ItemsSelection, today: date, actor: Actor | None = None) -> LayerSource:
    """The features selected, of those `actor` may see (a street role: its own street)."""
    flt, extra = selection.flt, selection.extra
    if selection.collection.id == "sites":
        return site_source(flt, today, extra, actor)
    # the counts are of every live site; the filter here only selects streets
    return street_source(SiteFilter(streets=flt.streets, bbox=flt.bbox), today, extra, actor)


@dataclass
class ItemsPage:
    features: list[str]  # GeoJSON text of each feature
    number_matched: int


def read_items(
    session: Session, selection: ItemsSelection, today: date, actor: Actor | None = None
) -> ItemsPage:
    src = items_source(selection, today, actor)
    fields = collection_fields(selection.collection.id)
    local_time(session)
    page = src.features(fields, "en", selection.limit, selection.offset)
    features = list(session.execute(page).scalars())
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


def _bbox(session: Session, geom: Any, *where: Any) -> list[float] | None:
    found = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(geom)),
            func.ST_YMin(func.ST_Extent(geom)),
            func.ST_XMax(func.ST_Extent(geom)),
            func.ST_YMax(func.ST_Extent(geom)),
        ).where(*where)
    ).one()
    return None if found[0] is None else [round(v, 7) for v in found]


def extent(session: Session, collection: Collection, actor: Actor | None = None) -> dict[str, Any]:
    """The data's own extent, of what `actor` may see (a street role: its own street and its
    sites): the bounding box of the live sites' points (of the street boundaries), and the
    interval of their last changes (`updated_at`, what `datetime` filters). A collection
    without features has no spatial extent and an open interval."""
    if collection.id == "sites":
        where = [Site.deleted_at.is_(None), *(site_scope(actor) if actor is not None else [])]
        box = _bbox(session, Site.geom, *where)
        times = session.execute(
            select(func.min(Site.updated_at), func.max(Site.updated_at)).where(*where)
        ).one()
    else:
        mine = own_street(actor) if actor is not None else None
        streets = [Street.code == mine] if mine is not None else []
        box = _bbox(session, Street.geom, *streets)
        times = session.execute(
            select(func.min(Street.updated_at), func.max(Street.updated_at)).where(*streets)
        ).one()
    out: dict[str, Any] = {}
    if box is not None:
        out["spatial"] = {"bbox": [box], "crs": CRS84}
    out["temporal"] = {
        "interval": [[_iso(times[0]), _iso(times[1])]],
        "trs": TRS,
    }
    return out


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
