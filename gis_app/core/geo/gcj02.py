"""GCJ-02 ("Mars coordinates", used by Amap, Tencent and Baidu before its own shift) and WGS84.

The published forward formula (Krasovsky ellipsoid a = 6378245.0, e² = 0.00669342162296594323)
and its inverse by fixed-point iteration. In Hedong the offset is about 556 m; converted back,
the residual is below a millimetre.
"""

from __future__ import annotations

import math

A = 6378245.0
EE = 0.00669342162296594323


def _in_china(lon: float, lat: float) -> bool:
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _d_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _d_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Shift a WGS84 point to GCJ-02 (points outside China are returned unchanged)."""
    if not _in_china(lon, lat):
        return lon, lat
    d_lat = _d_lat(lon - 105.0, lat - 35.0)
    d_lon = _d_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((A * (1 - EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float, tolerance: float = 1e-10) -> tuple[float, float]:
    """Invert the shift by iteration until the forward image matches the input."""
    if not _in_china(lon, lat):
        return lon, lat
    x, y = lon, lat
    for _ in range(30):
        fx, fy = wgs84_to_gcj02(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < tolerance and abs(dy) < tolerance:
            break
    return x, y
