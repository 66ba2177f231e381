"""Reminders: sites that became overdue (recorded once as events), deadlines within a week,
monthly reports still due; `run_daily` is what `gis-app daily` runs from cron.

Idempotent per day: an overdue event is keyed by the site and the date that passed, so a
second run finds nothing new to record; the run itself is kept once per district and day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.queries import overdue_expr
from gis_app.features.plans.models import SiteStep
from gis_app.features.reporting import service as reports
from gis_app.features.reporting.models import DailyRun, MonthlyReport
from gis_app.features.streets.models import Street

SOON_DAYS = 7
#: the daily summary names at most this many newly overdue sites (all are events anyway)
MAX_LISTED = 200


def _late_since(today: date) -> Any:
    """Per site, the earliest date that has passed: its current deadline or an open step's."""
    step_due = (
        select(func.min(SiteStep.due_date))
        .where(
            SiteStep.site_id == Site.id,
            SiteStep.done_at.is_(None),
            SiteStep.due_date < literal(today),
        )
        .scalar_subquery()
    )
    deadline = func.nullif(
        func.least(
            func.coalesce(Site.current_deadline, literal(date.max)),
            func.coalesce(step_due, literal(date.max)),
        ),
        literal(date.max),
    )
    return deadline


def record_overdue(session: Session, district_code: str, today: date, actor: Actor) -> list[dict]:
    """An "overdue" event for each site overdue on `today` not yet recorded for that date."""
    due = _late_since(today).label("due")
    rows = session.execute(
        select(Site.id, Site.code, Street.code, due)
        .join(Street, Street.id == Site.street_id)
        .where(
            Site.deleted_at.is_(None),
            Site.district_code == district_code,
            overdue_expr(today),
        )
        .order_by(Site.id)
    ).all()
    if not rows:
        return []
    seen = set(
        session.execute(
            select(SiteEvent.site_id, SiteEvent.changes["due"][1].astext).where(
                SiteEvent.action == "overdue",
                SiteEvent.site_id.in_([r[0] for r in rows]),
            )
        ).all()
    )
    now = clock.now()
    recorded = []
    for site_id, code, street_code, due_date in rows:
        key = (site_id, due_date.isoformat())
        if key in seen:
            continue
        session.add(
            SiteEvent(
                district_code=district_code,
                site_id=site_id,
                at=now,
                actor=actor.name,
                action="overdue",
                reason=f"期限 {due_date} 已过，点位逾期",
                changes={"overdue": [False, True], "due": [None, due_date.isoformat()]},
            )
        )
        recorded.append(
            {"site_id": site_id, "code": code, "street_code": street_code, "due": str(due_date)}
        )
    session.flush()
    return recorded


def due_soon(session: Session, today: date, days: int = SOON_DAYS) -> list[dict]:
    """Open sites whose current deadline or an open step falls within `days` from today."""
    until = today + timedelta(days=days)
    out = [_due(r, "治理期限", today) for r in _deadlines_between(session, today, until)]
    out += [_due(r, f"步骤：{r[6]}", today) for r in _open_steps_between(session, today, until)]
    return sorted(out, key=lambda x: (x["date"], x["street_code"], x["code"]))


def _deadlines_between(session: Session, first: date, last: date) -> Sequence[Row[Any]]:
    """Open sites whose current deadline is in [first, last]: (id, code, address, street
    code, street name, deadline)."""
    return session.execute(
        select(Site.id, Site.code, Site.address, Street.code, Street.name, Site.current_deadline)
        .join(Street, Street.id == Site.street_id)
        .where(
            Site.deleted_at.is_(None),
            Site.status != "closed",
            Site.current_deadline >= first,
            Site.current_deadline <= last,
        )
    ).all()


def _open_steps_between(session: Session, first: date, last: date) -> Sequence[Row[Any]]:
    """Open steps of open sites due in [first, last], other than the last step (which is
    the deadline itself, listed once as such): (site id, code, address, street code, street
    name, due date, title)."""
    return session.execute(
        select(
            Site.id,
            Site.code,
            Site.address,
            Street.code,
            Street.name,
            SiteStep.due_date,
            SiteStep.title,
        )
        .join(Street, Street.id == Site.street_id)
        .join(SiteStep, SiteStep.site_id == Site.id)
        .where(
            Site.deleted_at.is_(None),
            Site.status != "closed",
            SiteStep.done_at.is_(None),
            SiteStep.due_date >= first,
            SiteStep.due_date <= last,
            SiteStep.due_date != func.coalesce(Site.current_deadline, literal(date.max)),
        )
    ).all()


def _due(row: Row[Any], what: str, today: date) -> dict[str, Any]:
    return {
        "site_id": row[0],
        "code": row[1],
        "address": row[2],
        "street_code": row[3],
        "street": row[4],
        "date": row[5].isoformat(),
        "what": what,
        "days_left": (row[5] - today).days,
    }


def reports_due(session: Session, now: datetime | None = None) -> list[dict]:
    """Per street, the reports not yet submitted: the current month's, and the last one due
    when it was missed."""
    moment = now or clock.now()
    months = {reports.current_month(moment), reports.last_due_month(moment)}
    streets = session.execute(select(Street.id, Street.code, Street.name).order_by(Street.code))
    submitted = set(
        session.execute(
            select(MonthlyReport.street_id, MonthlyReport.month).where(
                MonthlyReport.status == "submitted", MonthlyReport.month.in_(months)
            )
        ).all()
    )
    out = []
    for sid, code, name in streets:
        for month in sorted(months):
            if (sid, month) in submitted:
                continue
            deadline = reports.due_at(month)
            out.append(
                {
                    "street_code": code,
                    "street": name,
                    "month": f"{month:%Y-%m}",
                    "month_label": reports.month_label(month),
                    "due_at_local": clock.fmt_local(deadline),
                    "past_due": moment > deadline,
                }
            )
    return out


def by_street(items: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        grouped[item["street_code"]].append(item)
    return dict(grouped)


def run_daily(session: Session, district_code: str, today: date, actor: Actor) -> dict[str, Any]:
    """Record newly overdue sites, list what is due; one transaction, idempotent per day."""
    recorded = record_overdue(session, district_code, today, actor)
    soon = due_soon(session, today)
    moment = clock.now()
    if today != clock.today():  # a run for another day (--today): as seen at 09:00 that day
        moment = datetime.combine(today, time(9, 0), clock.LOCAL_TZ)
    due_reports = reports_due(session, moment)
    summary = {
        "day": today.isoformat(),
        "newly_overdue": len(recorded),
        "due_within_7_days": len(soon),
        "reports_due": len(due_reports),
        "overdue_sites": [r["code"] for r in recorded[:MAX_LISTED]],
        "overdue_sites_not_listed": max(0, len(recorded) - MAX_LISTED),
    }
    result = session.execute(
        insert(DailyRun)
        .values(
            district_code=district_code,
            day=today,
            ran_at=clock.now(),
            actor=actor.name,
            summary=summary,
        )
        .on_conflict_do_nothing(constraint="uq_daily_runs_district_day")
        .returning(DailyRun.id)
    ).first()
    if result is None and recorded:
        # ran already today, but something new became overdue since: keep the day's record whole
        run = session.scalar(
            select(DailyRun).where(
                and_(DailyRun.district_code == district_code, DailyRun.day == today)
            )
        )
        if run is not None:
            merged = dict(run.summary)
            merged["newly_overdue"] = merged.get("newly_overdue", 0) + len(recorded)
            merged["overdue_sites"] = [*merged.get("overdue_sites", []), *summary["overdue_sites"]]
            run.summary = merged
    session.flush()
    return {
        **summary,
        "first_run_today": result is not None,
        "recorded": recorded,
        "due_soon": soon,
        "reports": due_reports,
    }


def last_run(session: Session, district_code: str) -> DailyRun | None:
    return session.scalar(
        select(DailyRun)
        .where(DailyRun.district_code == district_code)
        .order_by(DailyRun.day.desc())
        .limit(1)
    )
