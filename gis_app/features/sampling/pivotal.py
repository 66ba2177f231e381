"""The local pivotal method (LPM) of Grafström, Lundström & Schelin (2012, Biometrics 68:514).

Two units that are each other's nearest undecided neighbour (the pairs of LPM1) fight over
their inclusion probabilities: one gets as much of the pair's total as it can (up to 1), the
other keeps the rest, with odds that leave both units' inclusion probabilities unchanged. A
unit whose probability reaches 0 or 1 is decided. Near neighbours thus rarely end up in the
sample together, and the sample spreads over the frame like a miniature of it.

Written for numpy: every round finds the nearest undecided neighbour of every undecided unit
(the first undecided one in its list of nearest units, from a KD-tree asked again only when a
list runs out) and lets all mutual-nearest pairs fight at once. The pairs are disjoint and
deciding one pair's units never makes another pair's units stop being mutual nearest
neighbours, so a round is the same as fighting its pairs one after the other. There is always
such a pair (the closest two units), and each fight decides at least one unit: about a third
of the undecided units are decided per round.

Ties in distance go to the lower index (among the three nearest), so the sample depends only
on the points, the probabilities and the random generator. Small rounds use a distance
matrix instead of a tree; the choice depends only on the round's size, so it is reproducible.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

EPS = 1e-9
BRUTE_FORCE_MAX = 256
PARALLEL_MIN = 50_000
#: neighbours remembered per unit: the tree is asked again only when all are decided
NEIGHBOURS = 12


def _neighbour_lists(
    xy: np.ndarray, units: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """For each of ``units`` (or only ``units[rows]``), its nearest other units (indices into
    xy), nearest first, ties to the lower index."""
    pts = xy[units]
    count = len(units)
    rows = np.arange(count) if rows is None else rows
    if count <= BRUTE_FORCE_MAX:  # a distance matrix beats building a tree
        dist = ((pts[rows, None, :] - pts[None, :, :]) ** 2).sum(axis=-1)
        nb = np.broadcast_to(np.arange(count), dist.shape)
    else:
        tree = cKDTree(pts, balanced_tree=False, compact_nodes=False)  # 5x faster to build
        workers = -1 if len(rows) > PARALLEL_MIN else 1
        dist, nb = tree.query(pts[rows], k=min(NEIGHBOURS + 1, count), workers=workers)
    own = nb == rows[:, None]
    out = nb[:, 1:].copy()  # the tree lists each point first, then the others by distance
    odd = ~own[:, 0] | (dist[:, 1:] == dist[:, :-1]).any(axis=1)  # ties, duplicates
    if count <= BRUTE_FORCE_MAX:
        odd[:] = True  # the matrix is not sorted at all
    if odd.any():
        d = np.where(own[odd], np.inf, dist[odd])
        order = np.lexsort((nb[odd], d), axis=-1)[:, :-1]
        out[odd] = np.take_along_axis(nb[odd], order, axis=-1)
    return units[out]


def _fight(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pivotal step for pairs with probabilities (a, b): expected values are kept."""
    total = a + b
    below = total < 1
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(below, u < b / total, u < (1 - b) / (2 - total))
    new_a = np.where(below, np.where(first, 0.0, total), np.where(first, 1.0, total - 1))
    new_b = np.where(below, np.where(first, total, 0.0), np.where(first, total - 1, 1.0))
    return new_a, new_b


def lpm_sample_prob(xy: np.ndarray, prob: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices (ascending) of an LPM sample with the given inclusion probabilities."""
    p = np.asarray(prob, dtype=float).copy()
    alive = np.flatnonzero((p > EPS) & (p < 1 - EPS))
    is_alive = np.zeros(len(p), dtype=bool)
    is_alive[alive] = True
    position = np.zeros(len(p), dtype=np.int64)
    lists = _neighbour_lists(xy, alive) if len(alive) > 1 else None
    while len(alive) > 1:
        assert lists is not None
        found = is_alive[lists]
        empty = np.flatnonzero(~found.any(axis=1))
        if len(empty) and len(alive) <= BRUTE_FORCE_MAX:  # few left: all lists anew
            lists = _neighbour_lists(xy, alive)
            found = is_alive[lists]
        elif len(empty):  # these lists ran out: ask a tree of the undecided units again
            lists[empty] = _neighbour_lists(xy, alive, empty)
            found[empty] = is_alive[lists[empty]]
        position[alive] = np.arange(len(alive))
        nearest = position[lists[np.arange(len(alive)), found.argmax(axis=1)]]
        local = np.arange(len(alive))
        first = local[(nearest[nearest] == local) & (local < nearest)]
        i, j = alive[first], alive[nearest[first]]
        p[i], p[j] = _fight(p[i], p[j], rng.random(len(first)))
        keep = (p[alive] > EPS) & (p[alive] < 1 - EPS)
        is_alive[alive[~keep]] = False
        alive, lists = alive[keep], lists[keep]
    if len(alive) == 1:  # what rounding left over: decide it by its probability
        p[alive[0]] = 1.0 if rng.random() < p[alive[0]] else 0.0
    return np.flatnonzero(p >= 1 - EPS)


def lpm_sample(xy: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices (ascending) of an LPM sample of n of the points, equal inclusion probabilities."""
    n_points = len(xy)
    if n >= n_points:
        return np.arange(n_points)
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    return lpm_sample_prob(xy, np.full(n_points, n / n_points), rng)
