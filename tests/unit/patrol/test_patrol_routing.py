"""Patrol route solver: optimal tours on small instances, open paths, edge cases, validation."""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal

import numpy as np
import pytest
from pyproj import Geod

from gis_app.core.errors import ValidationError
from gis_app.features.patrol.routing import END, START, plan_route

GEOD = Geod(ellps="WGS84")
CENTRE = (117.25, 39.12)


def dist(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def tour_length(points) -> float:
    return sum(dist(a, b) for a, b in itertools.pairwise(points))


def brute_force(start, stops, end=None) -> float:
    """Shortest route by trying every order (small instances only)."""
    back = start if end is None else end
    return min(
        tour_length([start, *(stops[i] for i in perm), back])
        for perm in itertools.permutations(range(len(stops)))
    )


def on_circle(k: int, n: int, r: float = 0.01) -> tuple[float, float]:
    angle = 2 * math.pi * k / n
    return CENTRE[0] + r * math.cos(angle) / math.cos(math.radians(CENTRE[1])), CENTRE[
        1
    ] + r * math.sin(angle)


def check_legs(route, n_stops: int, open_end: bool) -> None:
    assert sorted(route.order) == list(range(n_stops))
    chain = [START, *route.order, END if open_end else START]
    assert [(leg.from_index, leg.to_index) for leg in route.legs] == list(itertools.pairwise(chain))
    assert route.total_m == pytest.approx(sum(leg.metres for leg in route.legs))


def test_points_on_a_circle_are_visited_in_circle_order() -> None:
    n = 40
    start = on_circle(0, n)
    ring = [on_circle(k, n) for k in range(1, n)]
    shuffled = list(range(len(ring)))
    random.Random(7).shuffle(shuffled)
    stops = [ring[i] for i in shuffled]
    route = plan_route(None, start, stops, time_limit_s=0.3)
    check_legs(route, len(stops), open_end=False)
    visited = [shuffled[i] for i in route.order]  # positions on the ring
    assert visited in (list(range(n - 1)), list(range(n - 2, -1, -1)))
    assert route.total_m == pytest.approx(tour_length([start, *ring, start]), rel=1e-9)
    assert route.network == "geodesic" and route.solver.startswith("fast-tsp")


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("open_end", [False, True])
def test_small_random_instances_are_solved_optimally(seed: int, open_end: bool) -> None:
    rng = random.Random(seed)
    pts = [(CENTRE[0] + rng.uniform(-0.02, 0.02), CENTRE[1] + rng.uniform(-0.02, 0.02))
           for _ in range(10)]  # fmt: skip
    start, stops = pts[0], pts[1:8]
    end = pts[9] if open_end else None
    route = plan_route(None, start, stops, end)
    check_legs(route, len(stops), open_end)
    assert route.total_m == pytest.approx(brute_force(start, stops, end), rel=1e-6)
    visited = [start, *(stops[i] for i in route.order), end or start]
    assert route.total_m == pytest.approx(tour_length(visited), rel=1e-9)


def test_open_path_along_a_line_goes_straight_to_the_end() -> None:
    line = [(CENTRE[0] + 0.001 * k, CENTRE[1] + 0.0005 * k) for k in range(30)]
    start, end, stops = line[0], line[-1], line[1:-1]
    order = list(range(len(stops)))
    random.Random(3).shuffle(order)
    route = plan_route(None, start, [stops[i] for i in order], end, time_limit_s=0.3)
    check_legs(route, len(stops), open_end=True)
    assert [order[i] for i in route.order] == list(range(len(stops)))
    assert route.total_m == pytest.approx(tour_length(line), rel=1e-9)
    # closed (no end point): out along the line and back
    closed = plan_route(None, start, [stops[i] for i in order], time_limit_s=0.3)
    assert closed.total_m == pytest.approx(2 * tour_length(line[:-1]), rel=1e-6)


def test_zero_and_one_stop() -> None:
    empty = plan_route(None, CENTRE, [])
    assert empty.order == [] and empty.legs == [] and empty.total_m == 0
    assert empty.geometry() == []
    stop = (117.26, 39.13)
    one = plan_route(None, CENTRE, [stop])
    check_legs(one, 1, open_end=False)
    assert one.total_m == pytest.approx(2 * dist(CENTRE, stop))
    assert one.geometry() == [CENTRE, stop, CENTRE]
    end = (117.27, 39.12)
    one_open = plan_route(None, CENTRE, [stop], end)
    check_legs(one_open, 1, open_end=True)
    assert one_open.total_m == pytest.approx(dist(CENTRE, stop) + dist(stop, end))
    two_open = plan_route(None, CENTRE, [end, stop], end)  # a stop on the end point
    check_legs(two_open, 2, open_end=True)
    assert two_open.order == [1, 0]


def test_points_may_be_any_pair_of_numbers() -> None:
    stops = np.array([[117.26, 39.13], [117.24, 39.11]])
    start = [Decimal("117.25"), Decimal("39.12")]
    route = plan_route(None, start, stops, end=np.array(CENTRE, dtype=np.float32))
    check_legs(route, 2, open_end=True)
    closed = plan_route(None, CENTRE, [tuple(p) for p in stops])
    assert route.total_m == pytest.approx(closed.total_m, abs=1.0)


def test_times_follow_the_default_speeds() -> None:
    route = plan_route(None, CENTRE, [(117.26, 39.13), (117.24, 39.11)])
    assert route.walk_minutes == pytest.approx(route.total_m / 4500 * 60)
    assert route.bike_minutes == pytest.approx(route.total_m / 12000 * 60)
    line = route.geometry()
    assert line[0] == CENTRE and line[-1] == CENTRE and len(line) == 4


def test_speeds_are_given_by_the_caller() -> None:
    route = plan_route(None, CENTRE, [(117.26, 39.13)], speeds=(5.0, 15.0))
    assert route.walk_minutes == pytest.approx(route.total_m / 5000 * 60)
    assert route.bike_minutes == pytest.approx(route.total_m / 15000 * 60)


@pytest.mark.parametrize(
    ("start", "stops", "end", "kwargs", "field"),
    [
        ((200.0, 39.1), [], None, {}, "start"),
        ((117.2, 95.0), [], None, {}, "start"),
        ("117.2,39.1", [], None, {}, "start"),
        ((117.2, float("nan")), [], None, {}, "start"),
        (CENTRE, [(117.2, 39.1), (117.2,)], None, {}, "stops[1]"),
        (CENTRE, [(117.2, 39.1), (117.2, -91)], None, {}, "stops[1]"),
        (CENTRE, "nope", None, {}, "stops"),
        (CENTRE, 5, None, {}, "stops"),
        (CENTRE, [(117.2, 39.1), ("117.2", 39.1)], None, {}, "stops[1]"),
        (CENTRE, [(117.2, 39.1), (True, 39.1)], None, {}, "stops[1]"),
        (CENTRE, [], (181, 0), {}, "end"),
        (CENTRE, [], None, {"time_limit_s": 0}, "time_limit_s"),
        (CENTRE, [], None, {"time_limit_s": -1}, "time_limit_s"),
        (CENTRE, [], None, {"use_roads": True}, "use_roads"),
    ],
)
def test_bad_input_names_the_field(start, stops, end, kwargs, field) -> None:
    with pytest.raises(ValidationError) as err:
        plan_route(None, start, stops, end, **kwargs)
    assert err.value.field == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)  # a Chinese message
