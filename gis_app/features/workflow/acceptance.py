"""The office's side of 验收: its queue with how long each site has waited, and how long its
acceptance took per month. While a site waits (待验收) its deadline clock is stopped for the
street (ledger.queries.overdue_expr); these figures show the office's own delay instead."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.features.ledger.permissions import own_street

MAX_MONTHS = 24


def acceptance_queue(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """Sites waiting for 验收, the longest-waiting first, with the days waited (a street sees
    its own)."""
    rows = session.execute(
        text(
            """
            SELECT s.id, s.code, s.address, t.code, t.name, sub.at
            FROM sites s
            JOIN streets t ON t.id = s.street_id
            LEFT JOIN LATERAL (
              SELECT e.at FROM site_events e
              WHERE e.site_id = s.id AND e.action = 'transition'
                AND e.changes -> 'status' ->> 1 = 'awaiting_acceptance'
              ORDER BY e.at DESC, e.id DESC LIMIT 1) sub ON true
            WHERE s.status = 'awaiting_acceptance' AND s.deleted_at IS NULL
              AND (CAST(:street AS text) IS NULL OR t.code = :street)
            ORDER BY sub.at NULLS FIRST, s.id
            """
        ),
        {"street": own_street(actor)},
    ).all()
    out = []
    for site_id, code, address, street_code, street_name, submitted in rows:
        local = submitted.astimezone(clock.LOCAL_TZ) if submitted else None
        out.append(
            {
                "id": site_id,
                "code": code,
                "address": address,
                "street_code": street_code,
                "street_name": street_name,
                "submitted_at": submitted.isoformat() if submitted else None,
                "submitted_at_local": clock.fmt_local(submitted) if submitted else None,
                "days_waited": (today - local.date()).days if local else None,
            }
        )
    return out


def months_back(last: date, n: int) -> list[date]:
    """The first days of the `n` months ending with `last`'s month, oldest first."""
    months = []
    year, month = last.year, last.month
    for _ in range(n):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def acceptance_times(session: Session, today: date, months: int) -> list[dict[str, Any]]:
    """Per calendar month (Asia/Shanghai) of the office's decision: how many sites it decided
    (销账 or 退回整改) and how many days each had waited since its submission."""
    wanted = months_back(today, months)
    rows = session.execute(
        text(
            """
            SELECT to_char(d.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
                   count(*) AS decided,
                   count(*) FILTER (WHERE d.changes -> 'status' ->> 1 = 'closed') AS closed,
                   count(*) FILTER (WHERE d.changes -> 'status' ->> 1 = 'in_progress')
                     AS returned,
                   avg(extract(epoch FROM d.at - sub.at) / 86400) AS mean_days,
                   percentile_cont(0.5) WITHIN GROUP (
                     ORDER BY extract(epoch FROM d.at - sub.at) / 86400) AS median_days,
                   max(extract(epoch FROM d.at - sub.at) / 86400) AS max_days
            FROM site_events d
            JOIN sites s ON s.id = d.site_id AND s.deleted_at IS NULL
            CROSS JOIN LATERAL (
              SELECT e.at FROM site_events e
              WHERE e.site_id = d.site_id AND e.action = 'transition'
                AND e.changes -> 'status' ->> 1 = 'awaiting_acceptance' AND e.at <= d.at
              ORDER BY e.at DESC, e.id DESC LIMIT 1) sub
            WHERE d.action = 'transition'
              AND d.changes -> 'status' ->> 0 = 'awaiting_acceptance'
              AND d.at >= (CAST(:since AS timestamp) AT TIME ZONE 'Asia/Shanghai')
            GROUP BY 1
            """
        ),
        {"since": wanted[0].isoformat()},
    ).mappings()
    found = {r["month"]: r for r in rows}
    out = []
    for first in wanted:
        key = f"{first:%Y-%m}"
        r = found.get(key)
        out.append(
            {
                "month": key,
                "decided": r["decided"] if r else 0,
                "closed": r["closed"] if r else 0,
                "returned": r["returned"] if r else 0,
                "mean_days": round(float(r["mean_days"]), 1) if r else None,
                "median_days": round(float(r["median_days"]), 1) if r else None,
                "max_days": round(float(r["max_days"]), 1) if r else None,
            }
        )
    return out
