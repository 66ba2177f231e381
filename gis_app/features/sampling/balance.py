"""Spatial balance of a sample: the Voronoi-based measure of Stevens & Olsen (2004).

Each sample point's Voronoi polygon holds the frame points whose nearest sample point it is
(found with a KD-tree: the same partition as the polygons, without building them). The sum
``v_i`` of the inclusion probabilities of the frame points in polygon ``i`` is 1 on average;
a spatially balanced sample has every ``v_i`` close to 1.

- ``voronoi_variance``: ``mean((v_i - 1)**2)``, Stevens & Olsen's variance of the Voronoi sums
  (the ``sb`` of Grafström's BalancedSampling). It equals ``n**2`` times spsurvey's ``mse``
  metric, which spsurvey computes on the proportions ``p_i = v_i / n``.
- ``pielou``: spsurvey ``sp_balance``'s default metric, ``1 + sum(p_i * ln p_i) / ln n``
  (0 = perfect balance, 1 = none).

Lower is better for both. For point frames spsurvey's polygons are clipped to the frame's
bounding box, which changes no frame point's polygon, so the values are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


def voronoi_sums(frame_xy: np.ndarray, prob: np.ndarray, sample_idx: np.ndarray) -> np.ndarray:
    """For each sample point, the sum of the probabilities of the frame points nearest to it."""
    sample_idx = np.asarray(sample_idx, dtype=np.int64)
    tree = cKDTree(frame_xy[sample_idx])
    _, nearest = tree.query(frame_xy, k=1, workers=-1)
    return np.bincount(nearest, weights=prob, minlength=len(sample_idx))


def voronoi_variance(sums: np.ndarray) -> float:
    """Stevens & Olsen's balance: the mean squared deviation of the Voronoi sums from 1."""
    return float(np.mean((sums - 1.0) ** 2))


def pielou(sums: np.ndarray) -> float:
    """spsurvey's Pielou evenness metric on the proportions v_i / sum(v)."""
    n = len(sums)
    if n < 2:
        return 0.0
    p = sums / sums.sum()
    p = p[p > 0]
    return float(1.0 + np.sum(p * np.log(p)) / np.log(n))


@dataclass(frozen=True)
class Balance:
    variance: float
    pielou: float

    def to_dict(self) -> dict[str, float]:
        return {"variance": self.variance, "pielou": self.pielou}


def balance(frame_xy: np.ndarray, prob: np.ndarray, sample_idx: np.ndarray) -> Balance:
    sums = voronoi_sums(frame_xy, prob, sample_idx)
    return Balance(voronoi_variance(sums), pielou(sums))


def mean_balance(
    frame_xy: np.ndarray,
    prob: np.ndarray,
    draw: Callable[[np.random.Generator], np.ndarray],
    draws: int,
    rng: np.random.Generator,
) -> Balance:
    """The balance averaged over ``draws`` samples from ``draw`` (e.g. simple random ones)."""
    values = [balance(frame_xy, prob, draw(rng)) for _ in range(draws)]
    return Balance(
        float(np.mean([v.variance for v in values])), float(np.mean([v.pielou for v in values]))
    )
