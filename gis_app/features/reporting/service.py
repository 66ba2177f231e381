"""Monthly progress reports (月报): per street per month, due the 25th at 17:00 Asia/Shanghai.

The report of month M covers the statistical period from the due time of the month before to
the due time of M (上月25日17:00至本月25日17:00, Asia/Shanghai), whenever it is submitted, so that
no moment falls between two reports; it is due on M-25 at 17:00:00 local time: a report
submitted at 17:00:00 is on time, at 17:00:01 late (the time is taken to the second, as a person
reads it on a clock). The system drafts the figures from the data; the street adds a narrative
and submits; the figures as submitted are kept, and a report submitted early is completed by
the figures up to the due time once it has passed (both are shown).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, NotFound
from gis_app.features.baseline.service import target_progress
from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import own_street, require_street_actor, sees_street
from gis_app.features.ledger.queries import overdue_expr
from gis_app.features.reporting.models import MonthlyReport
from gis_app.features.reporting.schemas import clean_narrative
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import get_street, leader_dict, leaders_on

DUE_DAY = 25
DUE_TIME = time(17, 0, 0)

FIGURE_LABELS: dict[str, str] = {
    "registered": "本期新建档点位",
    "started": "本期开始治理",
    "sent_to_acceptance": "本期提请验收",
    "closed": "本期销账",
    "reopened": "本期重新打开",
    "extensions_requested": "本期申请延期",
    "extensions_granted": "本期批准延期",
    "overdue": "截至统计时逾期点位",
    "total": "点位总数",
    "closed_total": "累计销账",
}


def month_label(month: date) -> str:
    return f"{month.year}年{month.month}月"


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def period(month: date) -> tuple[date, date]:
    """The days the statistical period of `month` runs between: from the 25th of the month
    before at 17:00 to the 25th at 17:00 (period_bounds gives the instants)."""
    return previous_month(month).replace(day=DUE_DAY), month.replace(day=DUE_DAY)


def period_bounds(month: date) -> tuple[datetime, datetime]:
    """The statistical period of the report of `month` as instants [start, end): the due time
    of the month before to the due time of `month`."""
    return due_at(previous_month(month)), due_at(month)


def due_at(month: date) -> datetime:
    """The deadline of the report of `month` (aware, UTC): the 25th, 17:00 Asia/Shanghai."""
    return datetime.combine(month.replace(day=DUE_DAY), DUE_TIME, clock.LOCAL_TZ).astimezone(UTC)


def is_late(month: date, submitted_at: datetime) -> bool:
    """Late when submitted after 17:00:00 local on the 25th, counting whole seconds."""
    return submitted_at.replace(microsecond=0) > due_at(month)


def current_month(now: datetime | None = None) -> date:
    """The month whose report is being filled now (after the 25th: the next month's)."""
    local = clock.to_local(now or clock.now())
    first = local.date().replace(day=1)
    return next_month(first) if local.date().day > DUE_DAY else first


def last_due_month(now: datetime | None = None) -> date:
    """The latest month whose report deadline has passed."""
    moment = now or clock.now()
    month = current_month(moment)
    return month if due_at(month) < moment else previous_month(month)


def _window(month: date, now: datetime) -> tuple[datetime, datetime]:
    lo, hi = period_bounds(month)
    return lo, min(hi, now)


def draft_figures(
    session: Session, street: Street, month: date, now: datetime | None = None
) -> dict[str, Any]:
    """The figures of a street's report, counted from the data over the month's period
    (up to `now`, default the present)."""
    return figures_by_street(session, month, now, street.id)[street.id]


def figures_by_street(
    session: Session, month: date, now: datetime | None = None, street_id: int | None = None
) -> dict[int, dict[str, Any]]:
    """The report figures of every street (or one) for `month`, in three grouped queries."""
    now = now or clock.now()
    lo, hi = _window(month, now)
    live = [Site.deleted_at.is_(None)]
    if street_id is not None:
        live.append(Site.street_id == street_id)
    moves = _moves_by_street(session, live, lo, hi)
    exts = _extensions_by_street(session, live, lo, hi)
    today = clock.to_local(hi).date() if hi < now else clock.to_local(now).date()
    totals = _totals_by_street(session, live, lo, hi, today)
    ids = [street_id] if street_id is not None else list(session.scalars(select(Street.id)))
    start, end = period(month)
    out: dict[int, dict[str, Any]] = {}
    for sid in ids:
        m = moves.get(sid, [0, 0, 0, 0])
        e = exts.get(sid, [0, 0])
        t = totals.get(sid, [0, 0, 0, 0])
        out[sid] = {
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "counted_until": hi.isoformat(),
            "registered": t[3],
            "started": m[0],
            "sent_to_acceptance": m[1],
            "closed": m[2],
            "reopened": m[3],
            "extensions_requested": e[0],
            "extensions_granted": e[1],
            "overdue": t[2],
            "total": t[0],
            "closed_total": t[1],
        }
    return out


def _moves_by_street(
    session: Session, live: list[Any], lo: datetime, hi: datetime
) -> dict[int, list[int]]:
    """Per street, the sites that in [lo, hi) started, went to acceptance, were closed,
    were reopened (each site counted once per figure)."""
    status = SiteEvent.changes["status"]
    transition = SiteEvent.action == "transition"

    def distinct_sites(*conds: Any) -> Any:
        return func.count(func.distinct(SiteEvent.site_id)).filter(*conds)

    return {
        sid: row
        for sid, *row in session.execute(
            select(
                Site.street_id,
                distinct_sites(
                    transition,
                    status[1].astext == "in_progress",
                    status[0].astext.in_(("new", "registered")),
                ),
                distinct_sites(transition, status[1].astext == "awaiting_acceptance"),
                distinct_sites(transition, status[1].astext == "closed"),
                distinct_sites(SiteEvent.action == "reopen"),
            )
            .join(Site, Site.id == SiteEvent.site_id)
            .where(*live, SiteEvent.at >= lo, SiteEvent.at < hi)
            .group_by(Site.street_id)
        )
    }


def _extensions_by_street(
    session: Session, live: list[Any], lo: datetime, hi: datetime
) -> dict[int, list[int]]:
    """Per street, the extension requests asked and granted in [lo, hi)."""
    asked_in = and_(ExtensionRequest.requested_at >= lo, ExtensionRequest.requested_at < hi)
    granted_in = and_(
        ExtensionRequest.status == "approved",
        ExtensionRequest.decided_at >= lo,
        ExtensionRequest.decided_at < hi,
    )
    return {
        sid: row
        for sid, *row in session.execute(
            select(Site.street_id, func.count().filter(asked_in), func.count().filter(granted_in))
            .join(Site, Site.id == ExtensionRequest.site_id)
            .where(*live, or_(asked_in, granted_in))
            .group_by(Site.street_id)
        )
    }


def _totals_by_street(
    session: Session, live: list[Any], lo: datetime, hi: datetime, today: date
) -> dict[int, list[int]]:
    """Per street, the sites: all, closed, overdue on `today`, registered in [lo, hi)."""
    return {
        sid: row
        for sid, *row in session.execute(
            select(
                Site.street_id,
                func.count(),
                func.count().filter(Site.status == "closed"),
                func.count().filter(overdue_expr(today)),
                func.count().filter(Site.created_at >= lo, Site.created_at < hi),
            )
            .where(*live)
            .group_by(Site.street_id)
        )
    }


def get_report(session: Session, street: Street, month: date) -> MonthlyReport | None:
    return session.scalar(
        select(MonthlyReport).where(
            MonthlyReport.street_id == street.id, MonthlyReport.month == month
        )
    )


def report_view(
    session: Session, street_code: str, month: date, actor: Actor | None = None
) -> dict[str, Any]:
    """The stored report, or a fresh draft from the data; with its period and deadline.
    With `actor`: the district's, or the street's own (another street's is a 404)."""
    street = get_street(session, street_code)
    if actor is not None and not sees_street(actor, street.code):
        raise NotFound(f"没有代码为 {street_code} 的街道", "code")
    report = get_report(session, street, month)
    submitted = report is not None and report.status == "submitted"
    deadline = due_at(month)
    # the period's figures up to the due time (up to now before it); the figures as submitted
    # are kept beside them: an early report is completed by what happened until the due time
    figures = draft_figures(session, street, month)
    at_submission = report.figures if submitted and report else None
    if submitted and report and clock.now() < deadline:
        figures = report.figures
    early = bool(submitted and report and report.submitted_at and report.submitted_at < deadline)
    start, end = period(month)
    leader = leaders_on(session, min(end, clock.today())).get(street.id)
    return {
        "street_code": street.code,
        "street": street.name,
        "first_responsible": leader_dict(leader),
        "target": target_progress(session, clock.today()).get(street.id),
        "month": f"{month.year:04d}-{month.month:02d}",
        "month_label": month_label(month),
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "due_at": deadline.isoformat(),
        "due_at_local": clock.fmt_local(deadline, with_seconds=True),
        "status": report.status if report else "missing",
        "narrative": report.narrative if report else "",
        "figures": figures,
        "figures_at_submission": at_submission,
        "completed_after_submission": early and clock.now() >= deadline,
        "saved_by": report.saved_by if report else None,
        "saved_at_local": clock.fmt_local(report.saved_at) if report else "",
        "submitted_by": report.submitted_by if report else None,
        "submitted_at": report.submitted_at.isoformat() if report and report.submitted_at else None,
        "submitted_at_local": clock.fmt_local(report.submitted_at, with_seconds=True)
        if report and report.submitted_at
        else "",
        "late": report.late if report else None,
        "overdue_now": not submitted and clock.now() > deadline,
    }


def save_report(
    session: Session,
    street_code: str,
    month: date,
    actor: Actor,
    narrative: Any,
    submit: bool = False,
) -> MonthlyReport:
    """Save the street's draft, or submit it (figures frozen, late marked). One transaction."""
    text = clean_narrative(narrative, submit)
    street = get_street(session, street_code)
    require_street_actor(actor, street.code, "填报月报", district_allowed=False)
    now = clock.now()
    start, _end = period_bounds(month)
    if now < start:
        raise Conflict(
            f"{month_label(month)}月报的统计周期从 {clock.fmt_local(start)} 开始，尚不能填报",
            "month",
        )
    report = session.scalar(
        select(MonthlyReport)
        .where(MonthlyReport.street_id == street.id, MonthlyReport.month == month)
        .with_for_update()
    )
    if report is not None and report.status == "submitted":
        raise Conflict(
            f"{street.name}{month_label(month)}月报已于 "
            f"{clock.fmt_local(report.submitted_at, with_seconds=True)} 报送，不能再修改",
            "month",
        )
    if report is None:
        report = MonthlyReport(
            district_code=street.district_code,
            street_id=street.id,
            month=month,
            status="draft",
        )
        session.add(report)
    report.narrative = text
    report.saved_by = actor.name
    report.saved_at = now
    report.figures = draft_figures(session, street, month)
    if submit:
        report.status = "submitted"
        report.submitted_by = actor.name
        report.submitted_at = now
        report.late = is_late(month, now)
    session.flush()
    return report


def overview(session: Session, month: date, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Every street's report of `month`: submitted on time, late, draft or missing (a street
    role: its own)."""
    query = select(Street, MonthlyReport).outerjoin(
        MonthlyReport,
        (MonthlyReport.street_id == Street.id) & (MonthlyReport.month == literal(month)),
    )
    own = own_street(actor) if actor is not None else None
    if own:
        query = query.where(Street.code == own)
    rows = session.execute(query.order_by(Street.code)).all()
    deadline = due_at(month)
    past_due = clock.now() > deadline
    out = []
    for street, report in rows:
        state = "missing"
        if report is not None:
            state = report.status
            if report.status == "submitted":
                state = "late" if report.late else "on_time"
        out.append(
            {
                "street_code": street.code,
                "street": street.name,
                "state": state,
                "state_label": REPORT_STATE_LABELS[state]
                if state != "missing" or past_due
                else "尚未报送",
                "submitted_at_local": clock.fmt_local(report.submitted_at, with_seconds=True)
                if report and report.submitted_at
                else "",
                "submitted_by": report.submitted_by if report else None,
                "figures": (
                    _complete(session, street, month, report.figures)
                    if report and report.status == "submitted"
                    else None
                ),
                "past_due": past_due,
            }
        )
    return out


def _complete(
    session: Session, street: Street, month: date, submitted: dict[str, Any]
) -> dict[str, Any]:
    """A submitted report's figures: once the due time has passed, those of the whole period."""
    if clock.now() < due_at(month):
        return submitted
    return draft_figures(session, street, month)


REPORT_STATE_LABELS = {
    "on_time": "按时报送",
    "late": "逾期报送",
    "draft": "草稿未报送",
    "missing": "未报送",
}


def street_history(
    session: Session, street_ids: list[int], months: list[date]
) -> dict[int, dict[date, str]]:
    """State of each street's report for each month (on_time / late / draft / missing)."""
    found = session.execute(
        select(
            MonthlyReport.street_id, MonthlyReport.month, MonthlyReport.status, MonthlyReport.late
        ).where(MonthlyReport.street_id.in_(street_ids), MonthlyReport.month.in_(months))
    ).all()
    out: dict[int, dict[date, str]] = {sid: dict.fromkeys(months, "missing") for sid in street_ids}
    for sid, month, status, late in found:
        out[sid][month] = ("late" if late else "on_time") if status == "submitted" else "draft"
    return out


def months_back(last: date, count: int) -> list[date]:
    """`count` months ending with `last`, oldest first."""
    months = [last]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return list(reversed(months))


def street_standing(session: Session, today: date) -> list[dict[str, Any]]:
    """Every street's figures (statistics.street_stats) with its `rank` among the streets
    with sites (None without), `ranked` (how many are ranked) and its lagging `reasons`
    (empty: not lagging): what a 通报 names and freezes (the oversight feature)."""
    from gis_app.features.reporting import statistics  # it imports this module

    stats = statistics.street_stats(session, today)
    ranks = {s["code"]: s["rank"] for s in statistics.ranking(stats)}
    reasons = {s["code"]: s["reasons"] for s in statistics.lagging(stats)}
    return [
        {
            **s,
            "rank": ranks.get(s["code"]),
            "ranked": len(ranks),
            "reasons": reasons.get(s["code"], []),
        }
        for s in stats
    ]
