"""The demo district's workflow history, so that its dashboard, trend and queues look alive.

For the generated sites it adds, deterministically from the seed: the status transitions that
brought each site to its status (dated between its registration and the reference day), step
plans for the sites being worked on, approved extension requests where the current deadline
differs from the committed one, a few pending ones, and the streets' monthly reports of the
last six months (most on time, some late, some missing). Everything is marked as demo data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.bulk_load import copy_dicts
from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.service import fill_status_since
from gis_app.features.plans.models import SiteStep
from gis_app.features.reporting import service as reports
from gis_app.features.reporting.models import MonthlyReport
from gis_app.features.streets.models import Street

ACTOR = "demo"
REASON = "示例数据"
REPORT_MONTHS = 6
_STEPS = {
    "demolish": ("拆除违建部分", "清运建筑垃圾", "恢复原状"),
    "rectify": ("制定整治方案", "规范外立面", "恢复原状"),
}
EVENT_COLUMNS = ("district_code", "site_id", "at", "actor", "action", "reason", "changes")
STEP_COLUMNS = (
    "district_code", "site_id", "position", "title", "due_date", "done_at", "done_by",
    "evidence_note", "created_by", "created_at",
)  # fmt: skip
_EXT_REASONS = (
    "相对人长期外出，需协调后实施",
    "涉及多户共用，需物业配合",
    "冬季施工条件受限",
    "纳入片区改造统一实施",
)


def _at(day: date, rng: np.random.Generator) -> datetime:
    """A working-hours moment of a local day, in UTC."""
    minutes = int(rng.integers(9 * 60, 17 * 60))
    return datetime.combine(day, time(minutes // 60, minutes % 60), clock.LOCAL_TZ).astimezone(UTC)


def _between(a: datetime, b: datetime, share: float) -> datetime:
    return a + (b - a) * share


def add_workflow_history(session: Session, seed: int, today: date) -> dict[str, int]:
    """Add the history of the sites made by the demo generator (created_by = 'demo')."""
    rng = np.random.default_rng(seed + 7919)
    ref_now = datetime.combine(today, time(8, 0), clock.LOCAL_TZ).astimezone(UTC)
    sites = session.execute(
        select(
            Site.id, Site.district_code, Site.status, Site.disposition, Site.created_at,
            Site.committed_deadline, Site.current_deadline,
        )
        .where(Site.created_by == ACTOR, Site.deleted_at.is_(None))
        .order_by(Site.id)
    ).all()  # fmt: skip
    history = _History()
    shares = rng.random((len(sites), 6))
    for i, site in enumerate(sites):
        share = shares[i]
        start = site.created_at + timedelta(hours=2)
        if start < ref_now:
            history.transitions(site, share, start, ref_now)
            history.approved_extension(site, share, start, ref_now, rng)
        history.step_plan(site, today, rng)
    history.pending_extensions(sites, today, ref_now, rng)
    copy_dicts(session, SiteEvent.__tablename__, EVENT_COLUMNS, history.events)
    fill_status_since(session)  # the back-dated transitions' times
    copy_dicts(session, SiteStep.__tablename__, STEP_COLUMNS, history.steps)
    if history.requests:
        session.execute(insert(ExtensionRequest), history.requests)
    session.flush()
    n_reports = _monthly_reports(session, rng, ref_now)
    return {
        "events": len(history.events),
        "steps": len(history.steps),
        "extension_requests": len(history.requests),
        "monthly_reports": n_reports,
    }


class _History:
    """The rows of the history as they are made: site events, plan steps, extension requests.
    The random draws happen site by site in a fixed order, so the seed decides them all."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []

    def event(
        self, site: Any, at: datetime, action: str, changes: dict, reason: str = REASON
    ) -> None:
        self.events.append(
            {
                "district_code": site.district_code, "site_id": site.id, "at": at,
                "actor": ACTOR, "action": action, "reason": reason, "changes": changes,
            }
        )  # fmt: skip

    def transitions(self, site: Any, share: np.ndarray, start: datetime, ref_now: datetime) -> None:
        """The status changes that brought a site worked on to its status."""
        if site.status not in ("in_progress", "awaiting_acceptance", "closed"):
            return
        t1 = _between(start, ref_now, 0.05 + 0.3 * share[0])
        self.event(site, t1, "transition", {"status": ["registered", "in_progress"]})
        if site.status in ("awaiting_acceptance", "closed"):
            t2 = _between(t1, ref_now, 0.2 + 0.6 * share[1])
            self.event(site, t2, "transition", {"status": ["in_progress", "awaiting_acceptance"]})
            if site.status == "closed":
                t3 = _between(t2, ref_now, 0.1 + 0.8 * share[2])
                self.event(site, t3, "transition", {"status": ["awaiting_acceptance", "closed"]})

    def approved_extension(
        self,
        site: Any,
        share: np.ndarray,
        start: datetime,
        ref_now: datetime,
        rng: np.random.Generator,
    ) -> None:
        """The approved request behind a current deadline other than the committed one."""
        if not (
            site.current_deadline
            and site.committed_deadline
            and site.current_deadline != site.committed_deadline
        ):
            return
        asked = _between(start, min(ref_now, _at(site.committed_deadline, rng)), share[3])
        decided = min(asked + timedelta(days=1 + int(7 * share[4])), ref_now)
        plan = [{"title": "恢复原状", "due_date": site.current_deadline.isoformat()}]
        reason = _EXT_REASONS[int(share[5] * len(_EXT_REASONS))]
        self.requests.append(
            {
                "district_code": site.district_code, "site_id": site.id,
                "old_deadline": site.committed_deadline, "new_deadline": site.current_deadline,
                "reason": reason, "plan": plan, "status": "approved", "requested_by": ACTOR,
                "requested_at": asked, "decided_by": ACTOR, "decided_at": decided,
                "decision_comment": "同意（示例数据）",
            }
        )  # fmt: skip
        self.event(site, asked, "extension_request",
                   {"extension": [None, {"new_deadline": site.current_deadline.isoformat()}]},
                   reason)  # fmt: skip
        self.event(site, decided, "extension_approved",
                   {"current_deadline": [site.committed_deadline.isoformat(),
                                         site.current_deadline.isoformat()]})  # fmt: skip

    def step_plan(self, site: Any, today: date, rng: np.random.Generator) -> None:
        """Three steps spread up to the deadline of a site in progress, the past ones done
        (but the last of an overdue site)."""
        if site.status != "in_progress" or not site.current_deadline:
            return
        first = site.created_at.astimezone(clock.LOCAL_TZ).date() + timedelta(days=7)
        last = site.current_deadline
        if first >= last:
            return
        titles = _STEPS.get(site.disposition, _STEPS["rectify"])
        span = (last - first).days
        dues = [first + timedelta(days=span // 3), first + timedelta(days=2 * span // 3),
                last]  # fmt: skip
        overdue = last < today
        for pos, (title, due) in enumerate(zip(titles, dues, strict=True), start=1):
            done = due < today and not (overdue and pos == len(titles))
            done_at = _at(due - timedelta(days=1), rng) if done else None
            self.steps.append(
                {
                    "district_code": site.district_code, "site_id": site.id,
                    "position": pos, "title": title, "due_date": due,
                    "done_at": done_at, "done_by": ACTOR if done else None,
                    "evidence_note": "已完成（示例数据）" if done else "",
                    "created_by": ACTOR, "created_at": site.created_at,
                }
            )  # fmt: skip

    def pending_extensions(
        self, sites: Sequence[Any], today: date, ref_now: datetime, rng: np.random.Generator
    ) -> None:
        """A few streets are behind on their approvals: pending requests of overdue sites (a
        pending request replaces the plan only when approved: their open steps go)."""
        overdue_open = [s for s in sites if s.status == "in_progress" and s.current_deadline
                        and s.current_deadline < today]  # fmt: skip
        for site in overdue_open[:: max(1, len(overdue_open) // 8 or 1)][:8]:
            new = today + timedelta(days=int(rng.integers(30, 91)))
            asked = ref_now - timedelta(days=int(rng.integers(1, 10)), hours=3)
            self.requests.append(
                {
                    "district_code": site.district_code, "site_id": site.id,
                    "old_deadline": site.current_deadline, "new_deadline": new,
                    "reason": _EXT_REASONS[int(rng.integers(0, len(_EXT_REASONS)))],
                    "plan": [{"title": "恢复原状", "due_date": new.isoformat()}],
                    "status": "pending", "requested_by": ACTOR, "requested_at": asked,
                    "decided_by": None, "decided_at": None, "decision_comment": "",
                }
            )  # fmt: skip
            self.event(site, asked, "extension_request",
                       {"extension": [None, {"new_deadline": new.isoformat()}]})  # fmt: skip
        pending = {r["site_id"] for r in self.requests if r["status"] == "pending"}
        self.steps = [
            s for s in self.steps if s["site_id"] not in pending or s["done_at"] is not None
        ]


def _monthly_reports(session: Session, rng: np.random.Generator, ref_now: datetime) -> int:
    """Reports of the last REPORT_MONTHS due months: ~75 % on time, ~15 % late, the rest
    missing; the figures as counted at the deadline."""
    streets = session.scalars(select(Street).order_by(Street.code)).all()
    months = reports.months_back(reports.last_due_month(ref_now), REPORT_MONTHS)
    rolls = rng.random((len(streets), len(months)))
    rows = []
    for m, month in enumerate(months):
        due = reports.due_at(month)
        figures = reports.figures_by_street(session, month, now=min(due, ref_now))
        for k, street in enumerate(streets):
            roll = rolls[k, m]
            if roll >= 0.9:
                continue  # missing
            if roll < 0.75:
                at = due - timedelta(days=int(roll * 6), hours=1 + int(roll * 40) % 7)
            else:
                at = due + timedelta(days=int(roll * 20) % 3, minutes=1 + int(roll * 9000) % 600)
            at = min(at, ref_now)
            rows.append(
                {
                    "district_code": street.district_code, "street_id": street.id,
                    "month": month, "figures": figures[street.id],
                    "narrative": f"{street.name}{reports.month_label(month)}工作情况（示例数据）",
                    "status": "submitted", "saved_by": ACTOR, "saved_at": at,
                    "submitted_by": ACTOR, "submitted_at": at,
                    "late": reports.is_late(month, at),
                }
            )  # fmt: skip
    if rows:
        session.execute(
            pg_insert(MonthlyReport)
            .values(rows)
            .on_conflict_do_nothing(constraint="uq_monthly_reports_street_month")
        )
    return len(rows)
