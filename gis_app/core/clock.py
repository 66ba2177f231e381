"""The one clock of the app: UTC for storage, Asia/Shanghai for deadlines and display.

A frozen time (config FROZEN_NOW, used by demos and tests) replaces the real clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_frozen: datetime | None = None


def parse_instant(value: str) -> datetime:
    """'YYYY-MM-DD' (local midnight) or an ISO time (local if naive) as an aware UTC time."""
    text = value.strip()
    if len(text) == 10:
        local = datetime.combine(date.fromisoformat(text), time(0), LOCAL_TZ)
    else:
        local = datetime.fromisoformat(text)
        if local.tzinfo is None:
            local = local.replace(tzinfo=LOCAL_TZ)
    return local.astimezone(UTC)


def freeze(value: str | datetime | None) -> None:
    """Freeze the clock at a time (None or '' unfreezes)."""
    global _frozen
    if not value:
        _frozen = None
    elif isinstance(value, datetime):
        _frozen = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        _frozen = parse_instant(value)


@contextmanager
def frozen_at(value: str | datetime) -> Iterator[None]:
    """Run a block with the clock frozen at `value`, then put the clock back as it was (demo
    records dated in the past, made through the services)."""
    global _frozen
    before = _frozen
    freeze(value)
    try:
        yield
    finally:
        _frozen = before


def now() -> datetime:
    """Current time, aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def local_now() -> datetime:
    return now().astimezone(LOCAL_TZ)


def today() -> date:
    """Today's date in Asia/Shanghai: the calendar deadlines are counted in."""
    return local_now().date()


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def fmt_local(value: datetime | None, with_seconds: bool = False) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
