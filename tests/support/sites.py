"""A site as the API takes it."""

from __future__ import annotations

from typing import Any


# a point well inside 大直沽街道 and one well inside 中山门 (checked in test_streets)
def site_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "T-0001",
        "address": "大直沽中路12号院内",
        "community": "文华里社区",
        "kind": "courtyard",
        "area_m2": 18.5,
        "person_name": "张某",
        "person_contact": "13800000000",
        "disposition": "demolish",
        "committed_deadline": "2026-09-30",
        "lon": 117.2381,
        "lat": 39.1100,
    }
    body.update(overrides)
    return body
