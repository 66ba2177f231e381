"""The features of an export, selected and shaped in PostgreSQL, read with a server-side cursor.

Every writer and the OGC API read the same selection (SiteFilter for sites, the street filter
for streets) in batches, so that memory does not grow with the number of features. Values are
the canonical codes, or their Chinese labels when lang is "zh".

The query has two levels: an inner one selects the raw values in id order (for sites an index
scan on the primary key, so rows stream without a sort), and the outer one shapes each row
(labels, JSON text, WKB) as it goes by. Times are rendered in Asia/Shanghai: the export's
transaction sets its time zone (`local_time`), so PostgreSQL writes RFC 3339 with +08:00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    TIMESTAMP,
    ColumnElement,
    Float,
    Numeric,
    Select,
    Subquery,
    Text,
    case,
    cast,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from gis_app.core import codes
from gis_app.core.actor import Actor
from gis_app.features.exchange.export.fields import ExportField, Lang
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import own_street
from gis_app.features.ledger.queries import SiteFilter, base_select, overdue_expr, scoped
from gis_app.features.streets.models import Street

# decimals of a coordinate: 1e-7 degree is about 1 cm
COORD_DECIMALS = 7
BATCH = 2000
LOCAL_TIME_ZONE = "Asia/Shanghai"

Expr = ColumnElement[Any]
# called with the number of features written so far
Progress = Callable[[int], None] | None


def local_time(session: Session) -> None:
    """Render times in Asia/Shanghai for the rest of this transaction (SET LOCAL)."""
    session.execute(text(f"SET LOCAL TIME ZONE '{LOCAL_TIME_ZONE}'"))


def iter_batches(session: Session, query: Select, batch: int = BATCH) -> Iterator[Sequence[Row]]:
    """Rows of a query in batches, through a server-side cursor (constant memory)."""
    local_time(session)
    result = session.connection().execute(query.execution_options(yield_per=batch))
    try:
        yield from result.partitions()
    finally:
        result.close()


def _json_text(expr: Any) -> Expr:
    """A value as JSON text (a string is quoted, a number is not)."""
    return cast(func.to_json(expr), Text)


@dataclass(frozen=True)
class RowStyle:
    """How a writer wants its values: times, dates, booleans and numbers."""

    times: str = "raw"  # raw (aware datetime), text (RFC 3339), local (naive Beijing time)
    dates: str = "raw"  # raw (date) or text (YYYY-MM-DD)
    booleans: str = "raw"  # raw or text (true/false, 是/否 with lang=zh)
    numbers: str = "raw"  # raw (Decimal) or float


JSON_STYLE = RowStyle()  # json_build_object renders times in the transaction's time zone
CSV_STYLE = RowStyle(times="text", booleans="text")


@dataclass
class LayerSource:
    """What one layer's features are and which of them the request selects."""

    layer: str
    values: Mapping[str, Callable[[], Any]]  # field name -> raw SQL value
    id_expr: Any  # the feature id (site id, street code); also the order
    geom: Any  # the geometry column, EPSG:4326
    from_query: Callable[[list[Any]], Select]  # SELECT columns FROM ... WHERE ... (no order)
    extra: list[Expr] = field(default_factory=list)

    # -------------------------------------------------------------- the two levels

    def _inner(
        self, fields: Sequence[ExportField], limit: int | None = None, offset: int = 0
    ) -> Subquery:
        columns = [self.values[f.name]().label(f.name) for f in fields]
        columns += [self.id_expr.label("_fid"), self.geom.label("_geom")]
        query = self.from_query(columns).where(*self.extra)
        # a page is cut in id order here; a whole export is ordered by the outer query only,
        # so that PostgreSQL flattens this level and builds the features below the sort, in
        # parallel workers where it may (20-40 % less time at 100,000 sites)
        if limit is not None or offset:
            query = query.order_by(self.id_expr)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        return query.subquery("f")

    @staticmethod
    def _shaped(f: ExportField, column: Any, lang: Lang, style: RowStyle) -> Any:
        """A value as the writer takes it, shaped by PostgreSQL rather than row by row here."""
        if f.codes is not None and lang == "zh":
            return case(dict(f.codes), value=column, else_=column)
        if f.type == "datetime":
            column = func.date_trunc("second", column)
            if style.times == "text":  # RFC 3339 in the transaction's time zone
                return func.to_json(column).op("#>>")(literal("{}", Text))
            if style.times == "local":  # wall-clock time in that zone, for spreadsheets
                return cast(column, TIMESTAMP(timezone=False))
        if f.type == "date" and style.dates == "text":
            return cast(column, Text)
        if f.type == "boolean" and style.booleans == "text":
            yes, no = ("是", "否") if lang == "zh" else ("true", "false")
            return case((column, yes), (column.is_(False), no), else_=None)
        if f.type == "number" and style.numbers == "float":
            return cast(column, Float)
        return column

    def geojson_geometry(self, column: Any) -> Expr:
        """RFC 7946 geometry: polygons' exterior rings counter-clockwise (right-hand rule)."""
        geom = column if self.layer == "sites" else func.ST_ForcePolygonCCW(column)
        return func.ST_AsGeoJSON(geom, COORD_DECIMALS)

    # -------------------------------------------------------------- what the writers read

    def features(
        self,
        fields: Sequence[ExportField],
        lang: Lang,
        limit: int | None = None,
        offset: int = 0,
    ) -> Select:
        """One column: each feature as RFC 7946 GeoJSON text, built by PostgreSQL."""
        inner = self._inner(fields, limit, offset)
        pairs: list[Any] = []
        for f in fields:
            pairs += [f.title(lang), self._shaped(f, inner.c[f.name], lang, JSON_STYLE)]
        feature = (
            literal('{"type":"Feature","id":', Text)
            + _json_text(inner.c._fid)
            + literal(',"geometry":', Text)
            + self.geojson_geometry(inner.c._geom)
            + literal(',"properties":', Text)
            + cast(func.json_build_object(*pairs), Text)
            + literal("}", Text)
        )
        return select(feature.label("feature")).order_by(inner.c._fid)

    def rows(
        self, fields: Sequence[ExportField], lang: Lang, style: RowStyle, geometry: str
    ) -> Select:
        """The field values, then the geometry: "wkb", "lonlat" (plus "wkt" for polygons), or
        "geom" (the column itself, for other readers of the same selection).

        For polygons lon/lat is a point inside (ST_PointOnSurface), rounded to 7 decimals.
        """
        columns, order = self.row_columns(fields, lang, style, geometry)
        return select(*columns).order_by(order)

    def row_columns(
        self, fields: Sequence[ExportField], lang: Lang, style: RowStyle, geometry: str
    ) -> tuple[list[Any], Any]:
        """The columns of `rows` and the expression they are ordered by (for writers that
        build a text of their own out of the columns, as the .xlsx sheet's rows)."""
        inner = self._inner(fields)
        columns = [self._shaped(f, inner.c[f.name], lang, style).label(f.name) for f in fields]
        geom = inner.c._geom
        if geometry == "wkb":
            columns.append(func.ST_AsBinary(geom).label("wkb"))
        elif geometry == "geom":
            columns.append(geom.label("geom"))
        else:
            point = geom if self.layer == "sites" else func.ST_PointOnSurface(geom)
            for name, coordinate in (("lon", func.ST_X(point)), ("lat", func.ST_Y(point))):
                rounded = func.round(cast(coordinate, Numeric), COORD_DECIMALS)
                if style.numbers == "float":
                    rounded = cast(rounded, Float)
                columns.append(rounded.label(name))
            if geometry == "lonlat+wkt":
                wkt = func.ST_AsText(func.ST_ForcePolygonCCW(geom), COORD_DECIMALS)
                columns.append(wkt.label("wkt"))
        return columns, inner.c._fid

    def count(self, session: Session) -> int:
        return int(session.execute(self.from_query([func.count()]).where(*self.extra)).scalar_one())


def _site_values(today: date, late_sites: list[int] | None) -> dict[str, Callable[[], Any]]:
    values: dict[str, Callable[[], Any]] = {
        "id": lambda: Site.id,
        "code": lambda: Site.code,
        "street_code": lambda: Street.code,
        "street_name": lambda: Street.name,
        "address": lambda: Site.address,
        "community": lambda: Site.community,
        "kind": lambda: Site.kind,
        "area_m2": lambda: Site.area_m2,
        "disposition": lambda: Site.disposition,
        "status": lambda: Site.status,
        "overdue": lambda: overdue_expr(today, late_sites),
        "committed_deadline": lambda: Site.committed_deadline,
        "current_deadline": lambda: Site.current_deadline,
        "source": lambda: Site.source,
        "version": lambda: Site.version,
        "created_at": lambda: Site.created_at,
        "updated_at": lambda: Site.updated_at,
        "person_name": lambda: Site.person_name,
        "person_contact": lambda: Site.person_contact,
        "note": lambda: Site.note,
    }
    for flag in codes.FLAGS:
        values[f"flag_{flag}"] = lambda flag=flag: getattr(Site, f"flag_{flag}")
    return values


def site_source(
    flt: SiteFilter,
    today: date,
    extra: Sequence[Expr] = (),
    actor: Actor | None = None,
    late_sites: list[int] | None = None,
) -> LayerSource:
    """The live sites the filter selects (plus extra conditions, e.g. the OGC API's), of
    those `actor` may see (a street role: its own street; None: a command, all).

    `late_sites` (ledger.queries.late_step_sites, read in the same transaction) lets
    PostgreSQL build a whole export in parallel workers (see `overdue_expr`)."""
    conds = scoped(flt, today, actor)
    return LayerSource(
        layer="sites",
        values=_site_values(today, late_sites),
        id_expr=Site.id,
        geom=Site.geom,
        from_query=lambda columns: base_select(columns).where(*conds),
        extra=list(extra),
    )


def street_source(
    flt: SiteFilter, today: date, extra: Sequence[Expr] = (), actor: Actor | None = None
) -> LayerSource:
    """Streets (by the filter's street codes and bbox), with counts of the sites it selects;
    a street role gets its own street only."""
    counts = _site_counts(flt, today, actor)
    values: dict[str, Callable[[], Any]] = {
        "code": lambda: Street.code,
        "name": lambda: Street.name,
        "name_en": lambda: Street.name_en,
        "district_code": lambda: Street.district_code,
        "approximate": lambda: Street.approximate,
        "source": lambda: Street.source,
        "area_km2": lambda: func.round(
            cast(func.ST_Area(cast(Street.geom, Geography)) / 1e6, Numeric), 3
        ),
        "updated_at": lambda: Street.updated_at,
    }
    for name in ("sites_total", *(f"sites_{c}" for c in codes.STATUSES), "sites_overdue"):
        values[name] = lambda name=name: func.coalesce(counts.c[name], 0)
    conds = _street_conditions(flt, actor)

    def from_query(columns: list[Any]) -> Select:
        return (
            select(*columns)
            .select_from(Street)
            .outerjoin(counts, counts.c.street_id == Street.id)
            .where(*conds)
        )

    return LayerSource(
        layer="streets",
        values=values,
        id_expr=Street.code,
        geom=Street.geom,
        from_query=from_query,
        extra=list(extra),
    )


def _site_counts(flt: SiteFilter, today: date, actor: Actor | None) -> Subquery:
    """Per street: the live sites the filter selects, by status, and the overdue ones."""
    return (
        base_select(
            [
                Site.street_id.label("street_id"),
                func.count().label("sites_total"),
                *(
                    func.count().filter(Site.status == code).label(f"sites_{code}")
                    for code in codes.STATUSES
                ),
                func.count().filter(overdue_expr(today)).label("sites_overdue"),
            ]
        )
        .where(*scoped(flt, today, actor))
        .group_by(Site.street_id)
        .subquery("counts")
    )


def _street_conditions(flt: SiteFilter, actor: Actor | None) -> list[Expr]:
    """Which streets: the actor's own (a street role), the filter's codes and bbox."""
    conds: list[Expr] = []
    mine = own_street(actor) if actor is not None else None
    if mine is not None:
        conds.append(Street.code == mine)
    if flt.streets:
        conds.append(Street.code.in_(flt.streets))
    if flt.bbox is not None:
        conds.append(Street.geom.op("&&")(func.ST_MakeEnvelope(*flt.bbox, 4326)))
    return conds


def make_source(
    layer: str,
    flt: SiteFilter,
    today: date,
    actor: Actor | None = None,
    late_sites: list[int] | None = None,
) -> LayerSource:
    if layer == "sites":
        return site_source(flt, today, actor=actor, late_sites=late_sites)
    return street_source(flt, today, actor=actor)
