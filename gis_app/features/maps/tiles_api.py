"""Vector tiles of the sites (/tiles/sites/{z}/{x}/{y}.mvt), for maps at city scale."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request

from gis_app.core import clock
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.maps import cells, tile_cache
from gis_app.http.access import MAP_VIEWERS, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT = "application/vnd.mapbox-vector-tile"
CACHE_KEY = "gis_app.tile_cache"


def _cache(app: Flask) -> tile_cache.TileCache | None:
    """The process's tile cache (None when GIS_APP_TILE_CACHE_MB is 0)."""
    if CACHE_KEY not in app.extensions:
        limit = int(float(app.config.get("TILE_CACHE_MB", 0)) * 1024 * 1024)
        app.extensions[CACHE_KEY] = tile_cache.TileCache(limit) if limit > 0 else None
    return app.extensions[CACHE_KEY]


@bp.get("/sites/<int:z>/<int:x>/<int:y>.mvt")
@allow(*MAP_VIEWERS)
@operation(
    "点位矢量瓦片",
    "siteTile",
    query=SiteFilter,
    replies=[
        Reply(200, "Mapbox 矢量瓦片", media=MVT),
        Reply(204, "瓦片中没有点位", media=MVT),
        Reply(304, "瓦片未变（If-None-Match 与 ETag 相同）", media=MVT),
    ],
)
def site_tile(z: int, x: int, y: int, query: SiteFilter) -> Response:
    """One tile of the sites the filter selects (the list API's parameters); 204 when empty.

    Every tile has an ETag that changes when a site it may show changes (tile_cache); with
    If-None-Match the unchanged tile is 304, and the bytes come from the process's cache when
    they are there."""
    actor, today = current_actor(), clock.today()
    version = tile_cache.tile_version(session(), z, x, y)
    etag = tile_cache.tile_etag(version, query, today, z, x, y, actor)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        cache = _cache(current_app)
        data = cache.get(etag) if cache is not None else None
        if data is None:
            data = cells.site_tile(session(), query, today, z, x, y, actor)
            if cache is not None:
                cache.put(etag, data)
        response = Response(data, status=200 if data else 204, mimetype=MVT)
    response.set_etag(etag)
    # what a tile holds depends on who asks (street scope): a browser may keep it, a shared
    # cache in front may not (docs/operations/scaling.md: cache per scope); `no-cache`: it asks
    # again each time (a 304 while nothing changed), so an edit shows on the next draw
    response.headers["Cache-Control"] = "private, no-cache"
    return response
