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
from gis_app.features.baseline.models import Baseline, BaselineList, StageTarget
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_district, require_street_actor
from gis_app.features.ledger.queries import closed_with_evidence
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


# ---------------------------------------------------------------- stage targets (阶段工作目标)

SCOPES = {"demolish": "基数拆除点位", "all": "基数全部点位"}
MAX_TARGETS = 500


def propose_targets(
    session: Session, implementation_end: date | None, campaign_end: date | None
) -> list[dict[str, Any]]:
    """Targets proposed from the baseline and the campaign phases: every 拆除 site of a
    street's baseline by the end of the 实施 phase, every baseline site by the campaign's end."""
    base = baseline_condition(session)
    rows = session.execute(
        select(
            Street.code,
            func.count(Site.id).filter(base, Site.disposition == "demolish"),
            func.count(Site.id).filter(base),
        )
        .select_from(Street)
        .outerjoin(Site, (Site.street_id == Street.id) & Site.deleted_at.is_(None))
        .group_by(Street.code)
        .order_by(Street.code)
    ).all()
    out = []
    for code, demolish, total in rows:
        if implementation_end is not None:
            out.append(
                {
                    "street": code,
                    "due": implementation_end.isoformat(),
                    "scope": "demolish",
                    "target": demolish,
                }
            )
        if campaign_end is not None:
            out.append(
                {"street": code, "due": campaign_end.isoformat(), "scope": "all", "target": total}
            )
    return out


def set_targets(session: Session, actor: Actor, rows: Any) -> list[StageTarget]:
    """The office sets targets: [{street, due, scope, target}, …]; each is checked by name."""
    require_district(actor, "设定阶段工作目标")
    if not isinstance(rows, list) or not rows:
        raise ValidationError("缺少目标列表 targets", "targets")
    if len(rows) > MAX_TARGETS:
        raise ValidationError(f"一次最多设定 {MAX_TARGETS} 个目标", "targets")
    streets = {s.code: s for s in session.scalars(select(Street))}
    now = clock.now()
    out = []
    for i, row in enumerate(rows, start=1):
        where = f"targets[{i}]"
        if not isinstance(row, dict):
            raise ValidationError(f"第 {i} 个目标须是对象", where)
        street = streets.get(str(row.get("street") or ""))
        if street is None:
            raise ValidationError(
                f"第 {i} 个目标的街道不存在：{row.get('street')!r}", f"{where}.street"
            )
        scope = row.get("scope")
        if scope not in SCOPES:
            raise ValidationError(
                f"第 {i} 个目标的范围须是 demolish（基数拆除点位）或 all（基数全部点位）",
                f"{where}.scope",
            )
        try:
            due = date.fromisoformat(str(row.get("due") or ""))
        except ValueError:
            raise ValidationError(
                f"第 {i} 个目标的日期无法识别：{row.get('due')!r}", f"{where}.due"
            ) from None
        target = row.get("target")
        if isinstance(target, bool) or not isinstance(target, int) or target < 0:
            raise ValidationError(f"第 {i} 个目标的数量须是非负整数", f"{where}.target")
        record = StageTarget(
            district_code=street.district_code,
            street_id=street.id,
            due=due,
            scope=scope,
            target=target,
            set_by=actor.name,
            set_at=now,
        )
        session.add(record)
        out.append(record)
    session.flush()
    return out


def _current_targets(session: Session) -> dict[int, list[StageTarget]]:
    """Per street, its targets (the newest setting per date and scope), by date."""
    latest: dict[tuple[int, date, str], StageTarget] = {}
    for t in session.scalars(select(StageTarget).order_by(StageTarget.set_at, StageTarget.id)):
        latest[(t.street_id, t.due, t.scope)] = t
    out: dict[int, list[StageTarget]] = {}
    for t in sorted(latest.values(), key=lambda t: (t.due, t.scope)):
        out.setdefault(t.street_id, []).append(t)
    return out


def target_progress(session: Session, today: date) -> dict[int, dict[str, Any]]:
    """Per street, its current target (the next one due, else the last one) and how far it
    is: the sites of that scope closed with evidence, against what the target asks by today
    (all of it once the date has passed; before, in proportion to the time elapsed since the
    baseline was frozen). A street short of that is behind its target."""
    targets = _current_targets(session)
    if not targets:
        return {}
    done = frozen(session)
    base = baseline_condition(session)
    closed = closed_with_evidence()
    counts = {
        sid: (demolish, total)
        for sid, demolish, total in session.execute(
            select(
                Site.street_id,
                func.count().filter(base, closed, Site.disposition == "demolish"),
                func.count().filter(base, closed),
            )
            .where(Site.deleted_at.is_(None))
            .group_by(Site.street_id)
        )
    }
    start = done.frozen_at.astimezone(clock.LOCAL_TZ).date() if done else None
    out: dict[int, dict[str, Any]] = {}
    for sid, items in targets.items():
        upcoming = [t for t in items if t.due >= today]
        t = upcoming[0] if upcoming else items[-1]
        demolish, total = counts.get(sid, (0, 0))
        achieved = demolish if t.scope == "demolish" else total
        if t.due < today or start is None or start >= t.due:
            expected = t.target
        else:
            share = max(0, (today - start).days) / (t.due - start).days
            expected = int(t.target * min(1.0, share))
        out[sid] = {
            "due": t.due.isoformat(),
            "scope": t.scope,
            "scope_label": SCOPES[t.scope],
            "target": t.target,
            "achieved": achieved,
            "expected_by_today": expected,
            "progress": achieved / t.target if t.target else None,
            "behind": achieved < expected,
        }
    return out


def street_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Street.id, Street.code)).all())
