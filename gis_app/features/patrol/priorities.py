"""What to visit in an area: priority classes in the user's order, with a cap on stops.

Each site falls into the first class of the user's order that it matches; the stops are the
sites of the classes in that order (within a class: earliest deadline first), at most `cap`.
Every stop says why it was chosen and what to check there. One SQL statement in PostGIS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import ValidationError
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import site_scope
from gis_app.features.ledger.queries import overdue_expr
from gis_app.features.patrol.areas import Area, area_condition
from gis_app.features.streets.models import Street

CLASSES: dict[str, str] = {
    "new": "新发现",
    "overdue": "逾期",
    "due_soon": "临近期限",
    "in_progress": "治理中",
    "rebound_check": "近期销账（回潮检查）",
}
DEFAULT_ORDER = tuple(CLASSES)
#: a chosen site (area kind "sites") that falls in none of the classes: visited all the same
SELECTED = "selected"
#: what a stop's priority says, the chosen sites' too
STOP_LABELS: dict[str, str] = {**CLASSES, SELECTED: "指定巡查"}
DEFAULT_CAP = 30
MAX_CAP = 200
DEFAULT_DUE_DAYS = 7
DEFAULT_CLOSED_DAYS = 30


@dataclass(frozen=True)
class Priorities:
    order: tuple[str, ...] = DEFAULT_ORDER
    cap: int = DEFAULT_CAP
    due_days: int = DEFAULT_DUE_DAYS
    closed_days: int = DEFAULT_CLOSED_DAYS

    def as_dict(self) -> dict[str, Any]:
        return {
            "order": list(self.order),
            "cap": self.cap,
            "due_days": self.due_days,
            "closed_days": self.closed_days,
        }


@dataclass(frozen=True)
class Candidate:
    site_id: int
    code: str
    address: str
    status: str
    street_code: str
    street_name: str
    lon: float
    lat: float
    priority: str
    reason: str
    deadline: date | None


def _int(raw: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = raw.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValidationError(f"{name} 必须是整数", name)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{name} 必须是整数：{value!r}", name) from None
    if not low <= number <= high:
        raise ValidationError(f"{name} 须在 {low} 到 {high} 之间（收到 {number}）", name)
    return number


def parse_priorities(raw: dict[str, Any]) -> Priorities:
    """{"priorities": ["overdue", "new", …], "cap": 30, "due_days": 7, "closed_days": 30}."""
    order = raw.get("priorities")
    if order is None or order == "" or order == []:
        order = list(DEFAULT_ORDER)
    if isinstance(order, str):
        order = [p.strip() for p in order.split(",") if p.strip()]
    if not isinstance(order, list) or not all(isinstance(p, str) for p in order):
        raise ValidationError("priorities 必须是优先类别的列表", "priorities")
    unknown = [p for p in order if p not in CLASSES]
    if unknown:
        allowed = "、".join(f"{k}（{v}）" for k, v in CLASSES.items())
        raise ValidationError(f"未知的优先类别：{unknown[0]!r}（可选：{allowed}）", "priorities")
    if len(set(order)) != len(order):
        raise ValidationError("priorities 中有重复的类别", "priorities")
    return Priorities(
        tuple(order),
        _int(raw, "cap", DEFAULT_CAP, 1, MAX_CAP),
        _int(raw, "due_days", DEFAULT_DUE_DAYS, 0, 365),
        _int(raw, "closed_days", DEFAULT_CLOSED_DAYS, 1, 365),
    )


def local_midnight(day: date) -> datetime:
    """The start of an Asia/Shanghai calendar day, as an aware time."""
    return datetime.combine(day, time(), tzinfo=clock.LOCAL_TZ)


def closed_at_expr() -> Any:
    """When a closed site was closed: its last event setting the status to closed, else its
    last change (sites imported as closed have no such event)."""
    last = (
        select(func.max(SiteEvent.at))
        .where(SiteEvent.site_id == Site.id, SiteEvent.changes["status"][1].astext == "closed")
        .scalar_subquery()
    )
    return func.coalesce(last, Site.updated_at)


def _class_tests(prio: Priorities, today: date) -> dict[str, ColumnElement[bool]]:
    """The SQL condition on Site of each priority class."""
    due_until = today + timedelta(days=prio.due_days)
    closed_since = local_midnight(today - timedelta(days=prio.closed_days))
    overdue = overdue_expr(today)
    return {
        "new": Site.status == "new",
        "overdue": overdue,
        "due_soon": and_(
            Site.status != "closed",
            ~overdue,
            Site.current_deadline.is_not(None),
            Site.current_deadline >= literal(today),
            Site.current_deadline <= literal(due_until),
        ),
        "in_progress": Site.status == "in_progress",
        "rebound_check": and_(Site.status == "closed", closed_at_expr() >= closed_since),
    }


def select_candidates(
    session: Session, area: Area, prio: Priorities, actor: Actor, today: date | None = None
) -> tuple[list[Candidate], dict[str, int]]:
    """The stops (capped) and how many sites matched each class before the cap. Chosen sites
    (area kind "sites") are all stops, in no class or beyond the cap too."""
    today = today or clock.today()
    tests = _class_tests(prio, today)
    chosen = area.kind == "sites"
    rest = len(prio.order) if chosen else None
    rank = case(*((tests[name], i) for i, name in enumerate(prio.order)), else_=rest)
    inner = (
        select(
            Site.id.label("site_id"),
            Site.code,
            Site.address,
            Site.status,
            Site.current_deadline,
            Street.code.label("street_code"),
            Street.name.label("street_name"),
            func.ST_X(Site.geom).label("lon"),
            func.ST_Y(Site.geom).label("lat"),
            rank.label("rank"),
            case((Site.status == "closed", closed_at_expr()), else_=None).label("closed_at"),
        )
        .select_from(Site)
        .join(Street, Street.id == Site.street_id)
        .where(Site.deleted_at.is_(None), *area_condition(area), *site_scope(actor))
        .subquery()
    )
    rows = session.execute(
        select(inner, func.count().over(partition_by=inner.c.rank).label("in_class"))
        .where(inner.c.rank.is_not(None))
        .order_by(inner.c.rank, inner.c.current_deadline.asc().nulls_last(), inner.c.site_id)
    ).all()
    names = (*prio.order, SELECTED)
    matched = dict.fromkeys(prio.order, 0)
    for row in rows:
        if row.rank < len(prio.order):
            matched[prio.order[row.rank]] = row.in_class
    kept = rows if chosen else rows[: prio.cap]
    return [_candidate(row, names[row.rank], today) for row in kept], matched


def _candidate(row: Any, name: str, today: date) -> Candidate:
    """A site of class `name` as a stop, with why it was chosen."""
    return Candidate(
        row.site_id,
        row.code,
        row.address,
        row.status,
        row.street_code,
        row.street_name,
        round(row.lon, 7),
        round(row.lat, 7),
        name,
        reason_for(name, row.current_deadline, row.closed_at, today),
        row.current_deadline,
    )


def reason_for(name: str, deadline: date | None, closed_at: Any, today: date) -> str:
    """Why the stop was chosen, and what to check there (Chinese, for the sheet and phone)."""
    if name == SELECTED:
        return "指定巡查：核查现场现状，拍照记录"
    if name == "new":
        return "新发现：核实位置和范围，拍照取证，尽快登记建档"
    if name == "overdue":
        return f"已逾期（期限 {deadline or '—'}）：检查整改进展，督促立即整改"
    if name == "due_soon":
        days = (deadline - today).days if deadline else 0
        when = "今天" if days == 0 else f"{days} 天后"
        return f"{when}到期（{deadline}）：检查能否按期完成"
    if name == "in_progress":
        return "治理中：检查整改是否在推进、现场是否安全"
    closed = clock.fmt_local(closed_at)[:10] if closed_at else "近期"
    return f"{closed} 已销账：检查是否回潮（复建、恢复原状是否保持）"


def status_label(status: str) -> str:
    return codes.STATUSES.get(status, status)
