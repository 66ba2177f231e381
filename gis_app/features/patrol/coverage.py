"""Patrol coverage: per street and ISO week, the share of its open sites visited on patrol;
and the streets with no patrol in the last N days.

A site counts as open in a week when it was registered before the week ended and was not
closed before the week began (its closing: the last event setting it closed, else its last
change). A site counts as visited when a stop of any patrol at it was ticked within the week
(Asia/Shanghai calendar). A street has patrolled on a day when one of its patrols started then.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import ValidationError
from gis_app.features.ledger.permissions import own_street
from gis_app.features.patrol.priorities import local_midnight

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
DEFAULT_STALE_DAYS = 7


def parse_week(raw: str | None) -> date:
    """'2026-W24' → the Monday of that ISO week (default: the current week)."""
    if not raw:
        today = clock.today()
        return today - timedelta(days=today.weekday())
    match = WEEK.match(raw.strip())
    if not match:
        raise ValidationError(f"week 应为 ISO 周，例如 2026-W24（收到 {raw!r}）", "week")
    try:
        year = int(match[1])
        if not 2000 <= year <= 2100:
            raise ValueError(year)
        return date.fromisocalendar(year, int(match[2]), 1)
    except ValueError:
        raise ValidationError(f"没有这一周：{raw}", "week") from None


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def parse_days(raw: Any, default: int = DEFAULT_STALE_DAYS) -> int:
    if raw in (None, ""):
        return default
    try:
        days = int(str(raw).strip())
    except ValueError:
        raise ValidationError(f"days 必须是整数：{raw!r}", "days") from None
    if not 1 <= days <= 366:
        raise ValidationError("days 须在 1 到 366 之间", "days")
    return days


def _streets_clause(actor: Actor) -> tuple[str, dict[str, Any]]:
    if actor.is_district:
        return "", {}
    return " AND t.code = :own", {"own": own_street(actor) or ""}


def weekly_coverage(
    session: Session, actor: Actor, district_code: str, monday: date
) -> dict[str, Any]:
    """Per street: open sites that week, how many were visited, the share."""
    start: datetime = local_midnight(monday)
    end: datetime = local_midnight(monday + timedelta(days=7))
    clause, params = _streets_clause(actor)
    rows = session.execute(
        text(
            f"""
            WITH open_sites AS (
              SELECT s.id, s.street_id
              FROM sites s
              WHERE s.district_code = :d AND s.deleted_at IS NULL AND s.created_at < :end
                AND (s.status <> 'closed' OR coalesce(
                      (SELECT max(e.at) FROM site_events e WHERE e.site_id = s.id
                         AND e.changes -> 'status' ->> 1 = 'closed'),
                      s.updated_at) >= :start)
            ), visited AS (
              SELECT DISTINCT p.site_id FROM patrol_stops p
              WHERE p.visited AND p.checked_at >= :start AND p.checked_at < :end
            )
            SELECT t.code, t.name, count(o.id) AS open_sites, count(v.site_id) AS visited
            FROM streets t
            LEFT JOIN open_sites o ON o.street_id = t.id
            LEFT JOIN visited v ON v.site_id = o.id
            WHERE t.district_code = :d {clause}
            GROUP BY t.code, t.name ORDER BY t.code
            """
        ),
        {"d": district_code, "start": start, "end": end, **params},
    ).all()
    streets = [
        {
            "street": r.code,
            "name": r.name,
            "open_sites": r.open_sites,
            "visited": r.visited,
            "share": round(r.visited / r.open_sites, 4) if r.open_sites else None,
        }
        for r in rows
    ]
    return {
        "week": week_label(monday),
        "from": monday.isoformat(),
        "to": (monday + timedelta(days=6)).isoformat(),
        "streets": streets,
    }


def stale_streets(session: Session, actor: Actor, district_code: str, days: int) -> dict[str, Any]:
    """Streets with no patrol started within the last `days` days (today included)."""
    since = local_midnight(clock.today() - timedelta(days=days - 1))
    clause, params = _streets_clause(actor)
    rows = session.execute(
        text(
            f"""
            SELECT t.code, t.name, max(p.started_at) AS last_patrol
            FROM streets t LEFT JOIN patrols p ON p.street_id = t.id AND p.started_at IS NOT NULL
            WHERE t.district_code = :d {clause}
            GROUP BY t.code, t.name
            HAVING max(p.started_at) IS NULL OR max(p.started_at) < :since
            ORDER BY max(p.started_at) NULLS FIRST, t.code
            """
        ),
        {"d": district_code, "since": since, **params},
    ).all()
    return {
        "days": days,
        "since": since.isoformat(),
        "streets": [
            {
                "street": r.code,
                "name": r.name,
                "last_patrol": r.last_patrol.isoformat() if r.last_patrol else None,
                "last_patrol_local": clock.fmt_local(r.last_patrol)
                if r.last_patrol
                else "从未巡查",
            }
            for r in rows
        ],
    }
