"""Longitude/latitude to metres for distances: CGCS2000 3-degree Gauss-Krüger, CM 117°E.

EPSG:4547 covers 115.5°E-118.5°E, all of Tianjin; distances there are true to a few parts
in 100,000. WGS84 and CGCS2000 coordinates differ by centimetres, so EPSG:4326 input is
taken as it is. Other districts may set another metric CRS (``crs`` parameter).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import Transformer

DEFAULT_CRS = "EPSG:4547"


@lru_cache(maxsize=8)
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def to_metric(lon: np.ndarray, lat: np.ndarray, crs: str = DEFAULT_CRS) -> np.ndarray:
    """(N, 2) array of projected x, y in metres."""
    if len(lon) == 0:
        return np.empty((0, 2))
    x, y = _transformer(crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([x, y])
