"""Road network for patrol routes (placeholder until the roads table lands)."""

from __future__ import annotations

from typing import Self

import numpy as np
from sqlalchemy.orm import Session


class RoadNetwork:
    """Shortest paths over the imported roads between the route's points."""

    snapped_m: float = 0.0

    @classmethod
    def load(cls, session: Session, points: np.ndarray) -> Self | None:
        """The road graph around `points`, or None when no roads are imported there."""
        return None

    def matrix(self) -> np.ndarray:  # pragma: no cover - placeholder
        raise NotImplementedError

    def paths(self, pairs: list[tuple[int, int]]) -> list[list[tuple[float, float]]]:
        raise NotImplementedError  # pragma: no cover - placeholder
