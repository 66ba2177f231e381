"""Helpers of the baseline tests: a street's officer, a site of 大直沽 or 中山门."""

from __future__ import annotations

import itertools
from typing import Any

from gis_app.core.actor import Actor
from tests.support.workflow import ZSM, make_site

ZSM_POINT = {"lon": 117.2560, "lat": 39.1050}
_n = itertools.count(1)


def officer(code: str) -> Actor:
    return Actor(f"街道{code}", "street_officer", code)


def street_site(session, street: str, **fields: Any):
    """A site of `street` (大直沽 or 中山门), registered by its officer, a little apart."""
    where = ZSM_POINT if street == ZSM else {}
    dx = next(_n) * 0.00001
    point = {"lon": (where.get("lon") or 117.2381) + dx, "lat": where.get("lat") or 39.1100}
    return make_site(session, officer(street), code=f"B-{next(_n):04d}", **point, **fields)
