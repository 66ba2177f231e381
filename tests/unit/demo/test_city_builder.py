"""The synthetic city: districts split into streets that partition them, sites shared out."""

from __future__ import annotations

import numpy as np
import shapely

from gis_app.demo.city import build_city, site_counts, street_count


def test_street_count_grows_with_the_area() -> None:
    assert street_count(10.0) == 12
    assert street_count(0.5) == 10
    assert street_count(2700.0) == 15
    assert street_count(1e9) == 15


def test_districts_are_partitioned_into_coded_streets() -> None:
    city = build_city(seed=2, codes=["120101", "120102", "120110"])
    assert [d.code for d in city] == ["120101", "120102", "120110"]
    for district in city:
        streets = district.streets
        assert 10 <= len(streets) <= 15
        assert all(code.startswith(district.code) and len(code) == 9 for code in streets["code"])
        assert streets["code"].is_unique
        assert all(g.is_valid and not g.is_empty for g in streets.geometry)
        union = shapely.union_all(streets.geometry.values)
        # the streets cover the district and do not overlap (areas in square degrees)
        assert abs(union.area - district.outline.area) < 1e-6 * district.outline.area + 1e-9
        assert abs(sum(g.area for g in streets.geometry) - union.area) < 1e-6 * union.area
    hedong = city[1]
    assert "大直沽街道" in set(hedong.streets["name"])  # Hedong keeps its named streets
    assert city[0].streets["name"].iloc[0] == "和平区第1街道"


def test_site_counts_share_the_total_by_weight() -> None:
    city = build_city(seed=2, codes=["120101", "120110"])
    counts = site_counts(city, 1001)
    assert sum(counts) == 1001
    assert counts[1] > counts[0]  # the larger district holds more sites
    weights = np.array([d.weight for d in city])
    assert np.allclose(np.array(counts) / 1001, weights / weights.sum(), atol=0.01)
