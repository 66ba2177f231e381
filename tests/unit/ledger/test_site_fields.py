"""Parsing of ledger values: dates, booleans, areas, coordinates, whole records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from gis_app.core.errors import ValidationError
from gis_app.core.geo.coords import parse_lonlat
from gis_app.features.ledger.schemas import clean_site_fields, parse_area, parse_bool, parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-06-30", date(2022, 6, 30)),
        ("2022/6/30", date(2022, 6, 30)),
        ("2022.06.30", date(2022, 6, 30)),
        ("2022年6月30日", date(2022, 6, 30)),
        ("2022年6月30日前", date(2022, 6, 30)),
        ("20220630", date(2022, 6, 30)),
        ("2022-06-30 00:00:00", date(2022, 6, 30)),
        ("2022年6月底", date(2022, 6, 30)),
        ("2024-02", date(2024, 2, 29)),
        (datetime(2022, 6, 30, 8, 0), date(2022, 6, 30)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: object, expected: date | None) -> None:
    assert parse_date(raw, "committed_deadline") == expected


@pytest.mark.parametrize("raw", ["2022-13-01", "2022-02-30", "明年", "30/06/2022", 44742])
def test_parse_date_refuses(raw: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_date(raw, "committed_deadline")
    assert info.value.field == "committed_deadline"
    assert "承诺期限" in info.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("√", True),
        ("", False),
        (1, True),
        ("TRUE", True),
        (None, False),
    ],
)
def test_parse_bool(raw: object, expected: bool) -> None:
    assert parse_bool(raw, "flag_hardship") is expected


def test_parse_bool_refuses_other_words() -> None:
    with pytest.raises(ValidationError, match="困难户"):
        parse_bool("也许", "flag_hardship")


def test_parse_area_units_and_limits() -> None:
    assert parse_area("25.5㎡") == Decimal("25.50")
    assert parse_area("1,200 平方米") == Decimal("1200.00")
    assert parse_area(12) == Decimal("12.00")
    assert parse_area("") is None
    for bad in ("-3", "0", "abc", "1e9", "NaN"):
        with pytest.raises(ValidationError):
            parse_area(bad)


def test_parse_lonlat_names_the_field() -> None:
    assert parse_lonlat("117.２３", 39.1) == (117.23, 39.1)
    cases = {
        ("abc", 39): "lon",
        (117, "x"): "lat",
        (181, 39): "lon",
        (117, -91): "lat",
        ("nan", 39): "lon",
        (True, 39): "lon",
        (117, None): "lat",
    }
    for (lon, lat), field in cases.items():
        with pytest.raises(ValidationError) as info:
            parse_lonlat(lon, lat)
        assert info.value.field == field, (lon, lat)


def test_clean_collects_every_error() -> None:
    clean, errors = clean_site_fields(
        {
            "code": "A",
            "address": "",
            "disposition": "推倒",
            "lon": "x",
            "lat": 39.1,
            "committed_deadline": "soon",
            "area_m2": "-1",
        },
        require_code=True,
    )
    assert {e.field for e in errors} == {
        "address",
        "disposition",
        "lon",
        "committed_deadline",
        "area_m2",
    }
    assert clean["code"] == "A"


def test_clean_partial_only_checks_given_fields() -> None:
    clean, errors = clean_site_fields({"note": "补充说明"}, partial=True)
    assert errors == [] and clean == {"note": "补充说明"}
    _, errors = clean_site_fields({"lon": 117.2}, partial=True)
    assert [e.field for e in errors] == ["lat"]
