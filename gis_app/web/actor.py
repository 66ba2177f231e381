"""The acting user of a request.

Until accounts exist, the name, role and street come from the X-Actor, X-Role and X-Street
headers (default: an anonymous district officer); accounts replace this function's body.
"""

from __future__ import annotations

from flask import request

from gis_app.actor import ROLES, Actor
from gis_app.errors import ValidationError

MAX_ACTOR = 64


def current_actor() -> Actor:
    raw = (request.headers.get("X-Actor") or "").strip()
    name = "".join(ch for ch in raw if ch.isprintable())[:MAX_ACTOR] or "api"
    role = (request.headers.get("X-Role") or "district_officer").strip()
    if role not in ROLES:
        raise ValidationError(f"未知角色：{role}", "X-Role")
    street = (request.headers.get("X-Street") or "").strip() or None
    return Actor(name, role, street)
