"""Statistics for the district office: per-street figures, ranking, lagging streets, trend.

All figures come from the ledger itself (sites, their events, the monthly reports), counted in
PostgreSQL; the dashboard, the ranking .xlsx and the API read the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, not_, select, text
from sqlalchemy.orm import Session

from gis_app.core import codes
from gis_app.core.actor import Actor
from gis_app.core.errors import NotFound
from gis_app.features.baseline.service import baseline_condition, target_progress
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import own_street
from gis_app.features.ledger.queries import closed_with_evidence, historical_pending, overdue_expr
from gis_app.features.plans.models import SiteStep
from gis_app.features.reporting import service as reports
from gis_app.features.reporting.schemas import parse_month
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import leader_dict, leaders_on

#: how many past report months the "reports on time" figure looks at
REPORT_MONTHS = 6
#: a street lags when its completion rate is this many points below the district's …
LAG_COMPLETION_POINTS = 10.0
#: … or its overdue share is this many times the district's (and at least LAG_MIN_OVERDUE) …
LAG_OVERDUE_FACTOR = 1.5
LAG_MIN_OVERDUE = 3
#: … or it is among the last LAG_BOTTOM of the ranking, or its last report is missing or late
LAG_BOTTOM = 3


def _num(value: Any) -> float:
    return float(value) if isinstance(value, Decimal | int | float) else 0.0


def street_stats(session: Session, today: date, street_code: str | None = None) -> list[dict]:
    """One row per street: counts by status and disposition, completion, overdue, areas,
    and its monthly reports of the last REPORT_MONTHS due months."""
    rows = _street_counts(session, today, street_code)
    last_due = reports.last_due_month()
    months = reports.months_back(last_due, REPORT_MONTHS)
    history = reports.street_history(session, [r["id"] for r in rows], months)
    leaders = leaders_on(session, today)
    targets = target_progress(session, today)
    out = []
    for r in rows:
        total = r["total"]
        states = history[r["id"]]
        on_time = sum(1 for m in months if states[m] == "on_time")
        out.append(
            {
                "id": r["id"],
                "code": r["code"],
                "name": r["name"],
                "total": total,
                "by_status": {s: r[s] for s in codes.STATUSES},
                "by_disposition": {d: r[f"disp_{d}"] for d in codes.DISPOSITIONS},
                "closed_by_disposition": {d: r[f"closed_{d}"] for d in codes.DISPOSITIONS},
                "closed": r["closed_evidence"],
                "historical_pending": r["historical_pending"],
                "first_responsible": leader_dict(leaders.get(r["id"])),
                "target": targets.get(r["id"]),
                "baseline": _baseline_figures(r),
                "additions": {
                    "total": r["additions"],
                    "closed": r["additions_closed"],
                    "patrol": r["additions_patrol"],
                    "late": r["additions"] - r["additions_patrol"],
                },
                "completion": r["closed_evidence"] / total if total else None,
                "overdue": r["overdue"],
                "overdue_share": r["overdue"] / total if total else None,
                "area_demolished": round(_num(r["area_demolished"]), 2),
                "area_rectified": round(_num(r["area_rectified"]), 2),
                "area_total": round(_num(r["area_total"]), 2),
                "reports": [{"month": f"{m:%Y-%m}", "state": states[m]} for m in months],
                "reports_on_time": on_time,
                "reports_due": len(months),
                "last_report_state": states[last_due],
                "last_report_month": f"{last_due:%Y-%m}",
            }
        )
    return out


def _street_counts(session: Session, today: date, street_code: str | None) -> Sequence[Any]:
    """Per street (or the one), in one grouped query: its sites by status, by disposition
    and closed by disposition, overdue on `today`, and the areas demolished, rectified and
    in all."""
    live = and_(Site.street_id == Street.id, Site.deleted_at.is_(None))
    closed = closed_with_evidence()  # a historical closure counts once its pair is accepted
    base = baseline_condition(session)
    columns = [
        Street.id,
        Street.code,
        Street.name,
        func.count(Site.id).label("total"),
        *[func.count(Site.id).filter(Site.status == s).label(s) for s in codes.STATUSES],
        *[
            func.count(Site.id).filter(Site.disposition == d).label(f"disp_{d}")
            for d in codes.DISPOSITIONS
        ],
        *[
            func.count(Site.id).filter(closed, Site.disposition == d).label(f"closed_{d}")
            for d in codes.DISPOSITIONS
        ],
        func.count(Site.id).filter(closed).label("closed_evidence"),
        func.count(Site.id).filter(base).label("baseline_total"),
        func.count(Site.id).filter(base, closed).label("baseline_closed"),
        func.count(Site.id).filter(base, overdue_expr(today)).label("baseline_overdue"),
        func.count(Site.id).filter(not_(base)).label("additions"),
        func.count(Site.id).filter(not_(base), closed).label("additions_closed"),
        func.count(Site.id).filter(not_(base), Site.source == "patrol").label("additions_patrol"),
        func.count(Site.id).filter(historical_pending()).label("historical_pending"),
        func.count(Site.id).filter(overdue_expr(today)).label("overdue"),
        func.coalesce(
            func.sum(Site.area_m2).filter(closed, Site.disposition == "demolish"), 0
        ).label("area_demolished"),
        func.coalesce(
            func.sum(Site.area_m2).filter(closed, Site.disposition == "rectify"), 0
        ).label("area_rectified"),
        func.coalesce(func.sum(Site.area_m2), 0).label("area_total"),
    ]
    query = select(*columns).select_from(Street).outerjoin(Site, live).group_by(Street.id)
    if street_code:
        query = query.where(Street.code == street_code)
    return session.execute(query.order_by(Street.code)).mappings().all()


def _baseline_figures(r: Any) -> dict[str, Any]:
    total = r["baseline_total"]
    return {
        "total": total,
        "closed": r["baseline_closed"],
        "progress": r["baseline_closed"] / total if total else None,
        "overdue": r["baseline_overdue"],
        "overdue_share": r["baseline_overdue"] / total if total else None,
    }


def district_totals(stats: list[dict]) -> dict[str, Any]:
    total = sum(s["total"] for s in stats)
    closed = sum(s["closed"] for s in stats)
    overdue = sum(s["overdue"] for s in stats)
    return {
        "total": total,
        "by_status": {c: sum(s["by_status"][c] for s in stats) for c in codes.STATUSES},
        "by_disposition": {
            d: sum(s["by_disposition"][d] for s in stats) for d in codes.DISPOSITIONS
        },
        "closed": closed,
        "completion": closed / total if total else None,
        "overdue": overdue,
        "overdue_share": overdue / total if total else None,
        "area_demolished": round(sum(s["area_demolished"] for s in stats), 2),
        "area_rectified": round(sum(s["area_rectified"] for s in stats), 2),
        "baseline": _baseline_figures(
            {
                "baseline_total": sum(s["baseline"]["total"] for s in stats),
                "baseline_closed": sum(s["baseline"]["closed"] for s in stats),
                "baseline_overdue": sum(s["baseline"]["overdue"] for s in stats),
            }
        ),
        "additions": {
            k: sum(s["additions"][k] for s in stats) for k in ("total", "closed", "patrol", "late")
        },
        "reports_on_time": sum(s["reports_on_time"] for s in stats),
        "reports_due": sum(s["reports_due"] for s in stats),
    }


#: the ranking's measure in plain words (shown on the ranking page and in its export)
RANKING_MEASURE = (
    "排名按基数台帐的完成率（基数点位中已销账的比例）从高到低；完成率相同时，"
    "基数点位逾期比例低者在前；再相同时，新增点位（巡查发现、补录）销账多者在前。"
    "新增点位不计入完成率的分母：多发现、早处置只会让街道排名靠前，不会靠后。"
)


def ranking(stats: list[dict]) -> list[dict]:
    """Streets with sites, best first: progress against the baseline, then fewer overdue
    among the baseline's sites, then more additions closed (finding more never ranks a street
    down), then code."""
    ranked = sorted(
        (s for s in stats if s["total"]),
        key=lambda s: (
            -(s["baseline"]["progress"] or 0),
            s["baseline"]["overdue_share"] or 0,
            -s["additions"]["closed"],
            s["code"],
        ),
    )
    return [{**s, "rank": i} for i, s in enumerate(ranked, start=1)]


def lagging(stats: list[dict]) -> list[dict]:
    """The streets to name at the leadership meeting (通报), each with its reasons."""
    ranked = ranking(stats)
    totals = district_totals(stats)
    avg_completion = (totals["baseline"]["progress"] or 0) * 100
    avg_overdue = totals["baseline"]["overdue_share"] or 0
    n = len(ranked)
    out = []
    for s in ranked:
        reasons = []
        base = s["baseline"]
        completion = (base["progress"] or 0) * 100
        if completion < avg_completion - LAG_COMPLETION_POINTS:
            reasons.append(f"基数完成率 {completion:.1f}%，低于全区 {avg_completion:.1f}%")
        if (
            base["overdue"] >= LAG_MIN_OVERDUE
            and (base["overdue_share"] or 0) >= avg_overdue * LAG_OVERDUE_FACTOR
        ):
            reasons.append(
                f"基数点位逾期 {base['overdue']} 个（占 {(base['overdue_share'] or 0) * 100:.1f}%，"
                f"全区 {avg_overdue * 100:.1f}%）"
            )
        target = s.get("target")
        if target and target["behind"]:
            reasons.append(
                f"落后于阶段目标（{target['due']} 前完成{target['scope_label']} "
                f"{target['target']} 个）：截至今天应完成 {target['expected_by_today']} 个，"
                f"实际 {target['achieved']} 个"
            )
        if n > LAG_BOTTOM and s["rank"] > n - LAG_BOTTOM:
            reasons.append(f"排名第 {s['rank']} / {n}")
        month = parse_month(s["last_report_month"])
        if s["last_report_state"] in ("missing", "draft"):
            reasons.append(f"{reports.month_label(month)}月报未报送")
        elif s["last_report_state"] == "late":
            reasons.append(f"{reports.month_label(month)}月报逾期报送")
        if reasons:
            out.append({**s, "reasons": reasons})
    return out


def monthly_trend(
    session: Session, last_month: date, months: int = 12, street_code: str | None = None
) -> list[dict[str, Any]]:
    """Per calendar month (Asia/Shanghai): sites registered, started, sent to acceptance,
    closed and reopened, counted from the sites and their events."""
    first = reports.months_back(last_month, months)[0]
    params: dict[str, Any] = {
        "first": first,
        "last": last_month,
        "street": street_code,
    }
    rows = session.execute(
        text(
            """
            WITH m AS (
              SELECT generate_series(CAST(:first AS date), CAST(:last AS date),
                                     interval '1 month')::date AS month
            ),
            s AS (
              SELECT s.id, s.created_at FROM sites s JOIN streets t ON t.id = s.street_id
              WHERE s.deleted_at IS NULL AND (CAST(:street AS text) IS NULL OR t.code = :street)
            ),
            ev AS (
              SELECT date_trunc('month', e.at AT TIME ZONE 'Asia/Shanghai')::date AS month,
                     e.action, e.changes -> 'status' ->> 0 AS src,
                     e.changes -> 'status' ->> 1 AS dst
              FROM site_events e JOIN s ON s.id = e.site_id
              WHERE e.action IN ('transition', 'reopen')
            )
            SELECT m.month,
              (SELECT count(*) FROM s
                WHERE date_trunc('month', s.created_at AT TIME ZONE 'Asia/Shanghai')::date
                      = m.month) AS registered,
              count(ev.*) FILTER (WHERE ev.action = 'transition' AND ev.dst = 'in_progress'
                                  AND ev.src IN ('new', 'registered')) AS started,
              count(ev.*) FILTER (WHERE ev.dst = 'awaiting_acceptance') AS sent_to_acceptance,
              count(ev.*) FILTER (WHERE ev.dst = 'closed') AS closed,
              count(ev.*) FILTER (WHERE ev.action = 'reopen') AS reopened
            FROM m LEFT JOIN ev ON ev.month = m.month
            GROUP BY m.month ORDER BY m.month
            """
        ),
        params,
    ).mappings()
    return [{**dict(r), "month": f"{r['month']:%Y-%m}"} for r in rows]


def street_for(actor: Actor, requested: str | None) -> str | None:
    """The street whose figures `actor` may read: a street role only its own (asking for
    another is a 404), everyone else what they asked for (None: the whole district)."""
    own = own_street(actor)
    if own is None:
        return requested
    if requested and requested != own:
        raise NotFound(f"没有代码为 {requested} 的街道", "street")
    return own


def overdue_sites(session: Session, street_id: int, today: date) -> list[Any]:
    """A street's overdue sites (id, code, address, status, current deadline), the most
    overdue first (at most 200)."""
    return list(
        session.execute(
            select(Site.id, Site.code, Site.address, Site.status, Site.current_deadline)
            .where(Site.street_id == street_id, Site.deleted_at.is_(None), overdue_expr(today))
            .order_by(Site.current_deadline, Site.code)
            .limit(200)
        ).all()
    )


def street_plan(session: Session, street_id: int, today: date) -> list[dict[str, Any]]:
    """Every step of every open site of a street: the street's plan at a glance, each site
    with its steps (late ones marked) in the order of its current deadline."""
    rows = session.execute(
        select(Site.id, Site.code, Site.address, Site.status, Site.current_deadline, SiteStep)
        .join(SiteStep, SiteStep.site_id == Site.id)
        .where(Site.street_id == street_id, Site.deleted_at.is_(None), Site.status != "closed")
        .order_by(Site.current_deadline.nulls_last(), Site.code, SiteStep.position)
    ).all()
    sites: dict[int, dict[str, Any]] = {}
    for site_id, site_code, address, status, deadline, step in rows:
        entry = sites.setdefault(
            site_id,
            {
                "id": site_id,
                "code": site_code,
                "address": address,
                "status": status,
                "deadline": deadline,
                "steps": [],
                "late": False,
            },
        )
        late = step.done_at is None and step.due_date < today
        entry["late"] = entry["late"] or late
        entry["steps"].append({"step": step, "late": late})
    return list(sites.values())


def beyond_campaign(session: Session, end: date | None) -> list[dict[str, Any]]:
    """Open sites whose current deadline lies beyond the campaign's end (none when no campaign
    runs), latest deadline first."""
    if end is None:
        return []
    rows = session.execute(
        select(Site.id, Site.code, Site.address, Street.code, Street.name, Site.current_deadline)
        .join(Street, Street.id == Site.street_id)
        .where(Site.deleted_at.is_(None), Site.status != "closed", Site.current_deadline > end)
        .order_by(Site.current_deadline.desc(), Site.code)
    ).all()
    return [
        {
            "id": r[0],
            "code": r[1],
            "address": r[2],
            "street_code": r[3],
            "street_name": r[4],
            "current_deadline": r[5].isoformat(),
            "days_beyond": (r[5] - end).days,
        }
        for r in rows
    ]
