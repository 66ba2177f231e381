"""The audit trail: reading a site's and a user's trail, and verifying the hash chain.

The events are written by the database's triggers (migration 0007_audit), never by the app.
`verify` recomputes every event's hash in Python from the database's canonical text of its
values, and names the first event that was changed, removed or slipped in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, or_, select, text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.features.accounts.models import User
from gis_app.features.audit.models import AuditEvent
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_district

GENESIS = "0" * 64
SEPARATOR = "\x1f"
TABLE_LABELS = {
    "sites": "点位",
    "site_events": "点位历史",
    "site_steps": "治理步骤",
    "photos": "照片",
    "acceptance_views": "验收查看",
    "extension_requests": "延期申请",
    "monthly_reports": "月报",
    "renovation_works": "改造完工",
    "daily_runs": "每日检查",
    "import_batches": "台账导入",
    "streets": "街道",
    "districts": "区",
    "users": "账户",
    "api_tokens": "接口令牌",
}
ACTION_LABELS = {"insert": "新增", "update": "修改", "delete": "删除", "truncate": "清空"}
#: columns that change with every write and say nothing of their own
_NOISE = {"updated_at", "version", "last_seen_at", "last_used_at"}


def event_hash(prev: str, seq: int, at_text: str, values: list[str]) -> str:
    """sha256 over the event's fields joined by U+001F (as the database computes it)."""
    joined = SEPARATOR.join([prev, str(seq), at_text, *values])
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- reading the trail


def _changes(event: AuditEvent) -> dict[str, list[Any]]:
    before, after = event.before or {}, event.after or {}
    keys = [k for k in {**before, **after} if k not in _NOISE]
    if event.action == "update":
        keys = [k for k in keys if before.get(k) != after.get(k)]
    return {k: [before.get(k), after.get(k)] for k in keys}


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "at_local": clock.fmt_local(event.at, with_seconds=True),
        "actor": event.actor,
        "app_role": event.app_role,
        "table": event.table_name,
        "table_label": TABLE_LABELS.get(event.table_name, event.table_name),
        "row_id": event.row_id,
        "site_id": event.site_id,
        "action": event.action,
        "action_label": ACTION_LABELS.get(event.action, event.action),
        "changes": _changes(event),
        "hash": event.hash,
    }


def site_trail(session: Session, actor: Actor, site_id: int, limit: int = 500) -> list[dict]:
    """Every change to a site and to the rows that belong to it, newest first."""
    require_district(actor, "查看审计记录")
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.site_id == site_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [event_dict(e) for e in events]


def user_trail(session: Session, actor: Actor, username: str, limit: int = 500) -> list[dict]:
    """What a user did, and what was done to their account, newest first."""
    require_district(actor, "查看审计记录")
    user_id = session.scalar(select(User.id).where(User.username == username))
    own_row = (
        (AuditEvent.table_name == "users") & (AuditEvent.row_id == str(user_id))
        if user_id is not None
        else None
    )
    cond = (
        AuditEvent.actor == username
        if own_row is None
        else or_(AuditEvent.actor == username, own_row)
    )
    events = session.scalars(
        select(AuditEvent).where(cond).order_by(AuditEvent.id.desc()).limit(limit)
    )
    return [event_dict(e) for e in events]


def recent(session: Session, actor: Actor, limit: int = 100) -> list[dict]:
    require_district(actor, "查看审计记录")
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit))
    return [event_dict(e) for e in events]


# ---------------------------------------------------------------- verifying the chain


@dataclass
class Problem:
    seq: int | None
    kind: str  # changed, missing, outside_chain, head
    message: str


@dataclass
class VerifyReport:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problems": [p.__dict__ for p in self.problems],
        }


_ROWS = text(
    """
    SELECT seq, id, prev_hash, hash,
           to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_text,
           actor, app_role, table_name, coalesce(row_id, '') AS row_id,
           coalesce(site_id::text, '') AS site_id, action,
           coalesce(before::text, '') AS before, coalesce(after::text, '') AS after
    FROM audit.events
    WHERE seq > :after
    ORDER BY seq
    LIMIT :batch
    """
)


def verify(
    conn: Connection | Session,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk the chain from the first event: every hash recomputed, every link checked, no
    position missing, the head where the last event is. Stops at the first problem."""
    report = VerifyReport()
    head = conn.execute(text("SELECT seq, hash FROM audit.chain_head")).one()
    problem = _outside_chain(conn)
    if problem is not None:
        report.problems.append(problem)
        return report
    expected, prev, last = 1, GENESIS, 0
    while True:
        rows = conn.execute(_ROWS, {"after": last, "batch": batch}).all()
        if not rows:
            break
        for r in rows:
            problem = _check_event(r, expected, prev)
            if problem is not None:
                report.problems.append(problem)
                return report
            prev, expected, last = r.hash, expected + 1, r.seq
            report.checked += 1
        if progress:
            progress(report.checked)
    report.head_seq, report.head_hash = last, prev
    problem = _check_head(head, last, prev)
    if problem is not None:
        report.problems.append(problem)
    return report


def _outside_chain(conn: Connection | Session) -> Problem | None:
    """Events written past the triggers (no position in the chain)."""
    outside = conn.execute(
        text("SELECT count(*), min(id) FROM audit.events WHERE seq IS NULL")
    ).one()
    if not outside[0]:
        return None
    return Problem(
        None,
        "outside_chain",
        f"有 {outside[0]} 条审计事件不在链中（首条 id {outside[1]}）：被绕过触发器写入",
    )


def _check_event(r: Row[Any], expected: int, prev: str) -> Problem | None:
    """One event against the chain walked so far: its position, its link, its own hash."""
    if r.seq != expected:
        missing = f"第 {expected} 号" if r.seq == expected + 1 else f"第 {expected}–{r.seq - 1} 号"
        return Problem(expected, "missing", f"审计事件{missing}缺失（被删除）")
    if r.prev_hash != prev:
        return Problem(
            expected - 1,
            "changed",
            f"第 {expected - 1} 号审计事件被改动：第 {expected} 号事件记录的前一哈希与之不符",
        )
    values = [r.actor, r.app_role, r.table_name, r.row_id, r.site_id, r.action]
    values += [r.before, r.after]
    if event_hash(prev, r.seq, r.at_text, values) != r.hash:
        return Problem(
            r.seq,
            "changed",
            f"第 {r.seq} 号审计事件被改动（id {r.id}，{r.table_name} "
            f"{r.row_id}）：内容与其哈希不符",
        )
    return None


def _check_head(head: Row[Any], last: int, prev: str) -> Problem | None:
    """The chain's head record against the last event walked."""
    if head.seq == last and head.hash == prev:
        return None
    if head.seq > last:
        msg = f"第 {last + 1}–{head.seq} 号审计事件缺失（链尾被删除）"
        return Problem(last + 1, "missing", msg)
    return Problem(head.seq, "head", f"链头记录（第 {head.seq} 号）与最后一条事件不符")


def site_id_of_code(session: Session, code: str) -> int | None:
    """The id of a site by its code (deleted sites too: their trail stays readable)."""
    return session.scalar(select(Site.id).where(Site.code == code).order_by(Site.id).limit(1))


def site_code_of(session: Session, site_id: int) -> str | None:
    """A site's code (deleted sites too)."""
    return session.scalar(select(Site.code).where(Site.id == site_id))
