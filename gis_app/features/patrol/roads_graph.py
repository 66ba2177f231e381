"""Shortest paths on the imported road network, between a route's points.

The lines of the `roads` table around the points are read once per route and turned into a
graph: every vertex is a node (vertices that coincide to 1e-7° are one node, so lines meet
where they share a vertex; lines that cross without one, e.g. a bridge over a road, do not),
every segment an edge weighted by its geodesic length on WGS84 (pyproj.Geod). Only the largest
connected part of the network is used, so that every pair of points is connected.

Each point (start, stops, end) is snapped to the nearest point of the nearest segment; that
point becomes a node of its own, linked along the segment to its neighbours. The snap distance
(point → road) is counted on foot, geodesically, at both ends of every leg. Distances between
points are Dijkstra's shortest paths (scipy.sparse.csgraph) on the contracted graph: only
junctions, dead ends and snapped points are nodes, and each chain of degree-2 vertices between
two of them (a street's shape points) is one edge, walked again only to draw a leg. Sources are
run in chunks so the memory stays small; the shortest-path trees are kept for the legs' paths
when they fit (_PRED_BYTES), else computed again for the legs only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
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
#: shortest-path trees are kept from the matrix for the paths up to this many bytes
#: (uint16 per cell on graphs of fewer than 65,535 nodes, else int32)
_PRED_BYTES = 100_000_000
_NO_PRED16 = np.iinfo(np.uint16).max


def _lengths(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0)
    return np.asarray(_GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2], dtype=float)


def _shortest_per_pair(
    u: np.ndarray, v: np.ndarray, w: np.ndarray, return_index: bool = False
) -> tuple:
    """One undirected edge per vertex pair, the shortest (a sparse matrix would add them up).

    Returns ((lo, hi), weights) or, with return_index, ((lo, hi), index into the input)."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    by = np.lexsort((w, hi, lo))
    head = np.r_[True, (lo[by][1:] != lo[by][:-1]) | (hi[by][1:] != hi[by][:-1])]
    pick = by[head]
    return (lo[pick], hi[pick]), (pick if return_index else w[pick])


def _without_repeats(line: list[tuple[float, ...]]) -> list[tuple[float, float]]:
    """The polyline without consecutive vertices closer than ~0.1 mm (a point on a vertex)."""
    out: list[tuple[float, float]] = []
    for x, y in line:
        if out and abs(out[-1][0] - x) < 1e-9 and abs(out[-1][1] - y) < 1e-9:
            continue
        out.append((float(x), float(y)))
    if len(out) == 1:
        out.append(out[0])  # a leg between two points at the same place
    return out


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


def _segments(lines: list[shapely.LineString]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines' vertices as nodes (lon, lat rows; coinciding vertices are one) and their
    segments as node pairs (u, v), of the largest connected part only."""
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
    graph = csr_matrix((np.ones(len(u)), (u, v)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    main = np.bincount(labels[u]).argmax() if len(u) else 0
    in_main = labels[u] == main
    u, v = u[in_main], v[in_main]
    if len(u) == 0:
        raise ValueError("no road segment")
    return node_xy, u, v


def _snap(
    points: np.ndarray, seg_a: np.ndarray, seg_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every point's nearest segment (in a local metric plane), its position along it (0 at
    `seg_a`, 1 at `seg_b`) and the snapped point (lon, lat)."""
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
    return seg_of, t, snap_xy


def _snap_edges(
    u: np.ndarray, v: np.ndarray, seg_of: np.ndarray, t: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """The edges that splice the snapped points (nodes n_nodes + k) into their segments:
    segment start → first snap, snap → next snap along the segment (by t), last snap →
    segment end."""
    order = np.lexsort((t, seg_of))
    s_sorted, k_sorted = seg_of[order], np.arange(len(seg_of))[order]
    first = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    last = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    snap_node = n_nodes + k_sorted
    chain = ~last  # snap i → snap i+1 on the same segment
    eu = np.concatenate((u[s_sorted[first]], snap_node[last], snap_node[:-1][chain[:-1]]))
    ev = np.concatenate((snap_node[first], v[s_sorted[last]], snap_node[1:][chain[:-1]]))
    return eu, ev


class RoadNetwork:
    """The road graph around a route's points, with the points snapped onto it."""

    def __init__(self, lines: list[shapely.LineString], points: np.ndarray) -> None:
        node_xy, u, v = _segments(lines)
        n_nodes = len(node_xy)
        seg_a, seg_b = node_xy[u], node_xy[v]
        seg_of, t, snap_xy = _snap(points, seg_a, seg_b)
        self.snap_m = _lengths(points, snap_xy)
        eu, ev = _snap_edges(u, v, seg_of, t, n_nodes)
        self.node_xy = np.vstack((node_xy, snap_xy))
        split = np.zeros(len(u), dtype=bool)
        split[seg_of] = True  # a segment with snapped points is replaced by its pieces
        all_u = np.concatenate((u[~split], eu))
        all_v = np.concatenate((v[~split], ev))
        weights = np.concatenate(
            (_lengths(seg_a[~split], seg_b[~split]), _lengths(self.node_xy[eu], self.node_xy[ev]))
        )
        self.points = points
        self.snapped_m = float(self.snap_m.sum())
        self._matrix: np.ndarray | None = None
        self._pred: np.ndarray | None = None
        self._contract(all_u, all_v, weights + _EPS_M, n_nodes + np.arange(len(points)))

    def _contract(self, u: np.ndarray, v: np.ndarray, w: np.ndarray, terminals: np.ndarray) -> None:
        """The graph on junctions, dead ends and snapped points only: each chain of degree-2
        vertices between two of them becomes one edge (walked again only to draw a path)."""
        total = len(self.node_xy)
        (lo, hi), w = _shortest_per_pair(u, v, w)
        degree = np.bincount(np.concatenate((lo, hi)), minlength=total)
        kept = degree != 2
        kept[terminals] = True
        kept &= degree > 0
        # the two neighbours of every degree-2 vertex (to walk a chain when drawing it)
        src = np.concatenate((lo, hi))
        dst = np.concatenate((hi, lo))
        by = np.argsort(src, kind="stable")
        src, dst = src[by], dst[by]
        first = np.searchsorted(src, np.arange(total))
        two = np.flatnonzero(degree == 2)
        self._nb = np.full((total, 2), -1, dtype=np.int64)
        self._nb[two, 0], self._nb[two, 1] = dst[first[two]], dst[first[two] + 1]
        self._is_kept = kept

        keep_ids = np.flatnonzero(kept)
        compact = np.full(total, -1, dtype=np.int64)
        compact[keep_ids] = np.arange(len(keep_ids))
        # chains: connected parts of the graph of edges between two inner (not kept) vertices
        inner_edge = ~kept[lo] & ~kept[hi]
        sub = csr_matrix(
            (np.ones(int(inner_edge.sum())), (lo[inner_edge], hi[inner_edge])),
            shape=(total, total),
        )
        _, label = connected_components(sub, directed=False)
        inner_w = np.bincount(label[lo[inner_edge]], weights=w[inner_edge], minlength=total)
        # each chain has two boundary edges, from a kept vertex to one of its ends
        boundary = kept[lo] != kept[hi]
        b_kept = np.where(kept[lo], lo, hi)[boundary]
        b_inner = np.where(kept[lo], hi, lo)[boundary]
        b_w = w[boundary]
        b_label = label[b_inner]
        by = np.argsort(b_label, kind="stable")
        b_kept, b_inner, b_w, b_label = b_kept[by], b_inner[by], b_w[by], b_label[by]
        if len(b_label) % 2 or np.any(b_label[0::2] != b_label[1::2]):  # pragma: no cover
            raise ValueError("road chain without two ends")
        c_a, c_b = b_kept[0::2], b_kept[1::2]
        c_start = b_inner[0::2]  # the chain's inner end next to c_a
        c_len = b_w[0::2] + b_w[1::2] + inner_w[b_label[0::2]]
        direct = kept[lo] & kept[hi]
        ea = compact[np.concatenate((lo[direct], c_a))]
        eb = compact[np.concatenate((hi[direct], c_b))]
        ew = np.concatenate((w[direct], c_len))
        # -1: a direct edge; else the chain's first inner vertex next to `ea`
        e_start = np.concatenate((np.full(int(direct.sum()), -1), c_start))
        ok = ea != eb  # a loop back to the same vertex is never on a shortest path
        ea, eb, ew, e_start = ea[ok], eb[ok], ew[ok], e_start[ok]
        (pa, pb), best = _shortest_per_pair(ea, eb, ew, return_index=True)
        n_kept = len(keep_ids)
        self.kept = keep_ids
        self.graph = csr_matrix((ew[best], (pa, pb)), shape=(n_kept, n_kept))
        self.terminal = compact[terminals]
        #: (smaller, larger compact id) → (the chain's start vertex, the kept vertex it is next to)
        self._chain = {
            (int(x), int(y)): (int(st), int(keep_ids[a]))
            for x, y, st, a in zip(pa, pb, e_start[best], ea[best], strict=True)
        }

    def _chain_vertices(self, x: int, y: int) -> list[int]:
        """The inner vertices of the edge from kept vertex x to y (compact ids), in order."""
        start, next_to = self._chain[(x, y) if x < y else (y, x)]
        if start < 0:
            return []
        prev, cur, out = next_to, start, []
        nb, kept = self._nb, self._is_kept
        while not kept[cur]:
            out.append(cur)
            n0, n1 = int(nb[cur, 0]), int(nb[cur, 1])
            prev, cur = cur, (n0 if n0 != prev else n1)
        return out if next_to == self.kept[x] else out[::-1]

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
        n_graph = self.graph.shape[0]
        small = n_graph < _NO_PRED16
        keep_pred = n * n_graph * (2 if small else 4) <= _PRED_BYTES
        preds: list[np.ndarray] = []
        step = self._chunk()
        for lo in range(0, n, step):
            src = self.terminal[lo : lo + step]
            if keep_pred:
                dist, pred = dijkstra(
                    self.graph, directed=False, indices=src, return_predecessors=True
                )
                if small:  # -9999 (no predecessor) becomes _NO_PRED16
                    pred = np.where(pred < 0, _NO_PRED16, pred).astype(np.uint16)
                preds.append(pred)
            else:
                dist = dijkstra(self.graph, directed=False, indices=src)
            out[lo : lo + step] = dist[:, self.terminal]
        self._pred = np.vstack(preds) if keep_pred else None
        out = out + self.snap_m[:, None] + self.snap_m[None, :]
        out = np.minimum(out, out.T)  # exact symmetry for the solver
        np.fill_diagonal(out, 0.0)
        self._matrix = out
        return out

    def _trees(self, sources: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        """(point, its shortest-path tree as predecessors), kept from `matrix` or computed."""
        if self._pred is not None:
            for a in sources:
                tree = self._pred[a].astype(np.int64)
                if self._pred.dtype == np.uint16:
                    tree[tree == _NO_PRED16] = -1
                yield a, tree
            return
        step = self._chunk()
        for lo in range(0, len(sources), step):
            chunk = sources[lo : lo + step]
            _, pred = dijkstra(
                self.graph, directed=False, indices=self.terminal[chunk], return_predecessors=True
            )
            yield from zip(chunk, pred, strict=True)

    def paths(self, pairs: list[tuple[int, int]]) -> list[list[tuple[float, float]]]:
        """The polyline (lon, lat) of each (from point, to point) pair, along the roads."""
        result: list[list[tuple[float, float]]] = [[] for _ in pairs]
        wanted: dict[int, list[int]] = {}
        for i, (a, _) in enumerate(pairs):
            wanted.setdefault(a, []).append(i)
        kept = self.kept
        terminal = self.terminal.tolist()
        for a, tree in self._trees(sorted(wanted)):
            for i in wanted[a]:
                b = pairs[i][1]
                hops = [terminal[b]]
                stop = terminal[a]
                while hops[-1] != stop and hops[-1] >= 0:
                    hops.append(int(tree[hops[-1]]))
                hops = [k for k in reversed(hops) if k >= 0]
                nodes = [int(kept[hops[0]])]
                for x, y in itertools.pairwise(hops):
                    nodes.extend(self._chain_vertices(x, y))
                    nodes.append(int(kept[y]))
                line = [tuple(self.points[a])]
                line += [tuple(v) for v in self.node_xy[nodes].tolist()]
                line.append(tuple(self.points[b]))
                result[i] = _without_repeats(line)
        return result
