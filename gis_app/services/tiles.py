"""Sites as Mapbox vector tiles (MVT), built by PostGIS: the map at city scale.

The map pages send a district's sites as one compact array (map_data.site_points). A city of a
million sites cannot travel that way, so tiles carry only what one 256-pixel square of the map
shows, and each tile is cacheable (the same URL gives the same bytes until the data changes):

* from POINT_ZOOM on, one point per site with its id, the legend key it is drawn with
  (overdue wins over the status, as on the maps) and its disposition;
* below it, sites are counted on a grid of CELL tile units (16 cells across a tile): one point
  per occupied cell, at the cell's centre, with the number of sites, how many are overdue and
  the most frequent legend key. A zoom-11 tile of the city centre then holds a few hundred
  features instead of a hundred thousand.

The tile's envelope (Web Mercator, ST_TileEnvelope) is transformed to EPSG:4326 and compared
with the stored points (`geom && envelope`), so the GiST index on sites.geom finds the sites;
only the points found are transformed to Web Mercator. No personal data is in a tile.
"""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import ColumnElement, Integer, Select, func, literal, select
from sqlalchemy.orm import Session

from gis_app.errors import ValidationError
from gis_app.models import Site
from gis_app.services.map_data import display_key_expr
from gis_app.services.site_query import SiteFilter, base_select
from layers import palette

LAYER = "sites"
EXTENT = 4096  # tile units across a tile (the MVT default)
BUFFER = 64  # tile units drawn beyond the edge, so that symbols on an edge are not cut
POINT_ZOOM = 13  # from this zoom on, one feature per site
CELL = 256  # grid cell below POINT_ZOOM, in tile units (16 cells across a tile)
MAX_ZOOM = 22


def check_tile(z: int, x: int, y: int) -> None:
    """A tile address that exists: 0 <= z <= MAX_ZOOM, 0 <= x, y < 2**z."""
    if not 0 <= z <= MAX_ZOOM:
        raise ValidationError(f"缩放级别 z 须在 0 到 {MAX_ZOOM} 之间", "z")
    if not 0 <= x < 2**z:
        raise ValidationError(f"瓦片列号 x 须在 0 到 {2**z - 1} 之间", "x")
    if not 0 <= y < 2**z:
        raise ValidationError(f"瓦片行号 y 须在 0 到 {2**z - 1} 之间", "y")


def _legend_key_expr(today: date) -> ColumnElement[str]:
    """The display key as text ('overdue', 'closed', …): MVT stores each distinct value once."""
    keys = palette.legend_keys()
    index = display_key_expr(today)
    return func.coalesce(func.json_build_array(*keys).op("->>")(index), literal("registered"))


def tile_bounds(z: int, x: int, y: int, buffer: float = 0.0) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of tile z/x/y, widened by ``buffer`` tiles."""
    n = 2**z

    def lon(tx: float) -> float:
        return tx / n * 360.0 - 180.0

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    west, east = lon(x - buffer), lon(x + 1 + buffer)
    north, south = lat(max(0.0, y - buffer)), lat(min(float(n), y + 1 + buffer))
    return max(-180.0, west), south, min(180.0, east), north


def tile_statement(flt: SiteFilter, today: date, z: int, x: int, y: int) -> Select:
    """The one statement that builds the tile's bytes (bytea; empty when no site is in it)."""
    check_tile(z, x, y)
    envelope = func.ST_TileEnvelope(z, x, y)
    # the tile with its buffer in degrees (Web Mercator keeps a tile a lon/lat rectangle):
    # what the GiST index on sites.geom is asked for
    search = func.ST_MakeEnvelope(*tile_bounds(z, x, y, BUFFER / EXTENT), 4326)
    conds = [*flt.conditions(today), Site.geom.op("&&")(search)]
    mvt_geom = func.ST_AsMVTGeom(func.ST_Transform(Site.geom, 3857), envelope, EXTENT, BUFFER, True)
    if z >= POINT_ZOOM:
        rows = (
            base_select(
                [
                    Site.id.label("id"),
                    _legend_key_expr(today).label("k"),
                    Site.disposition.label("d"),
                    mvt_geom.label("geom"),
                ]
            )
            .where(*conds)
            .subquery("t")
        )
        return select(func.ST_AsMVT(rows.table_valued(), LAYER, EXTENT, "geom", "id"))
    points = (
        base_select(
            [
                mvt_geom.label("g"),
                _legend_key_expr(today).label("k"),
            ]
        )
        .where(*conds)
        .subquery("p")
    )
    cx = func.floor(func.ST_X(points.c.g) / CELL).cast(Integer)
    cy = func.floor(func.ST_Y(points.c.g) / CELL).cast(Integer)
    cells = (
        select(
            func.ST_MakePoint((cx + 0.5) * CELL, (cy + 0.5) * CELL).label("geom"),
            func.count().label("n"),
            func.count().filter(points.c.k == "overdue").label("overdue"),
            func.mode().within_group(points.c.k).label("k"),
        )
        .where(points.c.g.is_not(None))
        .group_by(cx, cy)
        .subquery("c")
    )
    return select(func.ST_AsMVT(cells.table_valued(), LAYER, EXTENT, "geom"))


def site_tile(session: Session, flt: SiteFilter, today: date, z: int, x: int, y: int) -> bytes:
    """The tile's bytes (b'' when no site is in it)."""
    data = session.execute(tile_statement(flt, today, z, x, y)).scalar()
    return bytes(data or b"")
