"""Downloads for other agencies and GIS desks: the 导出 page and /exports/<layer>.<format>.

The same downloads answer under /api/v1/exports/... (errors as JSON there). Filters are the
query parameters of /api/v1/sites; `lang=zh` gives Chinese field names and labels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from pydantic import BeforeValidator, Field, WithJsonSchema
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.errors import NotFound, ValidationError
from gis_app.core.schemas import FeatureCollection
from gis_app.features.exchange import export as export_service
from gis_app.features.exchange.export import FORMATS, ExportSpec
from gis_app.features.exchange.export.fields import LANG_MESSAGE, LANGS, LAYER_TITLES
from gis_app.features.ledger.permissions import (
    own_street,
    require_visible_filters,
    visible_flags,
)
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.streets.service import streets_feature_collection
from gis_app.http.access import EXPORT_READERS, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation, validate_query

bp = Blueprint("exports", __name__, template_folder="templates")
log = logging.getLogger(__name__)

PERSONAL_LAYER = "sites-personal"  # the district office's full export
EXPORT_LAYERS = ("sites", "streets", PERSONAL_LAYER)
#: the file, in each format's media type (GeoJSON: a FeatureCollection)
FILE_REPLIES = [
    Reply(
        200,
        "导出的文件（附件）",
        FeatureCollection if f.key == "geojson" else None,
        f.media_type.split(";")[0],
    )
    for f in FORMATS.values()
]


def _lang(raw: Any) -> str:
    lang = str(raw).strip().lower() or default_lang()
    if lang not in LANGS:
        raise ValidationError(LANG_MESSAGE, "lang")
    return lang


def default_lang() -> str:
    """The exports' language unless a request asks (GIS_APP_EXPORT_LANG; zh by default)."""
    return str(current_app.config.get("EXPORT_LANG") or "zh")


class ExportQuery(SiteFilter):
    """The download's filter (the site list's) and the language of its field names."""

    lang: Annotated[
        str, BeforeValidator(_lang), WithJsonSchema({"type": "string", "enum": list(LANGS)})
    ] = Field(
        "",
        description="字段名与代码值的语言：en 英文字段名和代码，zh 中文名和中文标签"
        "（不填：按本区设置 GIS_APP_EXPORT_LANG，默认 zh）",
    )


def _spec(name: str, fmt: str, lang: str) -> ExportSpec:
    if name == PERSONAL_LAYER:
        layer, personal = "sites", True
    elif name in ("sites", "streets"):
        layer, personal = name, False
    else:
        raise NotFound(f"没有名为 {name} 的导出图层（可选：{'、'.join(EXPORT_LAYERS)}）", "layer")
    return ExportSpec(layer=layer, fmt=fmt.lower(), lang=lang, personal=personal)


def _closing(db: Session, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Stream the chunks, then end the database transaction they were read in.

    Flask tears the request down (and closes its session) when the view returns, before the
    stream is sent; the stream's queries then run in a transaction of their own on the same
    session, which nothing else would end: left open, it would hold its connection and locks."""
    try:
        yield from chunks
    finally:
        db.close()


@bp.get("/exports/<name>.<fmt>")
@bp.get("/api/v1/exports/<name>.<fmt>")
@allow(*EXPORT_READERS)
@operation(
    "导出点位或街道边界（GeoJSON、GeoPackage、Shapefile、KML、CSV、xlsx）",
    "exportLayer",
    tags=("exchange",),
    description="sites-personal（含相对人信息）仅限区级角色。字段见 docs/data-dictionary.md。",
    query=ExportQuery,
    path={
        "name": {
            "schema": {"type": "string", "enum": list(EXPORT_LAYERS)},
            "description": "图层：sites 点位，streets 街道边界，sites-personal 含相对人信息的点位",
        },
        "fmt": {"schema": {"type": "string", "enum": list(FORMATS)}, "description": "文件格式"},
    },
    replies=FILE_REPLIES,
)
def download(name: str, fmt: str, query: ExportQuery) -> Response:
    """One export file; GeoJSON and CSV stream as they are read from the database."""
    spec = _spec(name, fmt, query.lang or default_lang())
    flt: SiteFilter = query
    actor = current_actor()
    result = export_service.export(session(), spec, flt, actor, clock.today())
    if spec.personal:
        log.info(
            "personal export %s by %s (%s): %d sites, filter %s",
            spec.fmt,
            actor.name,
            actor.role,
            result.count,
            flt.to_params(),
        )
    body = result.chunks
    if result.size is None:
        body = stream_with_context(_closing(session(), body))
    response = Response(body, mimetype=None, content_type=result.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response.headers["X-Feature-Count"] = str(result.count)
    if result.size is not None:
        response.headers["Content-Length"] = str(result.size)
    if spec.personal:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/exports/data-dictionary.md")
@allow(*EXPORT_READERS)
def data_dictionary() -> Response:
    """The fields of every export, their Chinese names and codes (docs/data-dictionary.md)."""
    from gis_app.features.exchange.export.dictionary import render

    return Response(render(), content_type="text/markdown; charset=utf-8")


@bp.get("/exports")
@allow(*EXPORT_READERS)
def page() -> str:
    """The 导出 page: filters, then a link per layer and format that carries them (a street
    role chooses within its own street)."""
    flt = validate_query(SiteFilter)
    require_visible_filters(current_actor(), flt.filtered_fields())
    asked = request.args.get("lang")
    lang = asked if asked in ("zh", "en") else default_lang()
    params = {**flt.to_params(), "lang": lang}
    mine = own_street(current_actor())
    streets = streets_feature_collection(
        session(), clock.today().isoformat(), [mine] if mine else None
    )["features"]
    links = {
        name: {key: url_for("exports.download", name=name, fmt=key, **params) for key in FORMATS}
        for name in ("sites", "streets", PERSONAL_LAYER)
    }
    return render_template(
        "exports.html",
        flt=flt,
        lang=lang,
        formats=FORMATS,
        links=links,
        layer_titles=LAYER_TITLES,
        streets=[f["properties"] for f in streets],
        actor=current_actor(),
        codes=codes,
        flag_choices=visible_flags(current_actor()),
        ogc_url=url_for("ogc.landing", _external=True),
    )
