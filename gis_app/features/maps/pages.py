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
from gis_app.features.maps import (
    cells,
    current_basemap,
    map_assets,
    shift_for,
    url_templates,
)
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
    threshold = int(current_app.config["MAP_TILE_THRESHOLD"])
    # the filter's counts from the map's cell counts when they can answer (a city of a million
    # sites: a sum of a few thousand rows, not a count of every site), else from the sites
    from_cells = cells.page_counts(session(), flt, today, actor)
    by_street = from_cells.by_street if from_cells is not None else None
    counts = (
        cells.totals(by_street)
        if by_street is not None
        else map_data.site_counts(session(), flt, today, actor)
    )
    # more sites than the threshold: the page carries none; the browser draws tiles and, where
    # few enough are in view, fetches those (sites.json); the printout always draws them all
    tiled = counts["total"] > threshold and not printable
    if tiled:
        payload = map_data.empty_payload()
    else:
        points = map_data.site_points(session(), flt, today, shift=shift, actor=actor)
        payload, counts = points.payload, points.counts
    shapes = map_data.outlines(
        session(),
        current_app.config["DISTRICT_CODE"],
        frame_street=street.code if street else None,
        shift=shift,
    )
    params = flt.to_params()
    squares = from_cells.squares if tiled and from_cells is not None and by_street else None
    spec = MapSpec(
        sites_payload=payload,
        counts=counts,
        streets=shapes.streets,
        district=shapes.district,
        bounds=shapes.bounds,
        basemap=basemap,
        highlight_street=street.code if street else None,
        printable=printable,
        tiles=_tile_options(
            params,
            threshold,
            tiled,
            _street_counts(by_street, shapes.streets),
            squares,
        ),
        **url_templates(),
    )
    if street is not None:
        params.pop("street", None)  # the page's own street, not a filter to carry elsewhere
    context.update(
        error=None,
        flt=flt,
        params=params,
        summary=filter_summary(flt, names, skip_street=street is not None),
        parts=render_map(build_map(spec, map_assets()), csp_nonce()),
        counts=counts,
        map_mode="tiles" if tiled else "sites",
        any_approximate=shapes.any_approximate,
    )
    return render_template(_template(street, printable), **context), 200


def _street_counts(
    by_street: dict[str, list[tuple[str, str, int]]] | None, outlines: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """Each street with sites of the filter: code, name, its label point (as the outlines:
    moved for the basemap) and its counts by key and disposition ("overdue:demolish:3,…")."""
    if by_street is None:
        return None
    out = []
    for feature in outlines["features"]:
        props = feature["properties"]
        parts = by_street.get(props["code"])
        if parts:
            lon, lat = props["label"]
            out.append(
                {
                    "code": props["code"],
                    "name": props["name"],
                    "lon": lon,
                    "lat": lat,
                    "c": ",".join(f"{k}:{d}:{n}" for k, d, n in parts),
                }
            )
    return out


def _tile_options(
    params: dict[str, str],
    threshold: int,
    tiled: bool,
    streets: list[dict[str, Any]] | None,
    squares: list[int] | None,
) -> dict[str, Any] | None:
    """What the browser needs to draw from tiles: their URL with the filter, the URL of the
    sites of a view, the two thresholds, the filter's counts per street (drawn at the lowest
    zooms without asking for a tile; None: tiles there too) and the zoom-14 squares holding
    its sites (no tile is asked over the others; None: every tile is asked). Both are what the
    page was made with, as the array mode's sites are: a reload shows later changes there."""
    if not tiled:
        return None
    marker = "/0/0/0.mvt"
    tile_url = url_for("tiles.site_tile", z=0, x=0, y=0, **params)
    view_sites = int(current_app.config["MAP_VIEW_SITES"])
    return {
        "tileUrl": tile_url.replace(marker, "/{z}/{x}/{y}.mvt"),
        "sitesUrl": url_for("maps.view_sites", **params),
        "threshold": threshold,
        # a view's sites are fetched (each drawn with its popup and hover) up to this many
        "viewSites": min(threshold, view_sites),
        "streetZoom": STREET_ZOOM if streets is not None else -1,
        "streets": streets or [],
        "squares": squares,
        "squareZoom": cells.SQUARE_ZOOM,
    }


#: up to this zoom the tile mode draws one circle per street (the page's counts), no tile asked
STREET_ZOOM = 10


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


@bp.get("/map/sites.json")
@allow(*MAP_VIEWERS)
def view_sites() -> Response:
    """The sites of one view (bbox= required) as the map page's compact payload: a map drawn
    from tiles fetches them once few enough are in view."""
    flt = validate_query(SiteFilter)
    if flt.bbox is None:
        raise ValidationError("须给出视图范围 bbox", "bbox")
    shift = shift_for(current_basemap())
    # a view's sites: each one's own late steps probed (hashing every late step of a city
    # under row-level security took most of the 0.15 s of a view of a hundred sites)
    points = map_data.site_points(
        session(), flt, clock.today(), shift=shift, actor=current_actor(), per_site=True
    )
    return Response(points.payload, mimetype="application/json")


@bp.get("/map/sites/<int:site_id>/popup")
@allow(*MAP_VIEWERS)
def site_popup(site_id: int) -> Response:
    """What a site's popup on the map shows (no personal data); the link to the site's page
    only for those who may open it."""
    actor = current_actor()
    body = map_data.site_popup(session(), site_id, clock.today(), actor)
    body["url"] = url_for("site_pages.site_page", site_id=site_id) if can_see_sites(actor) else None
    return jsonify(body)
