"""Road graph without the database: shape vertices, detours, dead ends, snapping."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from pyproj import Geod

from gis_app.features.patrol.roads_graph import RoadNetwork

GEOD = Geod(ellps="WGS84")
X0, Y0, U = 117.25, 39.12, 0.001  # one unit ≈ 86 m east, 111 m north


def pt(x: float, y: float) -> tuple[float, float]:
    return X0 + x * U, Y0 + y * U


def line(*xy: tuple[float, float], step: float = 0.1) -> shapely.LineString:
    """A street through these unit coordinates with a shape vertex every `step` units."""
    coords = [pt(*xy[0])]
    for (xa, ya), (xb, yb) in itertools.pairwise(xy):
        k = max(1, round(max(abs(xb - xa), abs(yb - ya)) / step))
        coords += [pt(xa + (xb - xa) * i / k, ya + (yb - ya) * i / k) for i in range(1, k + 1)]
    return shapely.LineString(coords)


def walk(*xy: tuple[float, float]) -> float:
    pts = [pt(*p) if len(p) == 2 and abs(p[0]) < 50 else p for p in xy]
    return sum(GEOD.inv(a[0], a[1], b[0], b[1])[2] for a, b in itertools.pairwise(pts))


def net_lines() -> list[shapely.LineString]:
    return [
        line((0, 0), (10, 0)),  # main street A–B, shape vertices every 0.1
        line((0, 0), (0, 5), (10, 5), (10, 0)),  # a detour north, also A–B
        line((5, 0), (5, -3)),  # a dead end south from the middle of the main street
        line((30, 30), (31, 30)),  # a piece of road not connected to the rest: ignored
    ]


@pytest.fixture()
def network():
    lines = net_lines()
    points = np.array(
        [pt(3, -0.2), pt(8, -0.2), pt(5, 5.5), pt(5.1, -2.9), pt(30.5, 30)], dtype=float
    )
    return RoadNetwork(lines, points), points


def test_distances_follow_the_shortest_streets(network) -> None:
    net, _ = network
    d = net.matrix()
    snap_m = [walk((3, -0.2), (3, 0)), walk((8, -0.2), (8, 0)), walk((5, 5.5), (5, 5)),
              walk((5.1, -2.9), (5, -2.9))]  # fmt: skip
    assert net.snap_m[:4] == pytest.approx(snap_m, rel=1e-6)
    # along the main street
    assert d[0, 1] == pytest.approx(snap_m[0] + walk((3, 0), (8, 0)) + snap_m[1], rel=1e-6)
    # to the detour's top: back west to A, north, east (shorter than via B)
    via_a = walk((3, 0), (0, 0), (0, 5), (5, 5))
    via_b = walk((3, 0), (10, 0), (10, 5), (5, 5))
    assert via_a < via_b
    assert d[0, 2] == pytest.approx(snap_m[0] + via_a + snap_m[2], rel=1e-6)
    # into the dead end
    assert d[1, 3] == pytest.approx(
        snap_m[1] + walk((8, 0), (5, 0), (5, -2.9)) + snap_m[3], rel=1e-6
    )
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    # the unconnected piece is not part of the graph: its point walks to the main network
    assert net.snap_m[4] > 1000


def test_paths_keep_the_shape_vertices(network) -> None:
    net, points = network
    net.matrix()
    (path,) = net.paths([(0, 2)])
    assert path[0] == tuple(points[0]) and path[-1] == tuple(points[2])
    # west along the main street, north up the detour, east along its top: every shape
    # vertex on the way, in order
    xs = [round((x - X0) / U, 6) for x, _ in path[1:-1]]
    ys = [round((y - Y0) / U, 6) for _, y in path[1:-1]]
    corner_a, corner_top = path.index(pt(0, 0)), path.index(pt(0, 5))
    assert corner_a < corner_top
    assert len(path) - 2 == 30 + 50 + 50 + 1  # 3→0, 0→5, 0→5 east, plus the first vertex
    assert xs[0] == pytest.approx(3) and ys[0] == pytest.approx(0)
    assert xs[-1] == pytest.approx(5) and ys[-1] == pytest.approx(5)
    lengths = walk(*path)
    assert lengths == pytest.approx(net.matrix()[0, 2], rel=1e-6)
    # and the other way round: the same vertices reversed
    (back,) = net.paths([(2, 0)])
    assert back == path[::-1]


def test_two_points_on_one_segment_are_linked_directly() -> None:
    lines = [line((0, 0), (10, 0), step=10)]  # one segment, no shape vertex
    points = np.array([pt(2, 0.1), pt(4, -0.1), pt(9, 0)])
    net = RoadNetwork(lines, points)
    d = net.matrix()
    assert d[0, 1] == pytest.approx(
        walk((2, 0.1), (2, 0)) + walk((2, 0), (4, 0)) + walk((4, 0), (4, -0.1)), rel=1e-6
    )
    (path,) = net.paths([(0, 1)])
    assert len(path) == 4  # the two points and their snapped positions


def test_paths_are_the_same_when_the_trees_are_not_kept(network, monkeypatch) -> None:
    from gis_app.features.patrol import roads_graph

    net, points = network
    net.matrix()
    kept = net.paths([(0, 2), (2, 3), (3, 1), (1, 0)])
    monkeypatch.setattr(roads_graph, "_PRED_BYTES", 0)
    again = RoadNetwork(net_lines(), points)
    assert again.matrix() == pytest.approx(net.matrix())
    assert again._pred is None
    assert again.paths([(0, 2), (2, 3), (3, 1), (1, 0)]) == kept
