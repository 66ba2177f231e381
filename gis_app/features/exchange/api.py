"""Downloads for other agencies and GIS desks: the 导出 page and /exports/<layer>.<format>.

The same downloads answer under /api/v1/exports/... (errors as JSON there). Filters are the
query parameters of /api/v1/sites; `lang=zh` gives Chinese field names and labels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.errors import NotFound
from gis_app.features.exchange import export as export_service
from gis_app.features.exchange.export import FORMATS, ExportSpec
from gis_app.features.exchange.export.fields import LAYER_TITLES
from gis_app.features.ledger.permissions import own_street
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.streets.service import streets_feature_collection
from gis_app.http.access import EXPORT_READERS, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session

bp = Blueprint("exports", __name__, template_folder="templates")
log = logging.getLogger(__name__)

PERSONAL_LAYER = "sites-personal"  # the district office's full export


def _spec(name: str, fmt: str) -> ExportSpec:
    if name == PERSONAL_LAYER:
        layer, personal = "sites", True
    elif name in ("sites", "streets"):
        layer, personal = name, False
    else:
        raise NotFound(
            f"没有名为 {name} 的导出图层（可选：sites、streets、sites-personal）", "layer"
        )
    lang = (request.args.get("lang") or "en").strip().lower()
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
def download(name: str, fmt: str) -> Response:
    """One export file; GeoJSON and CSV stream as they are read from the database."""
    spec = _spec(name, fmt)
    flt = SiteFilter.from_args(request.args)
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
    flt = SiteFilter.from_args(request.args)
    lang = "zh" if request.args.get("lang") == "zh" else "en"
    params = {**flt.to_params(), **({"lang": "zh"} if lang == "zh" else {})}
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
        ogc_url=url_for("ogc.landing", _external=True),
    )


def export_openapi_paths(filter_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """The download under /api/v1/exports, for the API's OpenAPI document."""
    content = {f.media_type.split(";")[0]: {} for f in FORMATS.values()}
    return {
        "/exports/{layer}.{format}": {
            "get": {
                "summary": "导出点位或街道边界（GeoJSON、GeoPackage、Shapefile、KML、CSV、xlsx）",
                "description": (
                    "sites-personal（含相对人信息）仅限区级角色。字段见 docs/data-dictionary.md。"
                ),
                "operationId": "exportLayer",
                "parameters": [
                    {
                        "name": "layer",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["sites", "streets", PERSONAL_LAYER]},
                    },
                    {
                        "name": "format",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(FORMATS)},
                    },
                    {
                        "name": "lang",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["en", "zh"]},
                    },
                    *filter_parameters,
                ],
                "responses": {
                    "200": {"description": "the file (attachment)", "content": content},
                    "403": {"description": "完整导出仅限区级角色"},
                    "422": {"description": "参数无效（field 指出哪个参数）"},
                },
            }
        }
    }
