"""The time an act happened in the field (`recorded_at`), as a phone's offline queue sends it
later: an ISO 8601 time with its offset, not in the future (beyond the phones' clock drift)
and not older than the queue may hold acts. The server keeps its own time beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gis_app.core import clock
from gis_app.core.errors import ValidationError

#: a phone's clock may run this much ahead of the server's
CLOCK_DRIFT = timedelta(minutes=10)
#: acts older than this are not accepted as field times (a phone's clock set wrong)
OLDEST = timedelta(days=30)


def parse_recorded_at(raw: Any, field: str = "recorded_at") -> datetime | None:
    """The field time as an aware UTC time; None when not given; else 422 naming `field`."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"现场记录时间格式无效：{raw[:40]!r}（应为 ISO 8601 时间，含时区）", field
            ) from None
    else:
        raise ValidationError("现场记录时间须是文字（ISO 8601 时间）", field)
    if value.tzinfo is None:
        raise ValidationError("现场记录时间须带时区（如 2026-06-15T09:30:00+08:00）", field)
    value = value.astimezone(UTC)
    now = clock.now()
    if value > now + CLOCK_DRIFT:
        raise ValidationError(
            f"现场记录时间 {clock.fmt_local(value)} 晚于服务器当前时间，请检查手机时钟", field
        )
    if value < now - OLDEST:
        raise ValidationError(
            f"现场记录时间 {clock.fmt_local(value)} 早于 {OLDEST.days} 天前，不予接受", field
        )
    return value
