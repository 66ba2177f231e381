"""Generalized Random Tessellation Stratified sampling (GRTS) of a finite set of points.

Stevens & Olsen (2004), "Spatially balanced sampling of natural resources", JASA 99:262-278:

1. lay a square grid over the points, translated by a random offset;
2. split it recursively into quadrants (a quadtree) until no cell holds more than one
   expected sample unit (the sum of the inclusion probabilities of its points is at most 1);
3. give every point the base-4 address of its cell and, independently for every parent cell
   at every level, relabel the four child quadrants by a random permutation (hierarchical
   randomisation); order the points by their randomised address (random order within a cell);
4. along that line lay the points end to end, each as long as its inclusion probability,
   and take a systematic sample with a random start: the units the points u, u+1, ... fall in.

Written for numpy: Morton codes, one sort, one pass per quadtree level. Points must be in a
projected metric coordinate system (metres): distances are Euclidean.
"""

from __future__ import annotations

import itertools

import numpy as np

#: bits per axis of the finest grid (2**26 cells across: sub-millimetre at district scale)
MAX_LEVEL = 26
#: the 24 permutations of the quadrant labels 0..3, drawn from by index
_PERMUTATIONS = np.array(list(itertools.permutations(range(4))), dtype=np.uint64)

_MASKS = (
    (16, np.uint64(0x0000FFFF0000FFFF)),
    (8, np.uint64(0x00FF00FF00FF00FF)),
    (4, np.uint64(0x0F0F0F0F0F0F0F0F)),
    (2, np.uint64(0x3333333333333333)),
    (1, np.uint64(0x5555555555555555)),
)


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Insert a zero bit between the (up to 32) low bits of each value."""
    v = v & np.uint64(0xFFFFFFFF)
    for shift, mask in _MASKS:
        v = (v | (v << np.uint64(shift))) & mask
    return v


def morton_codes(
    xy: np.ndarray, origin: tuple[float, float], side: float, level: int = MAX_LEVEL
) -> np.ndarray:
    """Quadtree addresses (base-4 digit 2*ybit + xbit per level, coarsest first) as uint64."""
    cells = float(1 << level)
    ix = np.clip(((xy[:, 0] - origin[0]) / side * cells).astype(np.int64), 0, (1 << level) - 1)
    iy = np.clip(((xy[:, 1] - origin[1]) / side * cells).astype(np.int64), 0, (1 << level) - 1)
    return _spread_bits(ix.astype(np.uint64)) | (_spread_bits(iy.astype(np.uint64)) << np.uint64(1))


def _cell_starts(prefix_sorted: np.ndarray) -> np.ndarray:
    """Index of the first point of each run of equal prefixes (input sorted)."""
    change = np.empty(len(prefix_sorted), dtype=bool)
    change[0] = True
    np.not_equal(prefix_sorted[1:], prefix_sorted[:-1], out=change[1:])
    return np.flatnonzero(change)


def _depth(codes_sorted: np.ndarray, prob_sorted: np.ndarray) -> int:
    """The shallowest level at which no cell's inclusion probabilities sum to more than 1."""

    def fits(level: int) -> bool:
        prefix = codes_sorted >> np.uint64(2 * (MAX_LEVEL - level))
        sums = np.add.reduceat(prob_sorted, _cell_starts(prefix))
        return bool(sums.max() <= 1.0 + 1e-9)

    lo, hi = 1, MAX_LEVEL
    if not fits(hi):
        return hi  # coincident points: cells cannot be split further
    while lo < hi:  # the cell sums only fall as the cells shrink: bisect
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def grts_order(xy: np.ndarray, prob: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The points' indices in randomised hierarchical (GRTS) order."""
    n_points = len(xy)
    if n_points == 0:
        return np.empty(0, dtype=np.int64)
    lo = xy.min(axis=0)
    extent = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]))) or 1.0
    shift = rng.random(2) * extent  # random translation of a grid twice as wide as the points
    origin = (float(lo[0] - shift[0]), float(lo[1] - shift[1]))
    codes = morton_codes(xy, origin, 2.0 * extent)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    depth = _depth(codes, prob[order])

    key = np.zeros(n_points, dtype=np.uint64)
    for level in range(1, depth + 1):
        parent = codes >> np.uint64(2 * (MAX_LEVEL - level + 1))
        digit = (codes >> np.uint64(2 * (MAX_LEVEL - level))) & np.uint64(3)
        group = np.cumsum(np.concatenate(([0], parent[1:] != parent[:-1])))
        perm = rng.integers(0, len(_PERMUTATIONS), size=int(group[-1]) + 1)
        key = (key << np.uint64(2)) | _PERMUTATIONS[perm[group], digit.astype(np.intp)]
    tie = rng.random(n_points)  # random order of the points within a finest cell
    return order[np.lexsort((tie, key))]


def systematic_along(prob_ordered: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions hit by the points u, u+1, ..., u+n-1 on the line of stacked probabilities."""
    cum = np.cumsum(prob_ordered)
    targets = rng.random() + np.arange(n)
    pos = np.searchsorted(cum, targets, side="right")
    return np.minimum(pos, len(prob_ordered) - 1)


def grts_sample(
    xy: np.ndarray, n: int, rng: np.random.Generator, prob: np.ndarray | None = None
) -> np.ndarray:
    """Indices of a GRTS sample of n points, in GRTS order (equal probabilities by default)."""
    n_points = len(xy)
    if n >= n_points:
        return np.arange(n_points)
    if prob is None:
        prob = np.full(n_points, n / n_points)
    order = grts_order(xy, prob, rng)
    # each probability is below 1, so no two points of the comb (1 apart) hit the same unit
    return order[systematic_along(prob[order], n, rng)]
