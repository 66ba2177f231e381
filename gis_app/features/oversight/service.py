"""通报: the office names streets with the reasons and their figures frozen at issue time; each
named street answers with its rectification measures (整改措施), late or in time.

Scope: the district roles see every notice and reply; a street role sees only the notices that
name its street, and in them only its own row and replies (another street's: 404). The
services check it, and row-level security (0060_notices) is the second wall.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import any_, func, literal, select
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_district, role_label
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.oversight.models import (
    Escalation,
    Inspection,
    InspectionFinding,
    Meeting,
    MeetingTask,
    Notice,
    NoticeReply,
    NoticeStreet,
)
from gis_app.features.oversight.schemas import (
    clean_text,
    parse_findings,
    parse_named,
    parse_reply_due,
)
from gis_app.features.photos.models import Photo
from gis_app.features.reporting.service import street_standing
from gis_app.features.streets.models import Street

#: the figures frozen into a notice, by key, with their label (the page, the .docx)
FIGURES = {
    "total": "点位总数",
    "closed": "已销账",
    "completion": "销账率",
    "overdue": "逾期",
    "rank": "排名",
    "last_report": "最近月报",
}
REPORT_STATES = {"on_time": "按时报送", "late": "逾期报送", "draft": "未报送", "missing": "未报送"}
REPLY_STATES = {
    "answered": "已回复",
    "late": "逾期回复",
    "due": "待回复",
    "overdue": "逾期未回复",
}


def notice_number(year: int, seq: int) -> str:
    return f"治违办通报〔{year}〕{seq}号"


def candidates(session: Session, today: date) -> list[dict[str, Any]]:
    """Every street with its figures now and its lagging reasons (empty: not lagging), the
    lagging streets first: what the office chooses from."""
    out = [
        {
            "code": s["code"],
            "name": s["name"],
            "reasons": s["reasons"],
            "figures": _freeze(s, s["rank"], s["ranked"]),
        }
        for s in street_standing(session, today)
    ]
    out.sort(key=lambda r: (not r["reasons"], r["code"]))
    return out


def _freeze(s: dict[str, Any], rank: int | None, ranked: int) -> dict[str, Any]:
    completion = s["completion"]
    return {
        "total": s["total"],
        "closed": s["closed"],
        "completion": round(completion * 100, 1) if completion is not None else None,
        "overdue": s["overdue"],
        "rank": rank,
        "ranked": ranked,
        "last_report_month": s["last_report_month"],
        "last_report_state": s["last_report_state"],
    }


def figure_texts(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """The frozen figures as (label, text) pairs, for the page and the .docx."""
    completion = figures.get("completion")
    rank = figures.get("rank")
    return [
        (FIGURES["total"], str(figures.get("total", 0))),
        (FIGURES["closed"], str(figures.get("closed", 0))),
        (FIGURES["completion"], f"{completion:.1f}%" if completion is not None else "—"),
        (FIGURES["overdue"], str(figures.get("overdue", 0))),
        (FIGURES["rank"], f"{rank} / {figures.get('ranked')}" if rank else "—"),
        (
            FIGURES["last_report"],
            f"{figures.get('last_report_month', '')} "
            f"{REPORT_STATES.get(figures.get('last_report_state', ''), '—')}",
        ),
    ]


def issue(
    session: Session,
    actor: Actor,
    title: Any,
    reply_due: Any,
    named: Any,
    body: Any = "",
) -> Notice:
    """Issue a 通报 dated today naming `named` streets ([{street, reason}]): each with its
    lagging reasons (plus the office's own), and its figures as they are now."""
    require_district(actor, "签发通报")
    today = clock.today()
    title = clean_text(title, "title", "通报标题", True, 200)
    body = clean_text(body, "body", "通报正文", False)
    due = parse_reply_due(reply_due, today)
    named = parse_named(named)
    by_code = {c["code"]: c for c in candidates(session, today)}
    rows = []
    for i, item in enumerate(named):
        found = by_code.get(item["street"])
        if found is None:
            raise ValidationError(f"没有代码为 {item['street']} 的街道", f"streets[{i}].street")
        reasons = [*found["reasons"], *([item["reason"]] if item["reason"] else [])]
        if not reasons:
            raise ValidationError(
                f"{found['name']}不在落后名单上，须填写通报理由", f"streets[{i}].reason"
            )
        rows.append((found, reasons))
    district = session.scalar(select(Street.district_code).where(Street.code == rows[0][0]["code"]))
    seq = (
        session.scalar(
            select(func.max(Notice.seq)).where(
                Notice.district_code == district, Notice.year == today.year
            )
        )
        or 0
    ) + 1
    notice = Notice(
        district_code=district,
        year=today.year,
        seq=seq,
        number=notice_number(today.year, seq),
        title=title,
        body=body,
        source="lagging" if all(f["reasons"] for f, _ in rows) else "choice",
        issued_on=today,
        reply_due=due,
        issued_by=actor.name,
        issued_at=clock.now(),
    )
    session.add(notice)
    session.flush()
    ids = dict(session.execute(select(Street.code, Street.id)).all())
    for ord_, (found, reasons) in enumerate(rows, start=1):
        session.add(
            NoticeStreet(
                notice_id=notice.id,
                district_code=district,
                street_id=ids[found["code"]],
                ord=ord_,
                reasons=reasons,
                figures=found["figures"],
            )
        )
    session.flush()
    return notice


def _valid_id(notice_id: int) -> bool:
    return 0 < notice_id < 2**63


def _named_rows(
    session: Session, notice_id: int, actor: Actor
) -> list[tuple[NoticeStreet, Street]]:
    query = (
        select(NoticeStreet, Street)
        .join(Street, Street.id == NoticeStreet.street_id)
        .where(NoticeStreet.notice_id == notice_id)
        .order_by(NoticeStreet.ord)
    )
    if not actor.is_district:
        query = query.where(Street.code == (actor.street_code or ""))
    return [(ns, st) for ns, st in session.execute(query).all()]


def _require_reader(actor: Actor) -> None:
    if not (actor.is_district or (actor.role in STREET_ROLES and actor.street_code)):
        raise Forbidden(f"无权查看通报（当前身份：{role_label(actor)}）", "role")


def get_notice(session: Session, notice_id: int, actor: Actor) -> Notice:
    """The notice, when `actor` may see it: the district, or a street it names (else 404)."""
    _require_reader(actor)
    notice = session.get(Notice, notice_id) if _valid_id(notice_id) else None
    if notice is None or not _named_rows(session, notice.id, actor):
        raise NotFound(f"没有编号为 {notice_id} 的通报", "notice_id")
    return notice


def reply_state(notice: Notice, replies: list[NoticeReply], today: date) -> str:
    if replies:
        return "late" if replies[0].late else "answered"
    return "overdue" if today > notice.reply_due else "due"


def _replies(session: Session, ns_ids: list[int]) -> dict[int, list[NoticeReply]]:
    out: dict[int, list[NoticeReply]] = {i: [] for i in ns_ids}
    if ns_ids:
        for r in session.scalars(
            select(NoticeReply)
            .where(NoticeReply.notice_street_id.in_(ns_ids))
            .order_by(NoticeReply.replied_at, NoticeReply.id)
        ):
            out[r.notice_street_id].append(r)
    return out


def reply_dict(r: NoticeReply) -> dict[str, Any]:
    return {
        "id": r.id,
        "measures": r.measures,
        "replied_by": r.replied_by,
        "replied_at": r.replied_at.isoformat(),
        "replied_at_local": clock.fmt_local(r.replied_at),
        "late": r.late,
    }


def notice_view(session: Session, notice_id: int, actor: Actor) -> dict[str, Any]:
    """The notice with the streets `actor` may see in it, their frozen figures and replies."""
    notice = get_notice(session, notice_id, actor)
    named = _named_rows(session, notice.id, actor)
    replies = _replies(session, [ns.id for ns, _ in named])
    today = clock.today()
    return {
        "id": notice.id,
        "number": notice.number,
        "title": notice.title,
        "body": notice.body,
        "source": notice.source,
        "issued_on": notice.issued_on.isoformat(),
        "reply_due": notice.reply_due.isoformat(),
        "issued_by": notice.issued_by,
        "streets": [
            {
                "street_code": st.code,
                "street": st.name,
                "reasons": ns.reasons,
                "figures": ns.figures,
                "figure_texts": figure_texts(ns.figures),
                "replies": [reply_dict(r) for r in replies[ns.id]],
                "reply_state": reply_state(notice, replies[ns.id], today),
            }
            for ns, st in named
        ],
    }


def list_notices(
    session: Session, actor: Actor, street_code: str | None = None
) -> list[dict[str, Any]]:
    """One row per named street, newest notice first (a street: its own rows only)."""
    _require_reader(actor)
    query = (
        select(Notice, NoticeStreet, Street)
        .join(NoticeStreet, NoticeStreet.notice_id == Notice.id)
        .join(Street, Street.id == NoticeStreet.street_id)
    )
    if not actor.is_district:
        query = query.where(Street.code == (actor.street_code or ""))
    if street_code:
        query = query.where(Street.code == street_code)
    rows = session.execute(
        query.order_by(Notice.issued_on.desc(), Notice.id.desc(), NoticeStreet.ord)
    ).all()
    replies = _replies(session, [ns.id for _, ns, _ in rows])
    today = clock.today()
    return [
        {
            "id": n.id,
            "number": n.number,
            "title": n.title,
            "issued_on": n.issued_on.isoformat(),
            "reply_due": n.reply_due.isoformat(),
            "street_code": st.code,
            "street": st.name,
            "reply_state": reply_state(n, replies[ns.id], today),
            "reply_state_label": REPLY_STATES[reply_state(n, replies[ns.id], today)],
            "replies": len(replies[ns.id]),
        }
        for n, ns, st in rows
    ]


def awaiting_replies(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The named streets that have not answered yet (the to-do lists): a street, its own;
    the district, all."""
    return [r for r in list_notices(session, actor) if r["reply_state"] in ("due", "overdue")]


def reply(session: Session, notice_id: int, actor: Actor, measures: Any) -> NoticeReply:
    """The named street's officer answers with its rectification measures (more than once
    if need be); a reply after the due date is kept as late."""
    notice = get_notice(session, notice_id, actor)
    if actor.role != "street_officer":
        raise Forbidden(
            f"整改措施须由被通报街道的街道办事处回复（当前身份：{role_label(actor)}）", "role"
        )
    measures = clean_text(measures, "measures", "整改措施", True)
    ns, street = _named_rows(session, notice.id, actor)[0]
    now = clock.now()
    row = NoticeReply(
        notice_street_id=ns.id,
        notice_id=notice.id,
        district_code=ns.district_code,
        street_id=street.id,
        measures=measures,
        replied_by=actor.name,
        replied_at=now,
        late=clock.to_local(now).date() > notice.reply_due,
    )
    session.add(row)
    session.flush()
    return row


def history_by_street(
    session: Session, actor: Actor, since: date | None = None
) -> dict[str, dict[str, Any]]:
    """Per street code: how many 通报 named it (issued on `since` or later: the campaign's),
    how many of them it answered late or not at all, and how many per month of issue
    (YYYY-MM), for the ranking's history. A street role: its own street only."""
    out: dict[str, dict[str, Any]] = {}
    for row in list_notices(session, actor):
        if since is not None and row["issued_on"] < since.isoformat():
            continue
        counts = out.setdefault(
            row["street_code"], {"notices": 0, "late_or_missing": 0, "by_month": {}}
        )
        counts["notices"] += 1
        if row["reply_state"] in ("late", "overdue"):
            counts["late_or_missing"] += 1
        month = row["issued_on"][:7]
        counts["by_month"][month] = counts["by_month"].get(month, 0) + 1
    return out


def notice_history(session: Session, actor: Actor, since: date | None) -> list[dict[str, Any]]:
    """Every street `actor` may see (a street role: its own) with its 通报 counts since
    `since` (history_by_street), in street code order; streets never named count 0."""
    counts = history_by_street(session, actor, since)
    query = select(Street.code, Street.name).order_by(Street.code)
    if not actor.is_district:
        query = query.where(Street.code == (actor.street_code or ""))
    empty: dict[str, Any] = {"notices": 0, "late_or_missing": 0, "by_month": {}}
    return [
        {"code": code, "name": name, **counts.get(code, empty)}
        for code, name in session.execute(query)
    ]


# ---------------------------------------------------------------- 专项督查

FINDING_STATES = {"open": "待整改", "answered": "已答复待审核", "closed": "已通过"}


def create_inspection(
    session: Session,
    actor: Actor,
    held_on: Any,
    title: Any,
    street_codes: Any,
    findings: Any,
    note: Any = "",
) -> Inspection:
    """Record a 专项督查: its date (not in the future), streets, and per visited site the
    finding and the correction required by a due date (from the inspection's day on)."""
    require_district(actor, "记录专项督查")
    today = clock.today()
    day = parse_date(held_on, "held_on")
    if day is None:
        raise ValidationError("缺少督查日期", "held_on")
    if day > today:
        raise ValidationError(f"督查日期不能晚于今天（{today}）", "held_on")
    title = clean_text(title, "title", "督查名称", True, 200)
    note = clean_text(note, "note", "督查说明", False)
    if not isinstance(street_codes, list) or not street_codes:
        raise ValidationError("请至少选择一个督查的街道", "streets")
    streets: dict[str, Street] = {}
    for i, code in enumerate(street_codes):
        street = (
            session.scalar(select(Street).where(Street.code == code.strip()))
            if isinstance(code, str)
            else None
        )
        if street is None:
            raise ValidationError(f"没有代码为 {code} 的街道", f"streets[{i}]")
        streets[street.code] = street
    rows = []
    for i, item in enumerate(parse_findings(findings)):
        where = f"findings[{i}]"
        site = session.scalar(
            select(Site).where(Site.code == item["site"], Site.deleted_at.is_(None))
        )
        if site is None:
            raise ValidationError(f"没有编号为 {item['site']} 的点位", f"{where}.site")
        if site.street_id not in {s.id for s in streets.values()}:
            raise ValidationError(f"点位 {site.code} 不在本次督查的街道内", f"{where}.site")
        due = parse_date(item["due_date"], f"{where}.due_date")
        if due is None:
            raise ValidationError("缺少整改期限", f"{where}.due_date")
        if due < day:
            raise ValidationError("整改期限不能早于督查日期", f"{where}.due_date")
        if item["photo_ids"]:
            found = set(
                session.scalars(
                    select(Photo.id).where(
                        Photo.id.in_(item["photo_ids"]), Photo.site_id == site.id
                    )
                )
            )
            if found != set(item["photo_ids"]):
                raise ValidationError(f"照片须是点位 {site.code} 的照片", f"{where}.photo_ids")
        rows.append((site, item, due))
    inspection = Inspection(
        district_code=next(iter(streets.values())).district_code,
        held_on=day,
        title=title,
        note=note,
        street_ids=[s.id for s in streets.values()],
        created_by=actor.name,
        created_at=clock.now(),
    )
    session.add(inspection)
    session.flush()
    for ord_, (site, item, due) in enumerate(rows, start=1):
        session.add(
            InspectionFinding(
                inspection_id=inspection.id,
                district_code=site.district_code,
                street_id=site.street_id,
                site_id=site.id,
                ord=ord_,
                finding=item["finding"],
                photo_ids=item["photo_ids"],
                correction=item["correction"],
                due_date=due,
            )
        )
    session.flush()
    return inspection


def _own_street_id(session: Session, actor: Actor) -> int | None:
    if actor.is_district:
        return None
    return session.scalar(select(Street.id).where(Street.code == (actor.street_code or ""))) or -1


def get_inspection(session: Session, inspection_id: int, actor: Actor) -> Inspection:
    _require_reader(actor)
    found = session.get(Inspection, inspection_id) if _valid_id(inspection_id) else None
    own = _own_street_id(session, actor)
    if found is None or (own is not None and own not in found.street_ids):
        raise NotFound(f"没有编号为 {inspection_id} 的专项督查", "inspection_id")
    return found


def _finding_rows(session: Session, actor: Actor, *conds: Any) -> list[dict[str, Any]]:
    own = _own_street_id(session, actor)
    query = (
        select(InspectionFinding, Site.code, Street.code, Street.name)
        .join(Site, Site.id == InspectionFinding.site_id)
        .join(Street, Street.id == InspectionFinding.street_id)
        .where(*conds)
    )
    if own is not None:
        query = query.where(InspectionFinding.street_id == own)
    today = clock.today()
    return [
        {
            "id": f.id,
            "inspection_id": f.inspection_id,
            "site_id": f.site_id,
            "site_code": site_code,
            "street_code": street_code,
            "street": street_name,
            "finding": f.finding,
            "photo_ids": f.photo_ids,
            "correction": f.correction,
            "due_date": f.due_date.isoformat(),
            "status": f.status,
            "status_label": FINDING_STATES[f.status],
            "overdue": f.status == "open" and f.due_date < today,
            "answer": f.answer,
            "answered_by": f.answered_by,
            "answered_at_local": clock.fmt_local(f.answered_at),
            "review_comment": f.review_comment,
            "reviewed_by": f.reviewed_by,
        }
        for f, site_code, street_code, street_name in session.execute(
            query.order_by(InspectionFinding.due_date, InspectionFinding.id)
        ).all()
    ]


def inspection_view(session: Session, inspection_id: int, actor: Actor) -> dict[str, Any]:
    ins = get_inspection(session, inspection_id, actor)
    names = dict(
        session.execute(select(Street.id, Street.name).where(Street.id.in_(ins.street_ids))).all()
    )
    return {
        "id": ins.id,
        "held_on": ins.held_on.isoformat(),
        "title": ins.title,
        "note": ins.note,
        "streets": [names[i] for i in ins.street_ids],
        "created_by": ins.created_by,
        "findings": _finding_rows(session, actor, InspectionFinding.inspection_id == ins.id),
    }


def list_inspections(session: Session, actor: Actor) -> list[dict[str, Any]]:
    _require_reader(actor)
    own = _own_street_id(session, actor)
    query = select(Inspection)
    if own is not None:
        query = query.where(literal(own) == any_(Inspection.street_ids))
    out = []
    for ins in session.scalars(query.order_by(Inspection.held_on.desc(), Inspection.id.desc())):
        rows = _finding_rows(session, actor, InspectionFinding.inspection_id == ins.id)
        names = dict(
            session.execute(
                select(Street.id, Street.name).where(Street.id.in_(ins.street_ids))
            ).all()
        )
        out.append(
            {
                "id": ins.id,
                "held_on": ins.held_on.isoformat(),
                "title": ins.title,
                "streets": [names[i] for i in ins.street_ids],
                "findings": len(rows),
                "open": sum(1 for r in rows if r["status"] != "closed"),
            }
        )
    return out


def open_corrections(
    session: Session, actor: Actor, street_code: str | None = None
) -> list[dict[str, Any]]:
    """Corrections not closed yet (the to-do lists, the street's dashboard)."""
    _require_reader(actor)
    conds: list[Any] = [InspectionFinding.status != "closed"]
    if street_code:
        conds.append(Street.code == street_code)
    return _finding_rows(session, actor, *conds)


def _finding_for(session: Session, finding_id: int, actor: Actor) -> InspectionFinding:
    _require_reader(actor)
    found = session.get(InspectionFinding, finding_id) if _valid_id(finding_id) else None
    own = _own_street_id(session, actor)
    if found is None or (own is not None and found.street_id != own):
        raise NotFound(f"没有编号为 {finding_id} 的督查整改事项", "finding_id")
    return found


def answer_correction(
    session: Session, finding_id: int, actor: Actor, answer: Any
) -> InspectionFinding:
    """The street's officer says what was done; the office then reviews it."""
    finding = _finding_for(session, finding_id, actor)
    if actor.role != "street_officer":
        raise Forbidden(
            f"整改情况须由该街道的街道办事处答复（当前身份：{role_label(actor)}）", "role"
        )
    text_ = clean_text(answer, "answer", "整改情况", True)
    if finding.status == "closed":
        raise Conflict("该整改事项已审核通过，不能再答复", "status")
    finding.answer = text_
    finding.answered_by = actor.name
    finding.answered_at = clock.now()
    finding.status = "answered"
    session.flush()
    return finding


def review_correction(
    session: Session, finding_id: int, actor: Actor, decision: Any, comment: Any = ""
) -> InspectionFinding:
    """The office accepts an answer (closed) or returns it (open again, comment required)."""
    require_district(actor, "审核督查整改")
    finding = _finding_for(session, finding_id, actor)
    if decision not in ("accept", "return"):
        raise ValidationError("审核结论须是 accept（通过）或 return（退回）", "decision")
    comment = clean_text(comment, "comment", "审核意见", decision == "return")
    if finding.status != "answered":
        raise Conflict("只能审核街道已答复的整改事项", "status")
    finding.status = "closed" if decision == "accept" else "open"
    finding.review_comment = comment
    finding.reviewed_by = actor.name
    finding.reviewed_at = clock.now()
    session.flush()
    return finding


# ---------------------------------------------------------------- 例会

BUREAU_OWNERS = {
    "bureau_housing": "区住建委",
    "bureau_civil": "区民政局",
    "bureau_police": "公安河东分局",
}
MAX_TASKS = 50


def _past_day(value: Any, field: str, label: str) -> date:
    day = parse_date(value, field)
    if day is None:
        raise ValidationError(f"缺少{label}", field)
    if day > clock.today():
        raise ValidationError(f"{label}不能晚于今天（{clock.today()}）", field)
    return day


def record_meeting(
    session: Session,
    actor: Actor,
    held_on: Any,
    title: Any,
    attendees: Any,
    reports: Any,
    decisions: Any,
    tasks: Any,
) -> Meeting:
    """Record a 例会: the figures of every street as they are now are frozen into it; each
    task ({owner: street code or bureau role, task, due_date}) goes to its owner's to-do
    list until done."""
    require_district(actor, "记录例会")
    day = _past_day(held_on, "held_on", "例会日期")
    title = clean_text(title, "title", "会议名称", True, 200)
    attendees = clean_text(attendees, "attendees", "参会人员", True)
    decisions = clean_text(decisions, "decisions", "会议决定", False)
    codes = dict(session.execute(select(Street.code, Street.id)).all())
    heard = []
    if not isinstance(reports, list):
        raise ValidationError("听取的汇报须是列表", "reports")
    for i, item in enumerate(reports):
        code = item.get("street") if isinstance(item, dict) else None
        if not isinstance(code, str) or code not in codes:
            raise ValidationError(f"没有代码为 {code} 的街道", f"reports[{i}].street")
        summary = clean_text(item.get("summary"), f"reports[{i}].summary", "汇报内容", True)
        heard.append({"street": code, "summary": summary})
    if not isinstance(tasks, list) or len(tasks) > MAX_TASKS:
        raise ValidationError(f"任务须是列表（最多 {MAX_TASKS} 项）", "tasks")
    rows = []
    for i, item in enumerate(tasks):
        where = f"tasks[{i}]"
        if not isinstance(item, dict):
            raise ValidationError("每项任务须是 {owner, task, due_date}", where)
        owner = item.get("owner")
        if not isinstance(owner, str) or (owner not in codes and owner not in BUREAU_OWNERS):
            raise ValidationError("责任单位须是街道代码或委办局", f"{where}.owner")
        text_ = clean_text(item.get("task"), f"{where}.task", "任务内容", True)
        due = parse_date(item.get("due_date"), f"{where}.due_date")
        if due is None or due < day:
            raise ValidationError("任务期限须在例会日期之后", f"{where}.due_date")
        rows.append((owner, text_, due))
    frozen = [
        {"code": c["code"], "name": c["name"], **c["figures"]}
        for c in candidates(session, clock.today())
        if c["figures"]["total"]
    ]
    meeting = Meeting(
        district_code=session.scalar(select(Street.district_code).limit(1)) or "",
        held_on=day,
        title=title,
        attendees=attendees,
        reports=heard,
        figures=frozen,
        decisions=decisions,
        created_by=actor.name,
        created_at=clock.now(),
    )
    session.add(meeting)
    session.flush()
    for owner, text_, due in rows:
        session.add(
            MeetingTask(
                meeting_id=meeting.id,
                district_code=meeting.district_code,
                street_id=codes.get(owner),
                bureau_role=owner if owner in BUREAU_OWNERS else None,
                meeting_label=f"{meeting.held_on} {meeting.title}",
                task=text_,
                due_date=due,
            )
        )
    session.flush()
    return meeting


def _task_scope(session: Session, actor: Actor) -> list[Any]:
    if actor.is_district:
        return []
    if actor.role in STREET_ROLES:
        return [MeetingTask.street_id == (_own_street_id(session, actor) or -1)]
    if actor.role in BUREAU_OWNERS:
        return [MeetingTask.bureau_role == actor.role]
    raise Forbidden(f"无权查看例会任务（当前身份：{role_label(actor)}）", "role")


def meeting_tasks(
    session: Session, actor: Actor, *conds: Any, open_only: bool = False
) -> list[dict[str, Any]]:
    """Tasks `actor` may see: the district all, a street its own, a bureau its own."""
    query = (
        select(MeetingTask, Street.name)
        .outerjoin(Street, Street.id == MeetingTask.street_id)
        .where(*_task_scope(session, actor), *conds)
    )
    if open_only:
        query = query.where(MeetingTask.status == "open")
    today = clock.today()
    return [
        {
            "id": t.id,
            "meeting_id": t.meeting_id,
            "meeting": t.meeting_label,
            "owner": street or BUREAU_OWNERS.get(t.bureau_role or "", ""),
            "task": t.task,
            "due_date": t.due_date.isoformat(),
            "status": t.status,
            "overdue": t.status == "open" and t.due_date < today,
            "done_note": t.done_note,
            "done_by": t.done_by,
            "done_at_local": clock.fmt_local(t.done_at),
        }
        for t, street in session.execute(query.order_by(MeetingTask.due_date, MeetingTask.id)).all()
    ]


def meeting_view(session: Session, meeting_id: int, actor: Actor) -> dict[str, Any]:
    require_district(actor, "查看例会记录")
    meeting = session.get(Meeting, meeting_id) if _valid_id(meeting_id) else None
    if meeting is None:
        raise NotFound(f"没有编号为 {meeting_id} 的例会", "meeting_id")
    names = dict(session.execute(select(Street.code, Street.name)).all())
    return {
        "id": meeting.id,
        "held_on": meeting.held_on.isoformat(),
        "title": meeting.title,
        "attendees": meeting.attendees,
        "reports": [
            {**r, "street_name": names.get(r["street"], r["street"])} for r in meeting.reports
        ],
        "figures": meeting.figures,
        "decisions": meeting.decisions,
        "created_by": meeting.created_by,
        "tasks": meeting_tasks(session, actor, MeetingTask.meeting_id == meeting.id),
    }


def list_meetings(session: Session, actor: Actor) -> list[dict[str, Any]]:
    require_district(actor, "查看例会记录")
    return [
        {"id": m.id, "held_on": m.held_on.isoformat(), "title": m.title}
        for m in session.scalars(
            select(Meeting).order_by(Meeting.held_on.desc(), Meeting.id.desc())
        )
    ]


def complete_task(session: Session, task_id: int, actor: Actor, note: Any) -> MeetingTask:
    """The owner (a street's officer, the bureau) or the district marks a task done."""
    task = session.get(MeetingTask, task_id) if _valid_id(task_id) else None
    visible = bool(task) and bool(meeting_tasks(session, actor, MeetingTask.id == task_id))
    if task is None or not visible:
        raise NotFound(f"没有编号为 {task_id} 的例会任务", "task_id")
    if actor.role == "inspector":
        raise Forbidden("例会任务须由街道办事处办结", "role")
    note = clean_text(note, "note", "完成情况", True)
    if task.status == "done":
        raise Conflict("该任务已办结", "status")
    task.status = "done"
    task.done_note = note
    task.done_by = actor.name
    task.done_at = clock.now()
    session.flush()
    return task


# ---------------------------------------------------------------- 追责

ESCALATED_TO = {"committee": "区委", "government": "区政府"}


def _ids(value: Any, field: str) -> list[int]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,，、]+", value) if v]
    if not isinstance(value, list):
        raise ValidationError("须是编号的列表", field)
    out = []
    for v in value:
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise ValidationError(f"编号无效：{v!r}", field) from None
        if not 0 < n < 2**63:
            raise ValidationError(f"编号无效：{v!r}", field)
        out.append(n)
    return sorted(set(out))


def escalate(
    session: Session,
    actor: Actor,
    street_code: Any,
    person: Any,
    escalated_to: Any,
    grounds: Any,
    notice_ids: Any = None,
    finding_ids: Any = None,
    site_codes: Any = None,
) -> Escalation:
    """Record an escalation of a street or a person (at least one) on stated grounds, linking
    通报 (naming that street), 督查 findings (of that street) and overdue sites (of it)."""
    require_district(actor, "追责移交")
    street = None
    if street_code is not None and not isinstance(street_code, str):
        raise ValidationError("街道须是街道代码", "street")
    if street_code:
        street = session.scalar(select(Street).where(Street.code == str(street_code).strip()))
        if street is None:
            raise ValidationError(f"没有代码为 {street_code} 的街道", "street")
    person = clean_text(person, "person", "被追责人员", False, 200)
    if street is None and not person:
        raise ValidationError("请选择被追责的街道或填写人员", "street")
    if not isinstance(escalated_to, str) or escalated_to not in ESCALATED_TO:
        raise ValidationError(
            "移交对象须是 committee（区委）或 government（区政府）", "escalated_to"
        )
    grounds = clean_text(grounds, "grounds", "追责事由", True)
    notices_ = _ids(notice_ids, "notice_ids")
    findings = _ids(finding_ids, "finding_ids")
    sites: list[int] = []
    for n in notices_:
        cond = [NoticeStreet.notice_id == n]
        if street is not None:
            cond.append(NoticeStreet.street_id == street.id)
        if session.scalar(select(NoticeStreet.id).where(*cond).limit(1)) is None:
            raise ValidationError(f"通报 {n} 不存在或未点名该街道", "notice_ids")
    for f in findings:
        found = session.get(InspectionFinding, f)
        if found is None or (street is not None and found.street_id != street.id):
            raise ValidationError(f"督查发现 {f} 不存在或不属于该街道", "finding_ids")
    if site_codes is not None and not isinstance(site_codes, list | str):
        raise ValidationError("点位须是点位编号的列表", "site_codes")
    codes = (
        site_codes if isinstance(site_codes, list) else re.split(r"[\s,，、]+", site_codes or "")
    )
    for code in [c.strip() for c in codes if isinstance(c, str) and c.strip()]:
        site = session.scalar(select(Site).where(Site.code == code, Site.deleted_at.is_(None)))
        if site is None or (street is not None and site.street_id != street.id):
            raise ValidationError(f"点位 {code} 不存在或不属于该街道", "site_codes")
        sites.append(site.id)
    row = Escalation(
        district_code=session.scalar(select(Street.district_code).limit(1)) or "",
        street_id=street.id if street else None,
        person=person,
        escalated_to=escalated_to,
        submitted_on=clock.today(),
        grounds=grounds,
        notice_ids=notices_,
        finding_ids=findings,
        site_ids=sorted(set(sites)),
        created_by=actor.name,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def decide_escalation(
    session: Session, escalation_id: int, actor: Actor, decision: Any
) -> Escalation:
    require_district(actor, "记录追责决定")
    row = session.get(Escalation, escalation_id) if _valid_id(escalation_id) else None
    if row is None:
        raise NotFound(f"没有编号为 {escalation_id} 的追责记录", "escalation_id")
    text_ = clean_text(decision, "decision", "处理决定", True)
    if row.decided_on is not None:
        raise Conflict("该追责已记录处理决定", "decision")
    row.decision = text_
    row.decided_on = clock.today()
    session.flush()
    return row


def list_escalations(session: Session, actor: Actor) -> list[dict[str, Any]]:
    require_district(actor, "查看追责记录")
    names = dict(session.execute(select(Street.id, Street.name)).all())
    site_codes = dict(session.execute(select(Site.id, Site.code)).all())
    return [
        {
            "id": e.id,
            "street": names.get(e.street_id or -1, ""),
            "person": e.person,
            "escalated_to": ESCALATED_TO[e.escalated_to],
            "submitted_on": e.submitted_on.isoformat(),
            "grounds": e.grounds,
            "notice_ids": e.notice_ids,
            "finding_ids": e.finding_ids,
            "sites": [site_codes.get(s, str(s)) for s in e.site_ids],
            "decision": e.decision,
            "decided_on": e.decided_on.isoformat() if e.decided_on else None,
            "created_by": e.created_by,
        }
        for e in session.scalars(select(Escalation).order_by(Escalation.id.desc()))
    ]
