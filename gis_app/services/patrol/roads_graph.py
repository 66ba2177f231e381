"""Shortest paths on the imported road network, between a route's points.

The lines of the `roads` table around the points are read once per route and turned into a
graph: every vertex is a node (vertices that coincide to 1e-7° are one node, so lines meet
where they share a vertex; lines that cross without one, e.g. a bridge over a road, do not),
every segment an edge weighted by its geodesic length on WGS84 (pyproj.Geod). Only the largest
connected part of the network is used, so that every pair of points is connected.

Each point (start, stops, end) is snapped to the nearest point of the nearest segment; that
point becomes a node of its own, linked along the segment to its neighbours. The snap distance
(point → road) is counted on foot, geodesically, at both ends of every leg. Distances between
points are Dijkstra's shortest paths (scipy.sparse.csgraph), computed in chunks of sources so
the memory stays small; the legs' paths are rebuilt from the predecessor trees afterwards.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import shapely
from pyproj import Geod
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from sqlalchemy import text
from sqlalchemy.orm import Session

_GEOD = Geod(ellps="WGS84")
#: vertices closer than this (degrees, ~1 cm) are one node
_GRID = 1e7
#: keep an edge of zero length an edge (scipy drops explicit zeros of a sparse matrix)
_EPS_M = 1e-6
#: roads are read within the points' bounding box grown by this share (at least MIN_MARGIN_M)
MARGIN_SHARE = 0.25
MIN_MARGIN_M = 1000.0
#: cells of one Dijkstra chunk (sources × nodes)
_CHUNK_CELLS = 4_000_000


def _lengths(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0)
    return np.asarray(_GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2], dtype=float)


def read_lines(session: Session, points: np.ndarray) -> list[shapely.LineString]:
    """The road lines around `points` (lon, lat rows), as shapely LineStrings."""
    lon0, lat0 = points.min(axis=0)
    lon1, lat1 = points.max(axis=0)
    mid_lat = float(np.clip((lat0 + lat1) / 2, -89.0, 89.0))
    span_m = max((lat1 - lat0) * 111_000, (lon1 - lon0) * 111_000 * np.cos(np.radians(mid_lat)))
    margin_m = max(MIN_MARGIN_M, MARGIN_SHARE * span_m)
    dlat = margin_m / 111_000
    dlon = margin_m / (111_000 * max(0.01, np.cos(np.radians(mid_lat))))
    rows = session.execute(
        text(
            "SELECT ST_AsBinary(geom) FROM roads "
            "WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
        ),
        {
            "x0": float(lon0 - dlon),
            "y0": float(lat0 - dlat),
            "x1": float(lon1 + dlon),
            "y1": float(lat1 + dlat),
        },
    ).scalars()
    return list(shapely.from_wkb([bytes(r) for r in rows]))


class RoadNetwork:
    """The road graph around a route's points, with the points snapped onto it."""

    def __init__(self, lines: list[shapely.LineString], points: np.ndarray) -> None:
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        same = owner[:-1] == owner[1:]
        keys = np.rint(coords * _GRID).astype(np.int64)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        node_xy = uniq.astype(float) / _GRID
        u = inverse[:-1][same]
        v = inverse[1:][same]
        keep = u != v
        u, v = u[keep], v[keep]
        n_nodes = len(node_xy)

        # the largest connected part only
        graph = csr_matrix((np.ones(len(u)), (u, v)), shape=(n_nodes, n_nodes))
        _, labels = connected_components(graph, directed=False)
        main = np.bincount(labels[u]).argmax() if len(u) else 0
        in_main = labels[u] == main
        u, v = u[in_main], v[in_main]
        if len(u) == 0:
            raise ValueError("no road segment")
        seg_a, seg_b = node_xy[u], node_xy[v]
        seg_len = _lengths(seg_a, seg_b)

        # snap every point to the nearest segment (in a local metric plane)
        lat0 = float(np.radians(points[:, 1].mean()))
        kx, ky = 111_320.0 * np.cos(lat0), 110_540.0

        def plane(xy: np.ndarray) -> np.ndarray:
            return np.column_stack((xy[:, 0] * kx, xy[:, 1] * ky))

        pa, pb, pp = plane(seg_a), plane(seg_b), plane(points)
        tree = shapely.STRtree(shapely.linestrings(np.stack((pa, pb), axis=1)))
        hits = tree.query_nearest(shapely.points(pp), all_matches=False)
        seg_of = np.empty(len(points), dtype=np.int64)
        seg_of[hits[0]] = hits[1]
        d = pb[seg_of] - pa[seg_of]
        dd = (d * d).sum(axis=1)
        t = np.where(dd > 0, ((pp - pa[seg_of]) * d).sum(axis=1) / np.where(dd > 0, dd, 1), 0.0)
        t = np.clip(t, 0.0, 1.0)
        snap_xy = seg_a[seg_of] + t[:, None] * (seg_b[seg_of] - seg_a[seg_of])
        self.snap_m = _lengths(points, snap_xy)

        # snapped points are nodes n_nodes + k, chained along their segment by t
        k_all = np.arange(len(points))
        order = np.lexsort((t, seg_of))
        extra_u: list[np.ndarray] = []
        extra_v: list[np.ndarray] = []
        s_sorted, k_sorted = seg_of[order], k_all[order]
        first = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
        last = np.r_[s_sorted[1:] != s_sorted[:-1], True]
        snap_node = n_nodes + k_sorted
        extra_u.append(u[s_sorted[first]])  # segment start → first snap on it
        extra_v.append(snap_node[first])
        extra_u.append(snap_node[last])  # last snap → segment end
        extra_v.append(v[s_sorted[last]])
        chain = ~last  # snap i → snap i+1 on the same segment
        extra_u.append(snap_node[:-1][chain[:-1]])
        extra_v.append(snap_node[1:][chain[:-1]])
        eu = np.concatenate(extra_u)
        ev = np.concatenate(extra_v)

        self.node_xy = np.vstack((node_xy, snap_xy))
        all_u = np.concatenate((u, eu))
        all_v = np.concatenate((v, ev))
        weights = np.concatenate((seg_len, _lengths(self.node_xy[eu], self.node_xy[ev]))) + _EPS_M
        # one edge per node pair, the shortest (a CSR matrix would add duplicates up)
        lo, hi = np.minimum(all_u, all_v), np.maximum(all_u, all_v)
        by = np.lexsort((weights, hi, lo))
        lo, hi, weights = lo[by], hi[by], weights[by]
        head = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
        total = len(self.node_xy)
        self.graph = csr_matrix((weights[head], (lo[head], hi[head])), shape=(total, total))
        self.points = points
        self.terminal = n_nodes + k_all
        self.snapped_m = float(self.snap_m.sum())
        self._matrix: np.ndarray | None = None

    @classmethod
    def load(cls, session: Session, points: np.ndarray) -> Self | None:
        """The road graph around `points`, or None when no roads are imported there."""
        lines = read_lines(session, points)
        if not lines:
            return None
        try:
            return cls(lines, points)
        except ValueError:
            return None

    def median_snap_m(self) -> float:
        """Median distance from the points to the network (metres)."""
        return float(np.median(self.snap_m))

    def _chunk(self) -> int:
        return max(1, _CHUNK_CELLS // self.graph.shape[0])

    def matrix(self) -> np.ndarray:
        """Metres between every two points along the roads (snap distances included)."""
        if self._matrix is not None:
            return self._matrix
        n = len(self.points)
        out = np.empty((n, n))
        step = self._chunk()
        for lo in range(0, n, step):
            src = self.terminal[lo : lo + step]
            dist = dijkstra(self.graph, directed=False, indices=src)
            out[lo : lo + step] = dist[:, self.terminal]
        out = out + self.snap_m[:, None] + self.snap_m[None, :]
        out = np.minimum(out, out.T)  # exact symmetry for the solver
        np.fill_diagonal(out, 0.0)
        self._matrix = out
        return out

    def paths(self, pairs: list[tuple[int, int]]) -> list[list[tuple[float, float]]]:
        """The polyline (lon, lat) of each (from point, to point) pair, along the roads."""
        result: list[list[tuple[float, float]]] = [[] for _ in pairs]
        sources = sorted({a for a, _ in pairs})
        wanted: dict[int, list[int]] = {}
        for i, (a, _) in enumerate(pairs):
            wanted.setdefault(a, []).append(i)
        step = self._chunk()
        for lo in range(0, len(sources), step):
            chunk = sources[lo : lo + step]
            _, pred = dijkstra(
                self.graph,
                directed=False,
                indices=self.terminal[chunk],
                return_predecessors=True,
            )
            for row, a in enumerate(chunk):
                for i in wanted[a]:
                    b = pairs[i][1]
                    nodes = [int(self.terminal[b])]
                    stop = int(self.terminal[a])
                    while nodes[-1] != stop and nodes[-1] >= 0:
                        nodes.append(int(pred[row, nodes[-1]]))
                    nodes = [k for k in reversed(nodes) if k >= 0]
                    line = [tuple(self.points[a])]
                    line += [tuple(self.node_xy[k]) for k in nodes]
                    line.append(tuple(self.points[b]))
                    result[i] = [(float(x), float(y)) for x, y in line]
        return result
