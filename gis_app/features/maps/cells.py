"""Grid tiles and map counts from `site_cells` (migration 0150): a city of a million sites
below the point zoom.

A grid tile (tiles._grid_tile) counts every site under it: some hundred thousand for a
zoom-11 tile of the city centre, all of them for the city's zoom-8 view. `site_cells` holds
those counts per square of the zoom-16 and zoom-14 grids (the cells of zoom-12 to 14 and of
zoom-10 tiles), per street, status, disposition and overdue or not; a tile then sums a few
thousand rows.

Correct, or not used:

* the rows of a zoom-14 square (the squares of `tile_versions`) are counted for one day and
  overdue rule (the stamp) at one version of the square; a square whose version or stamp
  has moved is counted again from `sites` before the tile is built, by a transaction that sees
  every site (the district roles, open data, a command), under an advisory lock. Any other
  reader (a street role) reads the rows of its own street when every square of the tile is
  fresh, and counts the sites otherwise;
* only filters on what the rows keep are answered from them (districts, streets, statuses,
  dispositions, overdue); any other filter (kind, source, flags, deadlines, bbox, text, …)
  and the bureaus' scopes (their flags) count the sites, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    CTE,
    Boolean,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    SmallInteger,
    String,
    Table,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gis_app.core import codes, deadlines
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import OPEN_DATA_ROLES, require_visible_filters
from gis_app.features.ledger.queries import SiteFilter, in_squares, overdue_expr
from gis_app.features.maps import tiles
from gis_app.features.streets.models import Street
from layers import palette

SQUARE_ZOOM = 14  # the squares of tile_versions; a row belongs to the square it lies in
FINE, COARSE = 16, 14  # the two grids kept: the cells of zoom-12 to 14 and zoom-10 tiles
#: the filter fields the rows can answer (export field names, SiteFilter.filtered_fields)
ANSWERED = frozenset({"district_code", "street_code", "status", "disposition", "overdue"})
PROBE_SQUARES = 64  # up to this many squares counted at once, overdue is probed per site
LOCK_KEY = 2026_1206_0150  # pg_advisory_xact_lock: one counter of squares at a time

_meta = MetaData()
site_cells = Table(
    "site_cells",
    _meta,
    Column("sx", Integer, nullable=False),
    Column("sy", Integer, nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("cx", Integer, nullable=False),
    Column("cy", Integer, nullable=False),
    Column("street_id", Integer, nullable=False),
    Column("district_code", String(12), nullable=False),
    Column("status", String(24), nullable=False),
    Column("disposition", String(16), nullable=False),
    Column("overdue", Boolean, nullable=False),
    Column("n", Integer, nullable=False),
)


def _cell_sql(axis: str, zoom: int) -> str:
    """A site's square at `zoom`, by the formula of tile_versions (migration 0080) so that a
    site's zoom-14 square is the one its changes bump (x16 >> 2 is x14 exactly: the scale
    is a power of two)."""
    n = 2**zoom
    if axis == "x":
        inner = f"(ST_X(sites.geom) + 180.0) / 360.0 * {n}"
    else:
        inner = (
            "(1.0 - asinh(tan(radians(greatest(-85.0511, least(85.0511, ST_Y(sites.geom))))))"
            f" / pi()) / 2.0 * {n}"
        )
    return f"least({n - 1}, greatest(0, floor({inner})))::int"


_STALE_SQL = text(
    """
    SELECT coalesce(v.x, s.x), coalesce(v.y, s.y), v.version
    FROM (SELECT x, y, sum(version) AS version FROM tile_versions
          WHERE x BETWEEN :x0 AND :x1 AND y BETWEEN :y0 AND :y1 GROUP BY x, y) v
    FULL JOIN (SELECT x, y, version, stamp FROM site_cell_squares
               WHERE x BETWEEN :x0 AND :x1 AND y BETWEEN :y0 AND :y1) s
      ON s.x = v.x AND s.y = v.y
    WHERE v.x IS NULL OR s.x IS NULL OR s.version <> v.version OR s.stamp <> :stamp
    """
)


def stamp(today: date) -> str:
    """What the rows' overdue column depends on besides the sites: the day and the rule."""
    return f"{today.isoformat()}|reg{deadlines.RULES.registration_days}"


def access(flt: SiteFilter, actor: Actor | None) -> str | None:
    """'count' (may count stale squares again), 'read' (fresh rows of its street only) or
    None (this filter or actor is answered by counting the sites)."""
    if not flt.filtered_fields() <= ANSWERED:
        return None
    if actor is None or actor.is_district or actor.role in OPEN_DATA_ROLES:
        return "count"
    if actor.role in STREET_ROLES and actor.street_code:
        return "read"
    return None


def squares_under(z: int, x: int, y: int) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1): the zoom-14 squares under tile z/x/y (z <= 14), bounds included."""
    k = SQUARE_ZOOM - z
    return x << k, ((x + 1) << k) - 1, y << k, ((y + 1) << k) - 1


WORLD = (0, 2**SQUARE_ZOOM - 1, 0, 2**SQUARE_ZOOM - 1)


def stale(
    session: Session, squares: tuple[int, int, int, int], today: date
) -> list[tuple[int, int, int | None]]:
    """The squares of the range whose rows are missing, out of date or left over: (x, y,
    their version now; None when no site was ever there)."""
    x0, x1, y0, y1 = squares
    params = {"x0": x0, "x1": x1, "y0": y0, "y1": y1, "stamp": stamp(today)}
    return [(int(a), int(b), v) for a, b, v in session.execute(_STALE_SQL, params)]


def ensure_fresh(
    session: Session, squares: tuple[int, int, int, int], today: date, may_count: bool
) -> bool:
    """True when the rows of every square of the range are fresh (counted again here if
    needed and allowed)."""
    if not stale(session, squares, today):
        return True
    if not may_count:
        return False
    lock(session)
    # again under the lock: another transaction may have counted them meanwhile
    todo = stale(session, squares, today)
    if todo:
        count_squares(session, todo, today)
    return True


def lock(session: Session) -> None:
    """One counter of squares at a time (until the transaction ends)."""
    session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))


def count_squares(
    session: Session, squares: Sequence[tuple[int, int, int | None]], today: date
) -> None:
    """Count the sites of these squares again (their rows replaced) and record the version
    each was read at (read before counting: a change committed meanwhile leaves the square
    stale, never fresh with old counts)."""
    c = site_cells.c
    every = _square_set([(x, y) for x, y, _ in squares], "every")
    session.execute(
        site_cells.delete().where(
            select(every.c.x).where(every.c.x == c.sx, every.c.y == c.sy).exists()
        )
    )
    # a square no site ever was in (no version) keeps no row
    counted = [(x, y) for x, y, v in squares if v is not None]
    if counted:
        _count(session, counted, today)
    _record(session, squares, today)


def _square_set(pairs: Sequence[tuple[int, int]], name: str) -> CTE:
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    return select(
        func.unnest(literal(xs, type_=ARRAY(Integer))).label("x"),
        func.unnest(literal(ys, type_=ARRAY(Integer))).label("y"),
    ).cte(name)


def _count(session: Session, squares: Sequence[tuple[int, int]], today: date) -> None:
    """The rows of both grids for these squares, from their sites."""
    c = site_cells.c
    sq = _square_set(squares, "sq")
    xs, ys = [x for x, _ in squares], [y for _, y in squares]
    fine_x, fine_y = literal_column(_cell_sql("x", FINE)), literal_column(_cell_sql("y", FINE))
    west, south, east, north = _bounds(xs, ys)
    points = (
        select(
            literal_column("sites.map_x").label("sx"),
            literal_column("sites.map_y").label("sy"),
            fine_x.label("cx"),
            fine_y.label("cy"),
            Site.street_id,
            Site.district_code,
            Site.status,
            Site.disposition,
            # a few squares: each site's steps probed; many: the late steps hashed once
            overdue_expr(today, per_site=len(squares) <= PROBE_SQUARES).label("overdue"),
        )
        .where(
            Site.deleted_at.is_(None),
            # the squares' integer columns (an index under row-level security), then the box
            *in_squares(west, south, east, north),
            Site.geom.op("&&")(func.ST_MakeEnvelope(west, south, east, north, 4326)),
        )
        .subquery("p")
    )
    keys = [points.c.street_id, points.c.district_code, points.c.status]
    keys += [points.c.disposition, points.c.overdue]
    fine = (
        select(
            points.c.sx, points.c.sy, literal(FINE), points.c.cx, points.c.cy, *keys, func.count()
        )
        .where(select(sq.c.x).where(sq.c.x == points.c.sx, sq.c.y == points.c.sy).exists())
        .group_by(points.c.sx, points.c.sy, points.c.cx, points.c.cy, *keys)
    )
    columns = [col.name for col in site_cells.columns]
    session.execute(site_cells.insert().from_select(columns, fine))
    kept = [c.street_id, c.district_code, c.status, c.disposition, c.overdue]
    coarse = (
        select(
            c.sx, c.sy, literal(COARSE), c.sx.label("cx"), c.sy.label("cy"), *kept, func.sum(c.n)
        )
        .where(c.level == FINE, select(sq.c.x).where(sq.c.x == c.sx, sq.c.y == c.sy).exists())
        .group_by(c.sx, c.sy, *kept)
    )
    session.execute(site_cells.insert().from_select(columns, coarse))


def _record(session: Session, squares: Sequence[tuple[int, int, int | None]], today: date) -> None:
    """The version and stamp each square was counted at (a square without version: gone)."""
    stamp_now = stamp(today)
    gone = [(x, y) for x, y, v in squares if v is None]
    if gone:
        session.execute(
            text("DELETE FROM site_cell_squares WHERE (x, y) IN (SELECT * FROM unnest(:xs, :ys))"),
            {"xs": [x for x, _ in gone], "ys": [y for _, y in gone]},
        )
    rows = [{"x": x, "y": y, "v": v, "s": stamp_now} for x, y, v in squares if v is not None]
    if rows:
        session.execute(
            text(
                "INSERT INTO site_cell_squares (x, y, version, stamp) VALUES (:x, :y, :v, :s)"
                " ON CONFLICT (x, y) DO UPDATE SET version = EXCLUDED.version,"
                " stamp = EXCLUDED.stamp"
            ),
            rows,
        )


def _bounds(xs: list[int], ys: list[int]) -> tuple[float, float, float, float]:
    """The squares' bounding box in degrees, a little wider (the squares decide, not it)."""
    west, _, _, north = tiles.tile_bounds(SQUARE_ZOOM, min(xs), min(ys))
    _, south, east, _ = tiles.tile_bounds(SQUARE_ZOOM, max(xs), max(ys))
    margin = 1e-6
    return west - margin, south - margin, east + margin, north + margin


def _conditions(flt: SiteFilter, actor: Actor | None) -> list[ColumnElement[bool]]:
    """The filter (and the street role's scope) on site_cells' columns."""
    c = site_cells.c
    conds: list[ColumnElement[bool]] = []
    if flt.districts:
        conds.append(c.district_code.in_(flt.districts))
    if flt.streets:
        conds.append(c.street_id.in_(select(Street.id).where(Street.code.in_(flt.streets))))
    if flt.statuses:
        conds.append(c.status.in_(flt.statuses))
    if flt.dispositions:
        conds.append(c.disposition.in_(flt.dispositions))
    if flt.overdue is not None:
        conds.append(c.overdue.is_(flt.overdue))
    if actor is not None and actor.role in STREET_ROLES:
        own = select(Street.id).where(Street.code == actor.street_code).scalar_subquery()
        conds.append(c.street_id == own)
    return conds


def _legend_key() -> ColumnElement[str]:
    """The key a row is drawn with, as tiles._legend_key_expr: overdue wins."""
    c = site_cells.c
    statuses = [k for k in palette.legend_keys() if k in codes.STATUSES]
    return case(
        (c.overdue, literal("overdue")),
        *((c.status == status, literal(status)) for status in statuses),
        else_=literal("registered"),
    )


def grid_statement(
    flt: SiteFilter, z: int, x: int, y: int, actor: Actor | None
) -> tuple[Select, dict[str, int]]:
    """The grid tile z/x/y (z below the point zoom) from the rows: the same cells, counts and
    properties as tiles._grid_tile counts from the sites. The statement depends on the zoom,
    the filter and the actor's scope only (the tile's place is in the parameters): it is built
    once for each of them (building it took a fifth of a tile request's time)."""
    tiles.check_tile(z, x, y)
    across = tiles.cells_across(z)  # a cell of a zoom-z tile is a square of zoom z + log2(across)
    cell_zoom = z + across.bit_length() - 1
    shift = (FINE if cell_zoom > COARSE else COARSE) - cell_zoom  # 0 from zoom 12 to 14, …
    span = across << shift
    scope = None if actor is None else (actor.role, actor.street_code)
    key = (z, flt.model_dump_json(), scope)
    statement = _GRID_SELECTS.get(key)
    if statement is None:
        if len(_GRID_SELECTS) >= 256:  # filters are few; a bound all the same
            _GRID_SELECTS.clear()
        statement = _GRID_SELECTS[key] = _grid_select(z, flt, actor)
    first_x, first_y = (x * across) << shift, (y * across) << shift
    params = {
        "ox": x * across,
        "oy": y * across,
        "x0": first_x,
        "x1": first_x + span - 1,
        "y0": first_y,
        "y1": first_y + span - 1,
    }
    return statement, params


#: grid_statement's statements by zoom, filter (as JSON) and scope (role, street)
_GRID_SELECTS: dict[tuple[int, str, tuple[str, str | None] | None], Select] = {}


def _grid_select(z: int, flt: SiteFilter, actor: Actor | None) -> Select:
    """grid_statement's statement for a zoom, filter and actor's scope."""
    across = tiles.cells_across(z)
    cell_zoom = z + across.bit_length() - 1
    level = FINE if cell_zoom > COARSE else COARSE
    shift = level - cell_zoom
    c = site_cells.c
    points = (
        select(
            (c.cx.op(">>")(shift) - bindparam("ox", type_=Integer)).label("cx"),
            (c.cy.op(">>")(shift) - bindparam("oy", type_=Integer)).label("cy"),
            _legend_key().label("k"),
            c.disposition.label("d"),
            c.n,
        )
        .where(
            c.level == level,
            c.cx.between(bindparam("x0", type_=Integer), bindparam("x1", type_=Integer)),
            c.cy.between(bindparam("y0", type_=Integer), bindparam("y1", type_=Integer)),
            *_conditions(flt, actor),
        )
        .subquery("p")
    )
    return tiles.cells_tile(points, func.sum(points.c.n), tiles.cell_size(z))


def site_tile(
    session: Session,
    flt: SiteFilter,
    today: date,
    z: int,
    x: int,
    y: int,
    actor: Actor | None = None,
) -> bytes:
    """The tile's bytes: below the point zoom from the rows when they can answer, otherwise
    (and from the point zoom) from the sites (tiles.site_tile)."""
    tiles.check_tile(z, x, y)
    mode = access(flt, actor) if z < tiles.POINT_ZOOM else None
    if mode is not None:
        require_visible_filters(actor, flt.filtered_fields())
        if ensure_fresh(session, squares_under(z, x, y), today, mode == "count"):
            statement, params = grid_statement(flt, z, x, y, actor)
            data = session.execute(statement, params).scalar()
            return bytes(data or b"")
    return tiles.site_tile(session, flt, today, z, x, y, actor)


@dataclass(frozen=True)
class PageCounts:
    """What a map page takes from the rows: the filter's sites per street code as (legend
    key, disposition, count), and the zoom-14 squares holding any, flat ([x0, y0, x1, …])."""

    by_street: dict[str, list[tuple[str, str, int]]]
    squares: list[int]


def page_counts(
    session: Session, flt: SiteFilter, today: date, actor: Actor | None = None
) -> PageCounts | None:
    """The filter's counts per street and its occupied squares in one pass over the rows, or
    None when they cannot answer. The map's lowest zooms draw the streets (one circle each, no
    tile asked), its side panel sums them (`totals`), and it asks no tile over a square
    without sites (a city's countryside: most tiles of its bounding box are empty)."""
    mode = access(flt, actor)
    if mode is None:
        return None
    require_visible_filters(actor, flt.filtered_fields())
    if not ensure_fresh(session, WORLD, today, mode == "count"):
        return None
    c = site_cells.c
    key = _legend_key()
    by_street = (Street.code, key, c.disposition)
    rows = session.execute(
        select(*by_street, c.sx, c.sy, func.sum(c.n), func.grouping(c.sx, c.sy))
        .join(Street, Street.id == c.street_id)
        .where(c.level == COARSE, *_conditions(flt, actor))
        # both groupings in one scan: grouping(sx, sy) is 3 on the streets' rows, 0 on squares'
        .group_by(func.grouping_sets(tuple_(*by_street), tuple_(c.sx, c.sy)))
        .order_by(Street.code, key, c.disposition, c.sx, c.sy)
    ).all()
    streets: dict[str, list[tuple[str, str, int]]] = {}
    squares: list[int] = []
    for code, k, d, sx, sy, n, grouping in rows:
        if grouping:
            streets.setdefault(code, []).append((k, d, int(n)))
        else:
            squares += (sx, sy)
    return PageCounts(streets, squares)


def by_street(
    session: Session, flt: SiteFilter, today: date, actor: Actor | None = None
) -> dict[str, list[tuple[str, str, int]]] | None:
    """page_counts' counts per street (None when the rows cannot answer)."""
    found = page_counts(session, flt, today, actor)
    return None if found is None else found.by_street


def totals(streets: dict[str, list[tuple[str, str, int]]]) -> dict[str, int]:
    """The counts by legend key (plus "total") of `by_street`'s answer."""
    result = dict.fromkeys(palette.legend_keys(), 0)
    for parts in streets.values():
        for k, _d, n in parts:
            result[k] = result.get(k, 0) + n
    result["total"] = sum(result.values())
    return result


def counts(
    session: Session, flt: SiteFilter, today: date, actor: Actor | None = None
) -> dict[str, int] | None:
    """The counts by legend key (plus "total") of the filter from the rows, or None when they
    cannot answer (then count the sites: service.site_counts)."""
    streets = by_street(session, flt, today, actor)
    return None if streets is None else totals(streets)
