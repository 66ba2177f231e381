"""Who is acting: the name recorded in history events."""

from __future__ import annotations

from flask import request

MAX_ACTOR = 64


def current_actor() -> str:
    """The acting user's name (the X-Actor header until accounts exist, else 'api')."""
    raw = (request.headers.get("X-Actor") or "").strip()
    cleaned = "".join(ch for ch in raw if ch.isprintable())[:MAX_ACTOR]
    return cleaned or "api"
