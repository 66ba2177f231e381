"""一张图: the district map, the street maps, their printable A4 versions and the site popups."""

from __future__ import annotations

import gzip
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask.blueprints import BlueprintSetupState

from gis_app.core import clock, codes
from gis_app.core.errors import Forbidden, ValidationError
from gis_app.features.ledger.permissions import (
    can_see_sites,
    require_visible_filters,
    visible_flags,
)
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.maps import current_basemap, map_assets, shift_for, url_templates
from gis_app.features.maps import service as map_data
from gis_app.features.streets.models import Street
from gis_app.http.access import MAP_VIEWERS, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import validate_query
from gis_app.http.security import csp_nonce
from layers import basemaps, palette
from layers.site_map import MapSpec, build_map, render_map

bp = Blueprint("maps", __name__, template_folder="templates")

# responses smaller than this are sent as they are
GZIP_MIN_BYTES = 2048


@bp.record_once
def _check_basemap(state: BlueprintSetupState) -> None:
    """An unknown GIS_APP_BASEMAP stops the app at start-up, not at the first map."""
    basemaps.check_name(state.app.config["BASEMAP"])


@bp.after_request
def _compress(response: Response) -> Response:
    """gzip the map pages: their site arrays shrink to about a third."""
    if (
        response.status_code != 200
        or response.direct_passthrough
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or "Content-Encoding" in response.headers
        or response.mimetype not in ("text/html", "application/json")
    ):
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    # level 1: 1.7 MB in about 40 ms; level 5 takes three times as long for 12 % less
    response.set_data(gzip.compress(body, compresslevel=1))
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return response


def filter_summary(
    flt: SiteFilter, street_names: dict[str, str], skip_street: bool = False
) -> list[str]:
    """The active filters in words, for the page and the printout."""
    parts = []
    if flt.streets and not skip_street:
        parts.append("街道：" + "、".join(street_names.get(c, c) for c in flt.streets))
    for title, values, mapping in (
        ("状态", flt.statuses, codes.STATUSES),
        ("治理方式", flt.dispositions, codes.DISPOSITIONS),
        ("类型", flt.kinds, codes.KINDS),
        ("来源", flt.sources, codes.SOURCES),
        ("标记", flt.flags, codes.FLAGS),
    ):
        if values:
            parts.append(f"{title}：" + "、".join(codes.label(mapping, v) for v in values))
    if flt.overdue is not None:
        parts.append("仅逾期" if flt.overdue else "不含逾期")
    if flt.deadline_from or flt.deadline_to:
        start = flt.deadline_from.isoformat() if flt.deadline_from else "…"
        end = flt.deadline_to.isoformat() if flt.deadline_to else "…"
        parts.append(f"当前期限：{start} 至 {end}")
    if flt.districts:
        parts.append("区：" + "、".join(flt.districts))
    if flt.near:
        lon, lat, radius = flt.near
        parts.append(f"周边：{lon:.6f},{lat:.6f} 半径 {radius:,.0f} 米")
    if flt.q:
        parts.append(f"搜索：{flt.q}")
    if flt.community:
        parts.append(f"社区：{flt.community}")
    return parts


def _map_page(street: Street | None, printable: bool) -> tuple[str, int]:
    """A map of the sites the actor may see (a street role: its own street's)."""
    actor = current_actor()
    basemap = current_basemap()
    shift = shift_for(basemap)
    choices = map_data.street_choices(session(), actor)
    names = {c["code"]: c["name"] for c in choices}
    context: dict[str, Any] = {
        "street": street,
        "street_choices": choices,
        "basemap": basemap,
        "legend_items": palette.legend(),
        "now": clock.local_now(),
        "args": request.args,
        "printable": printable,
        # the hardship flag is offered only to whom may see it (not the media centre)
        "flag_choices": visible_flags(actor),
    }
    try:
        flt = validate_query(SiteFilter)
        require_visible_filters(actor, flt.filtered_fields())
    except (ValidationError, Forbidden) as exc:
        # the page stays usable: the form shows what to correct, no map is drawn
        context.update(error=exc, flt=SiteFilter(), summary=[], parts=None, counts=None)
        return render_template(_template(street, printable), **context), exc.status
    if street is not None:
        flt.streets = [street.code]
    today = clock.today()
    points = map_data.site_points(session(), flt, today, shift=shift, actor=actor)
    shapes = map_data.outlines(
        session(),
        current_app.config["DISTRICT_CODE"],
        frame_street=street.code if street else None,
        shift=shift,
    )
    spec = MapSpec(
        sites_payload=points.payload,
        counts=points.counts,
        streets=shapes.streets,
        district=shapes.district,
        bounds=shapes.bounds,
        basemap=basemap,
        highlight_street=street.code if street else None,
        printable=printable,
        **url_templates(),
    )
    params = flt.to_params()
    if street is not None:
        params.pop("street", None)  # the page's own street, not a filter to carry elsewhere
    context.update(
        error=None,
        flt=flt,
        params=params,
        summary=filter_summary(flt, names, skip_street=street is not None),
        parts=render_map(build_map(spec, map_assets()), csp_nonce()),
        counts=points.counts,
        any_approximate=shapes.any_approximate,
    )
    return render_template(_template(street, printable), **context), 200


def _template(street: Street | None, printable: bool) -> str:
    return "map/print.html" if printable else "map/page.html"


@bp.get("/map")
@allow(*MAP_VIEWERS)
def district_map() -> tuple[str, int]:
    return _map_page(None, printable=False)


@bp.get("/map/print")
@allow(*MAP_VIEWERS)
def district_print() -> tuple[str, int]:
    return _map_page(None, printable=True)


@bp.get("/map/street/<code>")
@allow(*MAP_VIEWERS)
def street_map(code: str) -> tuple[str, int]:
    return _map_page(map_data.map_street(session(), code, current_actor()), printable=False)


@bp.get("/map/street/<code>/print")
@allow(*MAP_VIEWERS)
def street_print(code: str) -> tuple[str, int]:
    return _map_page(map_data.map_street(session(), code, current_actor()), printable=True)


@bp.get("/map/sites/<int:site_id>/popup")
@allow(*MAP_VIEWERS)
def site_popup(site_id: int) -> Response:
    """What a site's popup on the map shows (no personal data); the link to the site's page
    only for those who may open it."""
    actor = current_actor()
    body = map_data.site_popup(session(), site_id, clock.today(), actor)
    body["url"] = url_for("site_pages.site_page", site_id=site_id) if can_see_sites(actor) else None
    return jsonify(body)
