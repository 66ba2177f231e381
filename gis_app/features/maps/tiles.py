"""Sites as Mapbox vector tiles (MVT), built by PostGIS: the map at city scale.

The map pages send a district's sites as one compact array (map_data.site_points). A city of a
million sites cannot travel that way (the array of the whole city is 16 MB and takes seconds
to build), so tiles carry only what one square of the map shows, and each tile is cacheable
(the same URL gives the same bytes until the data changes):

* from POINT_ZOOM on, one point per site with its id, the legend key it is drawn with
  (overdue wins over the status, as on the maps) and its disposition;
* below it, sites are counted on a grid (`cells_across`: 8 cells across a tile, so that a
  cell is never smaller than a zoom-16 square, the finest grid of `site_cells`; the map draws
  every tile at 512 px one zoom up): one point per occupied cell, at the cell's
  centre, with the number of sites, how many are overdue, the most frequent legend key and the
  count of every legend key and disposition (`c`, so that the map's layer toggles apply to
  cells too). A zoom-11 tile of the
  city centre then holds a few hundred features instead of seventy thousand, and each site is
  counted in exactly one tile.

Both ask the GiST index on sites.geom for the tile's bounds in degrees (`geom && box`; Web
Mercator keeps a tile a longitude/latitude rectangle); only the points found are transformed
(point zoom) or placed in their cell by the Mercator formula (grid zoom). No personal data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gis_app.core import codes
from gis_app.core.actor import Actor
from gis_app.core.errors import ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import (
    SiteFilter,
    in_squares,
    overdue_expr,
    scoped,
)
from layers import palette

LAYER = "sites"
EXTENT = 4096  # tile units across a tile (the MVT default)
BUFFER = 64  # tile units drawn beyond the edge, so that symbols on an edge are not cut
#: from this zoom on, one feature per site; below it, counts. The map draws every tile at 512 px
#: one zoom up, so it shows sites from zoom 15 in tiles of zoom 14: a view of 6-9 requests
#: where 256-px tiles of zoom 15 took 20-24, each a few ms of the server's and the tab's time
#: whatever it holds. A zoom-14 tile of a million sites' city centre holds up to ~10,000 sites
#: (~200 KB; docs/operations/performance.md)
POINT_ZOOM = 14
#: the map's first zoom that shows every site (its tiles are those of the zoom below)
MAP_POINT_ZOOM = POINT_ZOOM + 1
FINEST_CELL_ZOOM = 16  # a grid cell is never smaller than a square of this zoom
MAX_ZOOM = 22


def cells_across(z: int) -> int:
    """Grid cells across a tile of zoom z (below POINT_ZOOM): 8 (the map draws these tiles at
    512 px one zoom up: 64-px cells); fewer were a cell ever below a zoom-16 square."""
    return 2 ** max(0, min(3, FINEST_CELL_ZOOM - z))


def cell_size(z: int) -> int:
    """A grid cell of a zoom-z tile, in tile units."""
    return EXTENT // cells_across(z)


def check_tile(z: int, x: int, y: int) -> None:
    """A tile address that exists: 0 <= z <= MAX_ZOOM, 0 <= x, y < 2**z."""
    if not 0 <= z <= MAX_ZOOM:
        raise ValidationError(f"缩放级别 z 须在 0 到 {MAX_ZOOM} 之间", "z")
    if not 0 <= x < 2**z:
        raise ValidationError(f"瓦片列号 x 须在 0 到 {2**z - 1} 之间", "x")
    if not 0 <= y < 2**z:
        raise ValidationError(f"瓦片行号 y 须在 0 到 {2**z - 1} 之间", "y")


def _legend_key_expr(today: date) -> ColumnElement[str]:
    """The legend key a site is drawn with, as text ('overdue', 'closed', …; MVT stores each
    distinct value once): overdue wins over the stored status, as on the maps (each site's
    own steps probed: a tile holds a few thousand sites, a city many late steps)."""
    statuses = [k for k in palette.legend_keys() if k in codes.STATUSES]
    return case(
        (overdue_expr(today, per_site=True), literal("overdue")),
        *((Site.status == status, literal(status)) for status in statuses),
        else_=literal("registered"),
    )


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


def _sites(columns: list[ColumnElement[object]]) -> Select:
    """Columns of the sites table alone: a tile needs no street (the filter's street
    condition is a semi-join of its own), so no join per site."""
    return select(*columns).select_from(Site)


def tile_statement(
    flt: SiteFilter, today: date, z: int, x: int, y: int, actor: Actor | None = None
) -> Select:
    """The one statement that builds the tile's bytes (bytea; empty when no site is in it).

    With an actor, only the sites it may see (None: a command or bench, everything)."""
    check_tile(z, x, y)
    conditions = scoped(flt, today, actor)
    if z >= POINT_ZOOM:
        return _point_tile(conditions, today, z, x, y)
    return _grid_tile(conditions, today, z, x, y)


def _point_tile(
    conditions: list[ColumnElement[bool]], today: date, z: int, x: int, y: int
) -> Select:
    """One point per site, with its id, legend key and disposition."""
    # the tile with its buffer in degrees (Web Mercator keeps a tile a lon/lat
    # rectangle): what the GiST index on sites.geom is asked for
    box = tile_bounds(z, x, y, BUFFER / EXTENT)
    search = func.ST_MakeEnvelope(*box, 4326)
    mvt_geom = func.ST_AsMVTGeom(
        func.ST_Transform(Site.geom, 3857), func.ST_TileEnvelope(z, x, y), EXTENT, BUFFER
    )
    rows = (
        _sites(
            [
                Site.id.label("id"),
                _legend_key_expr(today).label("k"),
                Site.disposition.label("d"),
                mvt_geom.label("geom"),
            ]
        )
        .where(*conditions, *in_squares(*box), Site.geom.op("&&")(search))
        .subquery("t")
    )
    return select(func.ST_AsMVT(rows.table_valued(), LAYER, EXTENT, "geom", "id"))


def _grid_tile(
    conditions: list[ColumnElement[bool]], today: date, z: int, x: int, y: int
) -> Select:
    """One point per occupied grid cell, with its number of sites, how many are overdue and
    the most frequent legend key.

    Each site's cell comes from its lon/lat by the Web Mercator formula (plain arithmetic,
    no geometry made per site); only the cells become points."""
    n, across = 2**z, cells_across(z)
    lon, lat = func.ST_X(Site.geom), func.radians(func.ST_Y(Site.geom))
    fx = ((lon + 180.0) / 360.0 * n - x) * across
    fy = ((1.0 - func.asinh(func.tan(lat)) / math.pi) / 2.0 * n - y) * across
    points = (
        _sites(
            [
                func.floor(fx).cast(Integer).label("cx"),
                func.floor(fy).cast(Integer).label("cy"),
                _legend_key_expr(today).label("k"),
                Site.disposition.label("d"),
            ]
        )
        .where(
            *conditions,
            Site.geom.op("&&")(func.ST_MakeEnvelope(*tile_bounds(z, x, y), 4326)),
        )
        .subquery("p")
    )
    on_tile = [points.c.cx.between(0, across - 1), points.c.cy.between(0, across - 1)]
    return cells_tile(points, func.count(), cell_size(z), on_tile)


def cells_tile(
    points: Subquery,
    count: ColumnElement[int],
    cell: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select:
    """The grid tile of `points` (columns cx, cy: the cell in the tile; k: the legend key;
    d: the disposition): one MVT point per cell, at its centre (`cell`: its size in tile units).
    `count` counts a group of points (count(*) for sites, the sum of their counts for rows of
    site_cells)."""
    # count by cell, key and disposition first (a hash aggregate), then per cell and key, then
    # per cell: no sort of the sites
    by_kd = (
        select(points.c.cx, points.c.cy, points.c.k, points.c.d, count.label("n"))
        .where(*where)
        .group_by(points.c.cx, points.c.cy, points.c.k, points.c.d)
        .subquery("kd")
    )
    by_key = (
        select(
            by_kd.c.cx,
            by_kd.c.cy,
            by_kd.c.k,
            func.sum(by_kd.c.n).label("n"),
            func.string_agg(
                func.concat_ws(":", by_kd.c.k, by_kd.c.d, by_kd.c.n), literal(",")
            ).label("c"),
        )
        .group_by(by_kd.c.cx, by_kd.c.cy, by_kd.c.k)
        .subquery("b")
    )
    cells = (
        select(
            func.ST_MakePoint((by_key.c.cx + 0.5) * cell, (by_key.c.cy + 0.5) * cell).label("geom"),
            func.sum(by_key.c.n).cast(Integer).label("n"),
            func.coalesce(func.sum(by_key.c.n).filter(by_key.c.k == "overdue"), 0)
            .cast(Integer)
            .label("overdue"),
            func.array_agg(aggregate_order_by(by_key.c.k, by_key.c.n.desc(), by_key.c.k))[1].label(
                "k"
            ),
            # every key and disposition with its count ("overdue:demolish:3,…"): the map
            # sums what its layer toggles show
            func.string_agg(by_key.c.c, aggregate_order_by(literal(","), by_key.c.k)).label("c"),
        )
        .group_by(by_key.c.cx, by_key.c.cy)
        .subquery("cells")
    )
    return select(func.ST_AsMVT(cells.table_valued(), LAYER, EXTENT, "geom"))


def site_tile(
    session: Session,
    flt: SiteFilter,
    today: date,
    z: int,
    x: int,
    y: int,
    actor: Actor | None = None,
) -> bytes:
    """The tile's bytes (b'' when no site is in it)."""
    data = session.execute(tile_statement(flt, today, z, x, y, actor)).scalar()
    return bytes(data or b"")
