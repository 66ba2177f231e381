"""The baseline (总体目标, the plan's 五(一)): each street submits its list of sites; the office
returns it with comments or confirms it; when every street's list is confirmed the office
freezes the district baseline ledger (全区台帐). Sites registered afterwards are additions —
新发现 on patrol, or a late registration with its reason — counted apart, so that a street is
never ranked down for finding more.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.baseline.models import Baseline, BaselineList
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_district, require_street_actor
from gis_app.features.streets.models import Street

STATUSES = {"submitted": "待审核", "returned": "已退回", "confirmed": "已确认", "none": "未报送"}
DECISIONS = {"confirm": "确认", "return": "退回"}
MAX_COMMENT = 1000


def frozen(session: Session) -> Baseline | None:
    return session.scalar(select(Baseline).limit(1))


def baseline_condition(session: Session) -> ColumnElement[bool]:
    """Which sites are the baseline: those of the frozen ledger; before it is frozen, every
    site not found on patrol (the streets' own lists as they stand)."""
    if frozen(session) is not None:
        return Site.in_baseline.is_(True)
    return Site.source != "patrol"


def _street(session: Session, code: str) -> Street:
    street = session.scalar(select(Street).where(Street.code == code))
    if street is None:
        raise NotFound(f"没有代码为 {code} 的街道", "street")
    return street


def current_list(session: Session, street_id: int) -> BaselineList | None:
    return session.scalar(
        select(BaselineList)
        .where(BaselineList.street_id == street_id)
        .order_by(BaselineList.submitted_at.desc(), BaselineList.id.desc())
        .limit(1)
    )


def _refuse_if_frozen(session: Session, what: str) -> None:
    done = frozen(session)
    if done is not None:
        raise Conflict(
            f"全区基数台帐已于 {clock.fmt_local(done.frozen_at)} 冻结，不能再{what}；"
            "此后登记的点位按新增（巡查发现或补录）统计",
            "baseline",
        )


def submit_list(session: Session, street_code: str, actor: Actor) -> BaselineList:
    """The street submits its list: its live sites as they stand now."""
    street = _street(session, street_code)
    require_street_actor(actor, street.code, "报送点位清单", district_allowed=False)
    _refuse_if_frozen(session, "报送点位清单")
    current = current_list(session, street.id)
    if current is not None and current.status in ("submitted", "confirmed"):
        raise Conflict(f"{street.name}的点位清单{STATUSES[current.status]}，不能重复报送", "street")
    ids = list(
        session.scalars(
            select(Site.id)
            .where(Site.street_id == street.id, Site.deleted_at.is_(None))
            .order_by(Site.id)
        )
    )
    record = BaselineList(
        district_code=street.district_code,
        street_id=street.id,
        status="submitted",
        site_ids=ids,
        submitted_at=clock.now(),
        submitted_by=actor.name,
    )
    session.add(record)
    session.flush()
    return record


def review_list(
    session: Session, street_code: str, actor: Actor, decision: Any, comment: Any
) -> BaselineList:
    """The office confirms the street's submitted list, or returns it with its comments."""
    if decision not in DECISIONS:
        raise ValidationError("审核结论须是 confirm（确认）或 return（退回）", "decision")
    note = comment.strip() if isinstance(comment, str) else ""
    if comment is not None and not isinstance(comment, str):
        raise ValidationError("审核意见必须是文字", "comment")
    if decision == "return" and not note:
        raise ValidationError("退回点位清单须写明审核意见", "comment")
    if len(note) > MAX_COMMENT:
        raise ValidationError(f"审核意见过长（最多 {MAX_COMMENT} 个字）", "comment")
    require_district(actor, "审核点位清单")
    street = _street(session, street_code)
    _refuse_if_frozen(session, "审核点位清单")
    current = current_list(session, street.id)
    if current is None or current.status != "submitted":
        state = STATUSES[current.status] if current else "未报送"
        raise Conflict(f"{street.name}的点位清单{state}，没有待审核的清单", "street")
    current.status = "confirmed" if decision == "confirm" else "returned"
    current.reviewed_at = clock.now()
    current.reviewed_by = actor.name
    current.review_comment = note
    session.flush()
    return current


def freeze(session: Session, actor: Actor, district_code: str) -> Baseline:
    """Freeze the district baseline once every street's list is confirmed."""
    require_district(actor, "冻结全区基数台帐")
    _refuse_if_frozen(session, "冻结")
    streets = list(session.scalars(select(Street).order_by(Street.code)))
    lists = {s.id: current_list(session, s.id) for s in streets}
    missing = [
        s.name for s in streets if (lists[s.id] is None or lists[s.id].status != "confirmed")
    ]
    if missing:
        raise Conflict(
            f"还有 {len(missing)} 个街道的点位清单未确认：{'、'.join(missing)}；全部确认后才能冻结",
            "baseline",
            streets=missing,
        )
    ids = sorted({i for lst in lists.values() if lst is not None for i in lst.site_ids})
    count = 0
    if ids:
        result = session.execute(
            update(Site)
            .where(Site.id.in_(ids), Site.deleted_at.is_(None))
            .values(in_baseline=True)
            .execution_options(synchronize_session=False)
        )
        count = result.rowcount or 0
    record = Baseline(
        district_code=district_code,
        frozen_at=clock.now(),
        frozen_by=actor.name,
        site_count=count,
    )
    session.add(record)
    session.flush()
    return record


def overview(session: Session, due: date | None) -> dict[str, Any]:
    """Each street's list (its current submission and review) and the frozen baseline."""
    done = frozen(session)
    streets = list(session.scalars(select(Street).order_by(Street.code)))
    rows = []
    for street in streets:
        lst = current_list(session, street.id)
        submitted_on = lst.submitted_at.astimezone(clock.LOCAL_TZ).date() if lst else None
        rows.append(
            {
                "code": street.code,
                "name": street.name,
                "status": lst.status if lst else "none",
                "status_label": STATUSES[lst.status if lst else "none"],
                "sites": len(lst.site_ids) if lst else None,
                "submitted_at": lst.submitted_at.isoformat() if lst else None,
                "submitted_by": lst.submitted_by if lst else None,
                "late": bool(due and submitted_on and submitted_on > due),
                "reviewed_by": lst.reviewed_by if lst else None,
                "review_comment": lst.review_comment if lst else "",
            }
        )
    return {
        "due": due.isoformat() if due else None,
        "frozen": done is not None,
        "frozen_at": done.frozen_at.isoformat() if done else None,
        "frozen_by": done.frozen_by if done else None,
        "baseline_sites": done.site_count if done else None,
        "streets": rows,
    }


def additions_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Site)
            .where(Site.deleted_at.is_(None), Site.in_baseline.is_(False))
        )
        or 0
    )
