"""Vector tiles of the sites (/tiles/sites/{z}/{x}/{y}.mvt), for maps at city scale."""

from __future__ import annotations

from flask import Blueprint, Response

from gis_app.core import clock
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.maps import tiles
from gis_app.http.access import MAP_VIEWERS, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT = "application/vnd.mapbox-vector-tile"
# a tile may be served from a cache for this long: the map lags edits by at most a minute
MAX_AGE_S = 60


@bp.get("/sites/<int:z>/<int:x>/<int:y>.mvt")
@allow(*MAP_VIEWERS)
@operation(
    "点位矢量瓦片",
    "siteTile",
    query=SiteFilter,
    replies=[Reply(200, "Mapbox 矢量瓦片", media=MVT), Reply(204, "瓦片中没有点位", media=MVT)],
)
def site_tile(z: int, x: int, y: int, query: SiteFilter) -> Response:
    """One tile of the sites the filter selects (the list API's parameters); 204 when empty."""
    data = tiles.site_tile(session(), query, clock.today(), z, x, y, current_actor())
    response = Response(data, status=200 if data else 204, mimetype=MVT)
    # what a tile holds depends on who asks (street scope): a browser may keep it, a shared
    # cache in front may not (docs/operations/scaling.md: cache per scope)
    response.headers["Cache-Control"] = f"private, max-age={MAX_AGE_S}"
    return response
