"""The demo district's workflow history agrees with its ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text

from gis_app.core import clock
from gis_app.demo.loader import load_demo
from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.queries import SiteFilter, counts_by_status
from gis_app.features.reporting import statistics
from gis_app.features.reporting.models import MonthlyReport

TODAY = date(2026, 6, 15)


def test_demo_history_is_consistent(db_session) -> None:
    load_demo(db_session, n_sites=400, seed=9, today=TODAY)
    closed = db_session.scalar(
        select(func.count()).select_from(Site).where(Site.status == "closed")
    )
    close_events = db_session.scalar(
        select(func.count(func.distinct(SiteEvent.site_id))).where(
            SiteEvent.action == "transition", SiteEvent.changes["status"][1].astext == "closed"
        )
    )
    assert close_events == closed > 0
    # each site's last transition ends in its status; every event lies before the reference day
    mismatched = db_session.execute(
        text(
            """
            SELECT count(*) FROM sites s
            JOIN LATERAL (SELECT changes->'status'->>1 AS dst FROM site_events e
                          WHERE e.site_id = s.id AND e.action = 'transition'
                          ORDER BY e.at DESC, e.id DESC LIMIT 1) last ON true
            WHERE last.dst <> s.status
            """
        )
    ).scalar_one()
    assert mismatched == 0
    latest = db_session.scalar(select(func.max(SiteEvent.at)))
    assert clock.to_local(latest).date() < TODAY
    # approved requests are exactly the sites whose deadline was moved
    moved = db_session.scalar(
        select(func.count())
        .select_from(Site)
        .where(Site.current_deadline != Site.committed_deadline)
    )
    approved = db_session.scalar(
        select(func.count())
        .select_from(ExtensionRequest)
        .where(ExtensionRequest.status == "approved")
    )
    assert approved == moved > 0
    pending = db_session.scalar(
        select(func.count())
        .select_from(ExtensionRequest)
        .where(ExtensionRequest.status == "pending")
    )
    assert 0 < pending <= 8
    # steps were added without making any site overdue that was not already
    # (the clock is stopped while the office has a site, 待验收; a site found on patrol is
    # overdue when not registered within 3 days)
    by_deadline = db_session.execute(
        text(
            "SELECT count(*) FROM sites WHERE "
            "(status NOT IN ('closed', 'awaiting_acceptance') AND current_deadline < :today) "
            "OR (status = 'new' AND (created_at AT TIME ZONE 'Asia/Shanghai')::date < :today - 3)"
        ),
        {"today": TODAY},
    ).scalar_one()
    assert counts_by_status(db_session, SiteFilter(), TODAY)["overdue"] == by_deadline
    # reports: some on time, some late, some missing
    states = dict(
        db_session.execute(
            select(MonthlyReport.late, func.count()).group_by(MonthlyReport.late)
        ).all()
    )
    assert states.get(False, 0) > states.get(True, 0) > 0
    assert sum(states.values()) < 12 * 6
    trend = statistics.monthly_trend(db_session, date(2026, 6, 1), 12)
    assert sum(r["closed"] for r in trend) > 0
