"""Demo 规范治理 plans of old-building renovation sites, one in each state, so that `make run`
shows 住建委's queue, a street's returned plan, and an approved plan with its works. Each act
is dated some days back (the clock frozen at that day while the service runs), so the demo's
timelines read as a fortnight's work and nothing lies on the reference day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.demo.accounts import street_officer_username
from gis_app.features.bureaus import renovation
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import Street

HOUSING = Actor("housing", "bureau_housing")
CONTENT = (
    "结合{community}旧楼区改造，统一拆除楼体外挂构筑物，按小区改造图样恢复外立面，清运建筑垃圾"
)
RETURNED = "外立面材料须与小区改造方案一致，请补充比对步骤"


def _steps(day: date, deadline: date | None, extra: bool = False) -> list[dict[str, str]]:
    """Three steps from `day` to the site's deadline (at most 90 days on)."""
    last = min(deadline or day + timedelta(days=90), day + timedelta(days=90))
    middle = day + (last - day) / 2
    steps = [
        {"title": "入户动员，与相对人签订整改承诺", "due_date": day + timedelta(days=7)},
        {"title": "旧楼区改造施工：拆除外挂构筑物", "due_date": middle},
        {"title": "恢复外立面，清运建筑垃圾", "due_date": last},
    ]
    if extra:
        steps.insert(1, {"title": "外立面材料与改造方案比对确认", "due_date": middle})
    return [{"title": s["title"], "due_date": s["due_date"].isoformat()} for s in steps]


def _day(today: date, days_back: int) -> datetime:
    return datetime.combine(today - timedelta(days=days_back), time(10), clock.LOCAL_TZ)


def add_renovation_plans(session: Session, today: date | None = None) -> dict[str, Any]:
    """Up to four renovation sites' plans: waiting for review; returned; returned, resubmitted,
    approved and its works recorded; approved without works yet (built through the services)."""
    today = today or clock.today()
    rows = session.execute(
        select(Site, Street.code)
        .join(Street, Street.id == Site.street_id)
        .where(
            Site.deleted_at.is_(None),
            Site.flag_renovation.is_(True),
            Site.status.in_(("registered", "in_progress")),
            Site.created_at < _day(today, 30),
            or_(
                Site.current_deadline.is_(None),
                Site.current_deadline >= today + timedelta(days=30),
            ),
        )
        .order_by(Site.code)
        .limit(4)
    ).all()
    made: dict[str, Any] = {}
    for i, (site, street_code) in enumerate(rows):
        officer = Actor(
            street_officer_username(session, street_code), "street_officer", street_code
        )
        content = CONTENT.format(community=site.community or "小区")
        with clock.frozen_at(_day(today, 12)):
            steps = _steps(clock.today(), site.current_deadline)
            plan = renovation.submit(session, site.id, officer, content, steps)
        if i == 0:
            made["submitted"] = plan.id
            continue
        if i in (1, 2):
            with clock.frozen_at(_day(today, 10)):
                renovation.review(session, plan.id, HOUSING, "return", RETURNED)
        if i == 1:
            made["returned"] = plan.id
            continue
        if i == 2:
            with clock.frozen_at(_day(today, 8)):
                steps = _steps(clock.today(), site.current_deadline, extra=True)
                renovation.resubmit(session, plan.id, officer, content, steps)
        with clock.frozen_at(_day(today, 6)):
            renovation.review(session, plan.id, HOUSING, "approve", "同意，纳入本期旧楼区改造工程")
        if i == 2:
            for back, what, note in (
                (4, "进场施工：拆除楼体外挂构筑物 4 处", ""),
                (2, "清运建筑垃圾", "施工单位：区旧楼改造指挥部"),
            ):
                with clock.frozen_at(_day(today, back)):
                    renovation.record_works(session, plan.id, HOUSING, clock.today(), what, note)
        made["approved_with_works" if i == 2 else "approved"] = plan.id
    return made
