"""GCJ-02 conversion: the offset in Hedong and the round trip."""

from __future__ import annotations

import math

from gis_app.core.geo.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * 111_320 * math.cos(lat)
    dy = (a[1] - b[1]) * 110_574
    return math.hypot(dx, dy)


def test_offset_in_hedong_is_about_556_metres() -> None:
    wgs = (117.2381, 39.11)
    gcj = wgs84_to_gcj02(*wgs)
    assert 540 < _metres(wgs, gcj) < 575
    assert gcj[0] > wgs[0] and gcj[1] > wgs[1]  # east and north


def test_round_trip_below_a_millimetre() -> None:
    for lon, lat in [(117.2, 39.08), (117.3, 39.16), (117.25, 39.12)]:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
        assert _metres((lon, lat), back) < 0.001


def test_outside_china_unchanged() -> None:
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)
