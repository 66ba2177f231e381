"""Validate a longitude/latitude pair typed by a user or read from a file."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from gis_app.core.errors import ValidationError, excerpt

LON_FIELD = "lon"
LAT_FIELD = "lat"


def parse_number(value: object, field: str, label: str) -> float:
    """A finite float from a number or a decimal string (full-width digits tolerated)."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"{label}必须是数字", field)
    if isinstance(value, int | float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().translate(_FULLWIDTH)
        if not text:
            raise ValidationError(f"缺少{label}", field)
        try:
            number = float(Decimal(text))
        except (InvalidOperation, ValueError):
            raise ValidationError(f"{label}不是数字：{excerpt(value)!r}", field) from None
    else:
        raise ValidationError(f"{label}必须是数字", field)
    if not math.isfinite(number):
        raise ValidationError(f"{label}不是有限的数字", field)
    return number


_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


def parse_lonlat(lon: object, lat: object) -> tuple[float, float]:
    """(lon, lat) in decimal degrees, range-checked; errors name the field."""
    x = parse_number(lon, LON_FIELD, "经度")
    y = parse_number(lat, LAT_FIELD, "纬度")
    if not -180 <= x <= 180:
        raise ValidationError(f"经度超出范围（-180～180）：{x}", LON_FIELD)
    if not -90 <= y <= 90:
        hint = "；经纬度是否填反了？" if -90 <= x <= 90 else ""
        raise ValidationError(f"纬度超出范围（-90～90）：{y}{hint}", LAT_FIELD)
    return x, y
