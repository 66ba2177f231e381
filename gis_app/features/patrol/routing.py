"""Patrol route order: a travelling-salesman tour over the stops, on foot or by bicycle.

Public interface (stable, used by the patrol pages):

- `plan_route(session, start, stops, end=None, *, use_roads=None, time_limit_s=None,
  speeds=None) -> Route`
- `Route` / `Leg` (frozen dataclasses). A leg's `from_index` / `to_index` are indices into
  `stops`, or `START` (-1) / `END` (-2) for the start and end points. With `end=None` the route
  goes back to the start, and its last leg ends at `START`.

Distances: geodesic on the WGS84 ellipsoid (`pyproj.Geod(ellps="WGS84")`, Karney's algorithm),
computed in Python so no round trip to the database is needed. When a road network has been
imported (`gis-app import-roads`, table `roads`) and `use_roads` is not False, the distances and
the legs' paths follow the roads instead: every point is snapped to the nearest road segment (the
snap distance is walked geodesically and added to the leg), and shortest paths come from
Dijkstra on the road graph (scipy.sparse.csgraph). See `roads_graph.py`.

Solver: fast-tsp (MIT licence; Or-opt + 2-opt local search with restarts, written in Rust). It
solves closed tours on a symmetric integer matrix; an open path start → end is solved as a closed
tour with a dummy node tied to start and end at cost 0 and to every stop at a cost larger than any
edge, which makes start–dummy–end part of every optimal tour. Why fast-tsp: README "Patrol routes".

Speeds: `plan_route(..., speeds=(walk_kmh, bike_kmh))`; without them `WALK_KMH` / `BIKE_KMH`
below (4.5 and 12 km/h). The patrol pages pass the configured ones (GIS_APP_PATROL_WALK_KMH /
GIS_APP_PATROL_BIKE_KMH, gis_app.settings).
"""

from __future__ import annotations

import itertools
import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from pyproj import Geod
from sqlalchemy.orm import Session

from gis_app.core.errors import ValidationError

if TYPE_CHECKING:
    from gis_app.features.patrol.roads_graph import RoadNetwork

START = -1
END = -2

WALK_KMH = 4.5
BIKE_KMH = 12.0

#: default solver budget: `default_time_limit(n)`, n / 400 s clamped to 0.2–1.0 s (fast-tsp
#: matches LKH-3's best tour at 200 and 1,000 stops within 0.25 s: docs/operations/performance.md)
DEFAULT_TIME_LIMIT_S = 1.0
MIN_TIME_LIMIT_S = 0.2


def default_time_limit(n_stops: int) -> float:
    """The solver's budget in seconds when the caller gives none."""
    return min(DEFAULT_TIME_LIMIT_S, max(MIN_TIME_LIMIT_S, n_stops / 400))


#: more stops than this are refused (a patrol route for one day)
MAX_STOPS = 5000

#: use_roads=None follows the roads only when half the points lie within this of a road
AUTO_MAX_SNAP_M = 500.0

_GEOD = Geod(ellps="WGS84")
#: fast-tsp wants integer distances in 0..65535 (the dummy node needs max + 1)
_INT_MAX = 60000


@dataclass(frozen=True)
class Leg:
    """One leg of the route; `path` is the polyline followed, as (lon, lat) vertices."""

    from_index: int
    to_index: int
    metres: float
    path: list[tuple[float, float]]


@dataclass(frozen=True)
class Route:
    """A planned route: visiting order, legs, length and estimated times."""

    order: list[int]
    legs: list[Leg]
    total_m: float
    walk_minutes: float
    bike_minutes: float
    network: str  # "geodesic" or "roads"
    solver: str
    seconds: float
    snapped_m: float = field(default=0.0)  # on roads: metres walked from the points to the roads

    def geometry(self) -> list[tuple[float, float]]:
        """The whole route as one polyline (lon, lat), consecutive duplicates removed."""
        line: list[tuple[float, float]] = []
        for leg in self.legs:
            for vertex in leg.path:
                if not line or line[-1] != vertex:
                    line.append(vertex)
        return line


# ---------------------------------------------------------------- validation


def _point(value: object, field_name: str, label: str) -> tuple[float, float]:
    if isinstance(value, str | bytes | dict):
        raise ValidationError(f"{label}必须是（经度, 纬度）两个数", field_name)
    try:
        pair = list(value)  # type: ignore[call-overload]
    except TypeError:
        raise ValidationError(f"{label}必须是（经度, 纬度）两个数", field_name) from None
    if len(pair) != 2:
        raise ValidationError(f"{label}必须是（经度, 纬度）两个数", field_name)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Real | Decimal):
            raise ValidationError(f"{label}的经纬度必须是数字", field_name)
        if not math.isfinite(float(v)):
            raise ValidationError(f"{label}的经纬度必须是有限的数字", field_name)
    lon, lat = float(pair[0]), float(pair[1])
    if not -180 <= lon <= 180:
        raise ValidationError(f"{label}的经度超出范围（-180～180）：{lon}", field_name)
    if not -90 <= lat <= 90:
        raise ValidationError(f"{label}的纬度超出范围（-90～90）：{lat}", field_name)
    return lon, lat


def validate_points(
    start: object, stops: object, end: object
) -> tuple[tuple[float, float], list[tuple[float, float]], tuple[float, float] | None]:
    """Checked (lon, lat) tuples; errors name the field (`start`, `stops[3]`, `end`).

    A point is any pair of real numbers (tuple, list, numpy row, database row)."""
    s = _point(start, "start", "起点")
    if isinstance(stops, str | bytes | dict):
        raise ValidationError("途经点必须是点的列表", "stops")
    try:
        items = list(stops)  # type: ignore[call-overload]
    except TypeError:
        raise ValidationError("途经点必须是点的列表", "stops") from None
    if len(items) > MAX_STOPS:
        raise ValidationError(f"途经点过多：{len(items)} 个，最多 {MAX_STOPS} 个", "stops")
    pts = [_point(p, f"stops[{i}]", f"第 {i + 1} 个途经点") for i, p in enumerate(items)]
    e = None if end is None else _point(end, "end", "终点")
    return s, pts, e


# ---------------------------------------------------------------- distances


def geodesic_matrix(points: np.ndarray) -> np.ndarray:
    """Symmetric matrix of geodesic distances (metres, WGS84) between (lon, lat) rows."""
    n = len(points)
    out = np.zeros((n, n))
    if n < 2:
        return out
    i, j = np.triu_indices(n, k=1)
    _, _, dist = _GEOD.inv(points[i, 0], points[i, 1], points[j, 0], points[j, 1])
    out[i, j] = dist
    out[j, i] = dist
    return out


# ---------------------------------------------------------------- solver


def solve_tour(
    dist: np.ndarray, *, open_end: int | None, time_limit_s: float
) -> tuple[list[int], str]:
    """A short tour over all nodes of `dist` starting at node 0.

    Closed (back to 0) when `open_end` is None; otherwise a path 0 → … → `open_end`.
    Returns the node order (starting with 0, ending with `open_end` when open) and a label.
    """
    n = len(dist)
    if open_end is None and n <= 3:
        return list(range(n)), "trivial"
    if open_end is not None and n <= 3:
        middle = [k for k in range(n) if k not in (0, open_end)]
        return [0, *middle, open_end], "trivial"

    import fast_tsp

    top = float(dist.max())
    scale = _INT_MAX / top if top > 0 else 1.0
    ints = np.rint(dist * scale).astype(np.int64)
    if open_end is not None:
        big = int(ints.max()) + 1
        m = n + 1
        full = np.full((m, m), big, dtype=np.int64)
        full[:n, :n] = ints
        full[n, n] = 0
        full[n, 0] = full[0, n] = 0
        full[n, open_end] = full[open_end, n] = 0
        ints = full
    tour = fast_tsp.find_tour(
        ints, duration_seconds=max(0.01, time_limit_s), stop_when_converged=True
    )
    k = tour.index(0)
    tour = tour[k:] + tour[:k]
    label = f"fast-tsp {getattr(fast_tsp, '__version__', '')}".strip()
    if open_end is None:
        return tour, label
    # the dummy (index n) sits next to 0 and open_end: cut the cycle there
    if tour[1] == n:  # 0, dummy, end, ... → walk the cycle the other way
        tour = [0, *reversed(tour[1:])]
    if tour[-1] != n or tour[-2] != open_end:
        raise RuntimeError("solver did not keep the start–end link")  # pragma: no cover
    return tour[:-1], label


# ---------------------------------------------------------------- planning


def plan_route(
    session: Session,
    start: tuple[float, float],
    stops: Sequence[tuple[float, float]],
    end: tuple[float, float] | None = None,
    *,
    use_roads: bool | None = None,
    time_limit_s: float | None = None,
    speeds: tuple[float, float] | None = None,
) -> Route:
    """Plan a short route from `start` through every stop, then to `end` (or back to start).

    `use_roads`: None = follow the imported road network when it covers the points (half of
    them within AUTO_MAX_SNAP_M of a road), else geodesic; True = require the roads
    (ValidationError if none are imported near the points); False = geodesic. `session` may
    be None (geodesic only). `time_limit_s` caps the solver (default `default_time_limit`);
    it stops earlier once the search has converged. `speeds`: walking and cycling speeds in
    km/h for the estimated times (default `WALK_KMH`, `BIKE_KMH`).
    """
    t0 = time.perf_counter()
    s, pts, e = validate_points(start, stops, end)
    limit = _time_limit(time_limit_s, len(pts))
    if use_roads and session is None:
        raise ValidationError("按道路规划需要数据库中的路网", "use_roads")
    walk_kmh, bike_kmh = speeds or (WALK_KMH, BIKE_KMH)
    if not pts:
        return Route([], [], 0.0, 0.0, 0.0, "geodesic", "none", time.perf_counter() - t0)

    # node 0 = start, 1..n = stops, n+1 = end (when open)
    nodes = [s, *pts] + ([e] if e is not None else [])
    open_end = len(pts) + 1 if e is not None else None
    xy = np.asarray(nodes, dtype=float)
    roads = _road_network(session, xy, use_roads)
    dist = roads.matrix() if roads is not None else geodesic_matrix(xy)

    order_nodes, solver = solve_tour(dist, open_end=open_end, time_limit_s=limit)
    if open_end is None:
        order_nodes = [*order_nodes, 0]
    legs = _legs(order_nodes, nodes, dist, roads, open_end)
    total = float(sum(leg.metres for leg in legs))
    return Route(
        order=[_stop_index(node, open_end) for node in order_nodes[1:-1]],
        legs=legs,
        total_m=total,
        walk_minutes=total / 1000 / walk_kmh * 60,
        bike_minutes=total / 1000 / bike_kmh * 60,
        network="roads" if roads is not None else "geodesic",
        solver=solver,
        seconds=time.perf_counter() - t0,
        snapped_m=roads.snapped_m if roads is not None else 0.0,
    )


def _time_limit(time_limit_s: object, n_stops: int) -> float:
    """The solver's budget: as given (0–600 s), else `default_time_limit`."""
    if time_limit_s is None:
        return default_time_limit(n_stops)
    if (
        isinstance(time_limit_s, bool)
        or not isinstance(time_limit_s, int | float)
        or not 0 < time_limit_s <= 600
    ):
        raise ValidationError("计算时限必须在 0～600 秒之间", "time_limit_s")
    return float(time_limit_s)


def _road_network(
    session: Session | None, xy: np.ndarray, use_roads: bool | None
) -> RoadNetwork | None:
    """The imported roads around the points, when the route follows them (see plan_route's
    `use_roads`); None for a geodesic route."""
    if use_roads is False or session is None:
        return None
    from gis_app.features.patrol.roads_graph import RoadNetwork

    roads = RoadNetwork.load(session, xy)
    if roads is not None and use_roads is None and roads.median_snap_m() > AUTO_MAX_SNAP_M:
        roads = None  # the imported roads do not cover these points: geodesic
    if roads is None and use_roads:
        raise ValidationError("尚未导入路网（gis-app import-roads），无法按道路规划", "use_roads")
    return roads


def _stop_index(node: int, open_end: int | None) -> int:
    """A node of the tour as a leg's index: START, END, or the stop's index."""
    if node == 0:
        return START
    if open_end is not None and node == open_end:
        return END
    return node - 1


def _legs(
    order_nodes: list[int],
    nodes: list[tuple[float, float]],
    dist: np.ndarray,
    roads: RoadNetwork | None,
    open_end: int | None,
) -> list[Leg]:
    """The legs of the tour, along the roads' paths or straight."""
    pairs = list(itertools.pairwise(order_nodes))
    paths = roads.paths(pairs) if roads is not None else None
    return [
        Leg(
            _stop_index(a, open_end),
            _stop_index(b, open_end),
            float(dist[a, b]),
            paths[k] if paths is not None else [nodes[a], nodes[b]],
        )
        for k, (a, b) in enumerate(pairs)
    ]
