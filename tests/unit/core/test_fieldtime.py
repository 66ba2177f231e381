"""The field time of an act sent later from a phone's offline queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gis_app.core import clock
from gis_app.core.errors import ValidationError
from gis_app.core.fieldtime import parse_recorded_at


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze("2026-06-15T10:00:00+08:00")
    yield
    clock.freeze(None)


def test_a_field_time_is_kept_as_utc() -> None:
    got = parse_recorded_at("2026-06-15T09:20:00+08:00")
    assert got == datetime(2026, 6, 15, 1, 20, tzinfo=UTC)
    assert parse_recorded_at("2026-06-15T01:20:00Z") == got
    assert parse_recorded_at(None) is None and parse_recorded_at("") is None


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("yesterday", "格式无效"),
        ("2026-06-15T09:20:00", "须带时区"),
        ("2026-06-15T10:30:00+08:00", "晚于服务器当前时间"),  # the phone's clock runs ahead
        ("2026-04-01T10:00:00+08:00", "早于 30 天前"),
        (12, "须是文字"),
    ],
)
def test_an_implausible_field_time_is_refused_naming_the_field(raw, says) -> None:
    with pytest.raises(ValidationError, match=says) as caught:
        parse_recorded_at(raw)
    assert caught.value.field == "recorded_at"


def test_a_phone_clock_a_few_minutes_ahead_is_accepted() -> None:
    assert parse_recorded_at("2026-06-15T10:05:00+08:00") is not None
