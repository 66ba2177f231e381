"""What awaits a user now (待办), by role, each item with the page it links to.

- the district office: extension requests to decide, sites waiting for acceptance (验收; the
  oldest first, with the days waited), monthly reports missing after their due time, streets'
  replies to a 通报 not in yet;
- a street officer: deadlines and plan steps in the next `days` days, overdue sites, requests
  returned (rejected) in the last RETURNED_DAYS days, 新发现 to register, the month's report,
  通报 to answer;
- an inspector: today's patrols of its street, its assigned spot checks not yet checked;
- the housing bureau: renovation sites' 规范治理 plans waiting for its review (the longest
  waiting first), renovation sites without their works recorded as done; a street officer also
  sees its plans the bureau returned;
- the police: support requests to answer, accepted ones without their outcome;
- and for everyone concerned, 专项督查 corrections and 例会 tasks (see oversight).

Items are plain dicts: `group` (its heading), `text`, `endpoint` and `args` (the page, built
by the web layer), `date` and `days` (where it has them) and `alert` (overdue or late).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.features.bureaus import service as bureaus
from gis_app.features.bureaus.models import RenovationWork
from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import site_scope
from gis_app.features.ledger.queries import overdue_expr
from gis_app.features.oversight import service as notices
from gis_app.features.patrol.models import Patrol
from gis_app.features.plans.models import SiteStep
from gis_app.features.reporting import service as reports
from gis_app.features.reporting.models import MonthlyReport
from gis_app.features.sampling.models import SampleSite
from gis_app.features.sampling.service import my_pool_ids
from gis_app.features.streets.models import Street

#: how far ahead a street's deadlines and step dates are listed (days)
SOON_DAYS = 7
#: how long a rejected request stays on the street's list (days)
RETURNED_DAYS = 30
#: at most this many items per group (the page says how many more there are)
GROUP_LIMIT = 50


def _item(
    group: str,
    text: str,
    endpoint: str,
    args: dict[str, Any] | None = None,
    when: date | None = None,
    days: int | None = None,
    alert: bool = False,
) -> dict[str, Any]:
    return {
        "group": group,
        "text": text,
        "endpoint": endpoint,
        "args": args or {},
        "date": when.isoformat() if when else None,
        "days": days,
        "alert": alert,
    }


def items_for(session: Session, actor: Actor, days: int = SOON_DAYS) -> list[dict[str, Any]]:
    """The actor's to-do items, grouped in a fixed order."""
    today = clock.today()
    if actor.is_district:
        return [
            *_pending_requests(session, actor),
            *_awaiting_acceptance(session, actor, today),
            *_missing_reports(session),
            *_notice_replies(session, actor, today),
            *_corrections(session, actor, today),
            *_tasks(session, actor, today),
        ]
    if actor.role == "street_officer" and actor.street_code:
        return [
            *_due_soon(session, actor, today, days),
            *_overdue(session, actor, today),
            *_returned_requests(session, actor),
            *_renovation_plans(session, actor, "returned"),
            *_new_sites(session, actor),
            *_own_report(session, actor),
            *_notice_replies(session, actor, today),
            *_corrections(session, actor, today),
            *_tasks(session, actor, today),
        ]
    if actor.role == "inspector" and actor.street_code:
        return [*_patrols_today(session, actor, today), *_spot_checks(session, actor)]
    if actor.role == "bureau_housing":
        return [
            *_renovation_plans(session, actor, "submitted"),
            *_renovation_works(session),
            *_tasks(session, actor, today),
        ]
    if actor.role == "bureau_police":
        return [*_police(session, actor), *_tasks(session, actor, today)]
    if actor.role == "bureau_civil":
        return _tasks(session, actor, today)
    return []


def _sites(actor: Actor) -> list[Any]:
    return [Site.deleted_at.is_(None), *site_scope(actor)]


def _pending_requests(session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ExtensionRequest, Site.code)
        .join(Site, Site.id == ExtensionRequest.site_id)
        .where(ExtensionRequest.status == "pending", *_sites(actor))
        .order_by(ExtensionRequest.requested_at)
        .limit(GROUP_LIMIT)
    ).all()
    return [
        _item(
            "延期申请待审批",
            f"{code} 申请延至 {req.new_deadline}（{req.requested_by}）",
            "workflow.site_page",
            {"site_id": req.site_id},
            clock.to_local(req.requested_at).date(),
        )
        for req, code in rows
    ]


def _awaiting_acceptance(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """Sites waiting for acceptance, the longest waiting first, with the days waited."""
    # when it entered the status (migration 0212; None: unknown, first as it may be oldest)
    since = Site.status_since
    rows = session.execute(
        select(Site.id, Site.code, Street.name, since.label("since"))
        .join(Street, Street.id == Site.street_id)
        .where(Site.status == "awaiting_acceptance", *_sites(actor))
        .order_by(since.asc().nulls_first(), Site.code)
        .limit(GROUP_LIMIT)
    ).all()
    out = []
    for site_id, code, street, at in rows:
        day = clock.to_local(at).date() if at else None
        waited = max(0, (today - day).days) if day else None
        out.append(
            _item(
                "待验收",
                f"{code}（{street}）已等待 {waited if waited is not None else '?'} 天",
                "workflow.site_page",
                {"site_id": site_id},
                day,
                waited,
                alert=bool(waited and waited > SOON_DAYS),
            )
        )
    return out


def _report_missing(session: Session, street_ids: list[int], month: date) -> set[int]:
    submitted = set(
        session.scalars(
            select(MonthlyReport.street_id).where(
                MonthlyReport.month == month,
                MonthlyReport.status == "submitted",
                MonthlyReport.street_id.in_(street_ids),
            )
        )
    )
    return {s for s in street_ids if s not in submitted}


def _missing_reports(session: Session) -> list[dict[str, Any]]:
    """Streets (with sites) whose report of the last due month is not submitted."""
    month = reports.last_due_month()
    streets = session.execute(
        select(Street.id, Street.code, Street.name)
        # a live site, by ix_sites_street_status: without deleted_at the planner hashed every
        # site of a city (1.2 s at a million, on every page's to-do list; 8 ms this way)
        .where(
            select(Site.id)
            .where(Site.street_id == Street.id, Site.deleted_at.is_(None))
            .limit(1)
            .exists()
        )
        .order_by(Street.code)
    ).all()
    missing = _report_missing(session, [s[0] for s in streets], month)
    return [
        _item(
            "月报逾期未报送",
            f"{name} {reports.month_label(month)}月报（截止 "
            f"{clock.fmt_local(reports.due_at(month))}）",
            "dashboard.report_form",
            {"code": code, "month_text": f"{month:%Y-%m}"},
            month,
            alert=True,
        )
        for sid, code, name in streets
        if sid in missing
    ]


def _notice_replies(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    group = "通报待回复整改措施" if not actor.is_district else "通报回复未到"
    out = []
    for row in notices.awaiting_replies(session, actor):
        due = date.fromisoformat(row["reply_due"])
        who = "" if not actor.is_district else f"{row['street']} · "
        out.append(
            _item(
                group,
                f"{who}{row['number']}（回复期限 {due}，{row['reply_state_label']}）",
                "oversight.notice_page",
                {"notice_id": row["id"]},
                due,
                (due - today).days,
                alert=row["reply_state"] == "overdue",
            )
        )
    return out


def _corrections(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """专项督查 corrections: the street's open ones; the office's answered ones to review and
    open ones past their due date."""
    out = []
    for f in notices.open_corrections(session, actor):
        due = date.fromisoformat(f["due_date"])
        if actor.is_district:
            if f["status"] == "answered":
                group = "督查整改待审核"
            elif f["overdue"]:
                group = "督查整改逾期未答复"
            else:
                continue
        elif f["status"] == "open":
            group = "督查整改待答复"
        else:
            continue
        who = f"{f['street']} · " if actor.is_district else ""
        out.append(
            _item(
                group,
                f"{who}{f['site_code']}：{f['correction']}（期限 {due}）",
                "oversight.inspection_page",
                {"inspection_id": f["inspection_id"]},
                due,
                (due - today).days,
                alert=f["overdue"],
            )
        )
    return sorted(out, key=lambda i: (i["group"], i["date"]))


def _police(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """公安: the support requests to answer, and the accepted ones without their outcome."""
    groups = {"requested": "协助申请待受理", "accepted": "协助待记录处置结果"}
    return [
        _item(
            groups[r["status"]],
            f"{r['street']} {r['site_code']} {r['wanted_on']}：{r['reason']}",
            "bureau.police_requests",
            {},
            date.fromisoformat(r["wanted_on"]),
        )
        for status in groups
        for r in bureaus.police_requests(session, actor, status)
    ]


def _tasks(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """例会 tasks: the owner's open ones; for the office, the open ones past due."""
    out = []
    for t in notices.meeting_tasks(session, actor, open_only=True):
        if actor.is_district and not t["overdue"]:
            continue
        due = date.fromisoformat(t["due_date"])
        who = f"{t['owner']} · " if actor.is_district else ""
        out.append(
            _item(
                "例会任务逾期" if actor.is_district else "例会任务",
                f"{who}{t['task']}（{t['meeting']}，期限 {due}）",
                "oversight.task_list",
                {},
                due,
                (due - today).days,
                alert=t["overdue"],
            )
        )
    return out


def _due_soon(session: Session, actor: Actor, today: date, days: int) -> list[dict[str, Any]]:
    last = today + timedelta(days=days)
    deadlines = session.execute(
        select(Site.id, Site.code, Site.current_deadline)
        .where(
            *_sites(actor),
            Site.status != "closed",
            Site.current_deadline.between(today, last),
        )
        .order_by(Site.current_deadline, Site.code)
        .limit(GROUP_LIMIT)
    ).all()
    steps = session.execute(
        select(Site.id, Site.code, SiteStep.title, SiteStep.due_date)
        .join(SiteStep, SiteStep.site_id == Site.id)
        .where(
            *_sites(actor),
            Site.status != "closed",
            SiteStep.done_at.is_(None),
            SiteStep.due_date.between(today, last),
        )
        .order_by(SiteStep.due_date, Site.code)
        .limit(GROUP_LIMIT)
    ).all()
    items = [
        (
            d,
            _item(
                "近期到期",
                f"{code} 期限 {d}",
                "workflow.site_page",
                {"site_id": sid},
                d,
                (d - today).days,
            ),
        )
        for sid, code, d in deadlines
    ] + [
        (
            d,
            _item(
                "近期到期",
                f"{code} 步骤“{title}” {d}",
                "workflow.site_page",
                {"site_id": sid},
                d,
                (d - today).days,
            ),
        )
        for sid, code, title, d in steps
    ]
    return [item for _, item in sorted(items, key=lambda x: x[0])]


def _overdue(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Site.id, Site.code, Site.current_deadline)
        .where(*_sites(actor), overdue_expr(today))
        .order_by(Site.current_deadline.asc().nulls_last(), Site.code)
        .limit(GROUP_LIMIT)
    ).all()
    return [
        _item(
            "逾期点位",
            f"{code}（期限 {deadline or '步骤逾期'}）",
            "workflow.site_page",
            {"site_id": sid},
            deadline,
            alert=True,
        )
        for sid, code, deadline in rows
    ]


def _returned_requests(session: Session, actor: Actor) -> list[dict[str, Any]]:
    since = clock.now() - timedelta(days=RETURNED_DAYS)
    rows = session.execute(
        select(ExtensionRequest, Site.code)
        .join(Site, Site.id == ExtensionRequest.site_id)
        .where(
            ExtensionRequest.status == "rejected",
            ExtensionRequest.decided_at >= since,
            *_sites(actor),
        )
        .order_by(ExtensionRequest.decided_at.desc())
        .limit(GROUP_LIMIT)
    ).all()
    return [
        _item(
            "申请被驳回",
            f"{code} 延期申请被驳回：{req.decision_comment}",
            "workflow.site_page",
            {"site_id": req.site_id},
            clock.to_local(req.decided_at).date() if req.decided_at else None,
            alert=True,
        )
        for req, code in rows
    ]


def _new_sites(session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Site.id, Site.code, Site.address)
        .where(*_sites(actor), Site.status == "new")
        .order_by(Site.code)
        .limit(GROUP_LIMIT)
    ).all()
    label = codes.STATUSES["new"]
    return [
        _item(f"{label}待建档", f"{code} {address}", "workflow.site_page", {"site_id": sid})
        for sid, code, address in rows
    ]


def _own_report(session: Session, actor: Actor) -> list[dict[str, Any]]:
    street = session.execute(
        select(Street.id, Street.code).where(Street.code == actor.street_code)
    ).first()
    if street is None:
        return []
    out = []
    last_due = reports.last_due_month()
    month = reports.current_month()
    for m, late in ((last_due, True), (month, False)):
        if m == month and late is True:
            continue
        if street[0] in _report_missing(session, [street[0]], m):
            due = reports.due_at(m)
            out.append(
                _item(
                    "月报",
                    f"{reports.month_label(m)}月报{'已逾期，' if late else ''}截止 "
                    f"{clock.fmt_local(due)}",
                    "dashboard.report_form",
                    {"code": street[1], "month_text": f"{m:%Y-%m}"},
                    clock.to_local(due).date(),
                    alert=late,
                )
            )
    return out


def _patrols_today(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    own = select(Street.id).where(Street.code == actor.street_code).scalar_subquery()
    rows = session.execute(
        select(Patrol.id, Patrol.title, Patrol.status, Patrol.created_at)
        .where(
            Patrol.street_id == own,
            or_(
                Patrol.status == "active",
                and_(
                    Patrol.status == "planned",
                    func.date(func.timezone(clock.LOCAL_TZ.key, Patrol.created_at)) == today,
                ),
            ),
        )
        .order_by(Patrol.created_at)
        .limit(GROUP_LIMIT)
    ).all()
    return [
        _item(
            "今日巡查",
            f"{title or f'巡查 {pid}'}（{'进行中' if status == 'active' else '待出发'}）",
            "patrol.pages.patrol",
            {"patrol_id": pid},
            clock.to_local(created).date(),
        )
        for pid, title, status, created in rows
    ]


def _spot_checks(session: Session, actor: Actor) -> list[dict[str, Any]]:
    mine = my_pool_ids(actor) if actor.user_id is not None else select(false())
    rows = session.execute(
        select(SampleSite.batch_id, Site.code, Site.address)
        .join(Site, Site.id == SampleSite.site_id)
        .where(SampleSite.inspector_id.in_(mine), SampleSite.result.is_(None))
        .order_by(SampleSite.batch_id, Site.code)
        .limit(GROUP_LIMIT)
    ).all()
    return [
        _item("抽查任务", f"{code} {address}", "sampling.pages.batch", {"batch_id": batch_id})
        for batch_id, code, address in rows
    ]


def _renovation_works(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Site.code, Site.address)
        .outerjoin(RenovationWork, RenovationWork.site_id == Site.id)
        .where(
            Site.deleted_at.is_(None),
            Site.flag_renovation.is_(True),
            Site.status != "closed",
            RenovationWork.site_id.is_(None),
        )
        .order_by(Site.code)
        .limit(GROUP_LIMIT)
    ).all()
    return [
        _item("旧楼区改造待完工", f"{code} {address}", "bureau.housing") for code, address in rows
    ]


def _renovation_plans(session: Session, actor: Actor, status: str) -> list[dict[str, Any]]:
    """住建委: the plans waiting for its review; a street: its plans returned for revision."""
    today = clock.today()
    out = []
    for p in bureaus.renovation_plans(session, actor, status)[:GROUP_LIMIT]:
        if status == "submitted":
            day = date.fromisoformat(p["submitted_at_local"][:10])
            waited = (today - day).days
            text = f"{p['street']} {p['site_code']} 第 {p['revision']} 次报送，已等待 {waited} 天"
            group, alert = "改造治理方案待审核", waited > SOON_DAYS
        else:
            day = date.fromisoformat((p["reviewed_at_local"] or p["submitted_at_local"])[:10])
            text = f"{p['site_code']} 方案被区住建委退回：{p['review_comment']}"
            group, alert, waited = "改造治理方案被退回", True, None
        out.append(
            _item(
                group,
                text,
                "bureau.renovation_plan",
                {"renovation_plan_id": p["id"]},
                day,
                waited,
                alert=alert,
            )
        )
    return out


def grouped(items: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The items by group, in the order the groups first appear."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        out.setdefault(item["group"], []).append(item)
    return list(out.items())
