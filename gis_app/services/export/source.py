"""The features of an export, selected and shaped in PostgreSQL, read with a server-side cursor.

Every writer and the OGC API read the same selection (SiteFilter for sites, the street filter
for streets) in batches, so that memory does not grow with the number of features. Values are
the canonical codes, or their Chinese labels when lang is "zh".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Numeric, Select, Text, case, cast, func, select
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from gis_app import codes
from gis_app.models import Site, Street
from gis_app.services.export.fields import ExportField, Lang
from gis_app.services.site_query import SiteFilter, base_select, overdue_expr

# decimals of a coordinate: 1e-7 degree is about 1 cm
COORD_DECIMALS = 7
BATCH = 2000
# RFC 3339 in Asia/Shanghai (no daylight saving time since 1991, so the offset is fixed)
RFC3339_LOCAL = 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'

Expr = ColumnElement[Any]
# called with the number of features written so far
Progress = Callable[[int], None] | None


def local_rfc3339(column: Any) -> Expr:
    """A timestamptz as RFC 3339 text in Asia/Shanghai, built by PostgreSQL."""
    return func.to_char(func.timezone("Asia/Shanghai", column), RFC3339_LOCAL)


def _labelled(column: Any, mapping: Mapping[str, str], lang: Lang) -> Expr:
    """The code, or its Chinese label when lang is zh (an unknown code stays as it is)."""
    if lang != "zh":
        return column
    return case(dict(mapping), value=column, else_=column)


def iter_batches(session: Session, query: Select, batch: int = BATCH) -> Iterator[Sequence[Row]]:
    """Rows of a query in batches, through a server-side cursor (constant memory)."""
    result = session.execute(query, execution_options={"yield_per": batch})
    try:
        yield from result.partitions()
    finally:
        result.close()


@dataclass
class LayerSource:
    """What one layer's features are and which of them the request selects."""

    layer: str
    today: date
    values: Mapping[str, Callable[[], Any]]
    id_expr: Any
    geom: Any  # the geometry column, EPSG:4326
    from_query: Callable[[list[Any]], Select]  # SELECT columns FROM ... WHERE ... (no order)
    order: Any
    label_point: Any = None  # a point inside (polygons), for lon/lat columns
    extra: list[Expr] = field(default_factory=list)

    def value_exprs(self, fields: Sequence[ExportField], lang: Lang, text_times: bool) -> list:
        out = []
        for f in fields:
            expr = self.values[f.name]()
            if f.codes is not None:
                expr = _labelled(expr, f.codes, lang)
            if f.type == "datetime" and text_times:
                expr = local_rfc3339(expr)
            out.append(expr.label(f.name))
        return out

    def select(self, columns: list[Any]) -> Select:
        return self.from_query(columns).where(*self.extra).order_by(self.order)

    def count(self, session: Session) -> int:
        return int(session.execute(self.from_query([func.count()]).where(*self.extra)).scalar_one())

    def geojson_geometry(self) -> Expr:
        """RFC 7946 geometry: polygons' exterior rings counter-clockwise (right-hand rule)."""
        geom = self.geom if self.layer == "sites" else func.ST_ForcePolygonCCW(self.geom)
        return cast(func.ST_AsGeoJSON(geom, COORD_DECIMALS), JSON)

    def feature_text(self, fields: Sequence[ExportField], lang: Lang) -> Expr:
        """One feature as GeoJSON text, built by PostgreSQL."""
        pairs: list[Any] = []
        for f, expr in zip(fields, self.value_exprs(fields, lang, True), strict=True):
            pairs += [f.title(lang), expr]
        feature = func.json_build_object(
            "type",
            "Feature",
            "id",
            self.id_expr,
            "geometry",
            self.geojson_geometry(),
            "properties",
            func.json_build_object(*pairs),
        )
        return cast(feature, Text).label("feature")

    def lonlat(self) -> list[Expr]:
        point = self.geom if self.label_point is None else self.label_point
        return [
            func.ST_X(point).label("lon"),
            func.ST_Y(point).label("lat"),
        ]


def _site_values(today: date) -> dict[str, Callable[[], Any]]:
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
        "overdue": lambda: overdue_expr(today),
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


def site_source(flt: SiteFilter, today: date, extra: Sequence[Expr] = ()) -> LayerSource:
    """The live sites the filter selects (plus extra conditions, e.g. the OGC API's)."""
    conds = flt.conditions(today)
    return LayerSource(
        layer="sites",
        today=today,
        values=_site_values(today),
        id_expr=Site.id,
        geom=Site.geom,
        from_query=lambda columns: base_select(columns).where(*conds),
        order=Site.id,
        extra=list(extra),
    )


def street_source(flt: SiteFilter, today: date, extra: Sequence[Expr] = ()) -> LayerSource:
    """Streets (by the filter's street codes and bbox), with counts of the sites it selects."""
    counts = (
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
        .where(*flt.conditions(today))
        .group_by(Site.street_id)
        .subquery("counts")
    )
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
    conds: list[Expr] = []
    if flt.streets:
        conds.append(Street.code.in_(flt.streets))
    if flt.bbox is not None:
        conds.append(Street.geom.op("&&")(func.ST_MakeEnvelope(*flt.bbox, 4326)))

    def from_query(columns: list[Any]) -> Select:
        return (
            select(*columns)
            .select_from(Street)
            .outerjoin(counts, counts.c.street_id == Street.id)
            .where(*conds)
        )

    return LayerSource(
        layer="streets",
        today=today,
        values=values,
        id_expr=Street.code,
        geom=Street.geom,
        from_query=from_query,
        order=Street.code,
        label_point=func.ST_PointOnSurface(Street.geom),
        extra=list(extra),
    )


def make_source(layer: str, flt: SiteFilter, today: date) -> LayerSource:
    return site_source(flt, today) if layer == "sites" else street_source(flt, today)
