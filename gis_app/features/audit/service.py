"""The audit trail: reading a site's and a user's trail, and verifying the hash chain.

The events are written by the database's triggers (migration 0007_audit), never by the app.
`verify` recomputes every event's hash in Python from the database's canonical text of its
values, and names the first event that was changed, removed or slipped in.

The chain alone cannot show what someone with the owner's rights does to its end: deleting
the last events and moving the head back, or changing an event and recomputing every hash
after it, leaves a chain that is whole. So its head is anchored outside the database: every
`gis-app daily` appends the head (position and hash) to a file (GIS_APP_AUDIT_HEAD_FILE), each
line keyed with an HMAC whose key the database never holds (derived from the app's secret
key) and linked to the line before; `verify` checks the chain against the last anchor (or a
head given with `--head`), so that a chain rewritten or cut back behind an anchor is found.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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
    "renovation_plans": "改造规范治理方案",
    "renovation_plan_works": "改造施工记录",
    "daily_runs": "每日检查",
    "import_batches": "台账导入",
    "streets": "街道",
    "districts": "区",
    "users": "账户",
    "api_tokens": "接口令牌",
    "coverage_records": "媒体报道",
    "coverage_links": "媒体报道关联",
    "publicity_records": "宣传工作",
    "patrols": "巡查",
    "patrol_stops": "巡查点位",
    "patrol_findings": "巡查发现",
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


@dataclass(frozen=True)
class Anchor:
    """A head of the chain recorded outside the database: its position and hash."""

    seq: int | None  # None: a hash given alone (`--head HASH`), found wherever it is
    hash: str

    @classmethod
    def parse(cls, text_value: str) -> Anchor:
        """`HASH` or `SEQ:HASH` (as `audit verify` prints the head)."""
        raw = text_value.strip().lower()
        seq, _, digest = raw.rpartition(":")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("链头应为 64 位十六进制哈希（或 序号:哈希）")
        return cls(int(seq) if seq.isdigit() else None, digest)


def verify(
    conn: Connection | Session,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    anchor: Anchor | None = None,
) -> VerifyReport:
    """Walk the chain from the first event: every hash recomputed, every link checked, no
    position missing, the head where the last event is, and the `anchor` (a head recorded
    outside the database) still in the chain at its place. Stops at the first problem."""
    report = VerifyReport()
    anchored = anchor is None
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
            if problem is None and anchor is not None and not anchored:
                problem, anchored = _check_anchor(r, anchor)
            if problem is not None:
                report.problems.append(problem)
                return report
            prev, expected, last = r.hash, expected + 1, r.seq
            report.checked += 1
        if progress:
            progress(report.checked)
    report.head_seq, report.head_hash = last, prev
    problem = _check_head(head, last, prev)
    if problem is None and not anchored and anchor is not None:
        where = f"第 {anchor.seq} 号" if anchor.seq is not None else "哈希为该值的事件"
        problem = Problem(
            anchor.seq,
            "anchor",
            f"外部记录的链头（{where} {anchor.hash[:16]}…）已不在链中："
            f"链尾被删除、链头被移回（现在链头是第 {last} 号）",
        )
    if problem is not None:
        report.problems.append(problem)
    return report


def _check_anchor(r: Row[Any], anchor: Anchor) -> tuple[Problem | None, bool]:
    """One event against the anchor: (a problem, whether the anchor is reached)."""
    if anchor.seq is None:
        return None, r.hash == anchor.hash
    if r.seq != anchor.seq:
        return None, False
    if r.hash != anchor.hash:
        return (
            Problem(
                r.seq,
                "anchor",
                f"第 {r.seq} 号审计事件与外部记录的链头不符：链被改动后重算了哈希",
            ),
            True,
        )
    return None, True


# ---------------------------------------------------------------- rows past the triggers


def unaudited_rows(conn: Connection | Session, limit: int = 20) -> list[Problem]:
    """Rows of the audited tables whose last change has no event: the row's xmin (the
    transaction that wrote its current version) against the transactions of its events.
    Finds a row written with the triggers disabled (session_replication_role = replica,
    DISABLE TRIGGER); an UPDATE that changed nothing also leaves a new version and no event,
    so a finding is a row to look at, not a proof of tampering."""
    triggers = conn.execute(
        text(
            "SELECT c.relname, t.tgargs FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'audit_row' AND NOT t.tgisinternal ORDER BY c.relname"
        )
    ).all()
    problems: list[Problem] = []
    for table, args in triggers:
        key = bytes(args).split(b"\x00")[0].decode() or "id"
        rows = conn.execute(
            text(
                f'SELECT t."{key}"::text FROM public."{table}" t WHERE NOT EXISTS ('
                "SELECT 1 FROM audit.events e WHERE e.table_name = :table "
                f'AND e.row_id = t."{key}"::text '
                "AND e.xact % 4294967296 = t.xmin::text::bigint) LIMIT :limit"
            ),
            {"table": table, "limit": limit},
        ).scalars()
        for row_id in rows:
            label = TABLE_LABELS.get(table, table)
            problems.append(
                Problem(
                    None,
                    "unaudited",
                    f"{label}（{table}）{row_id} 的最后一次改动没有审计事件：绕过触发器写入？",
                )
            )
    return problems


# ---------------------------------------------------------------- the anchors outside


def anchor_key(secret_key: str) -> bytes:
    """The anchors' HMAC key: derived from the app's secret key, which the database never
    holds (it lives in the environment or GIS_APP_DATA_DIR)."""
    return hmac.new(secret_key.encode(), b"gis-app audit anchors", hashlib.sha256).digest()


def _anchor_mac(key: bytes, previous_mac: str, at: str, seq: int, digest: str) -> str:
    message = f"{previous_mac}|{at}|{seq}|{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def read_anchors(path: Path, key: bytes) -> list[tuple[str, Anchor]]:
    """The anchors of the file, oldest first, each MAC checked (and linked to the line
    before): ValueError naming the first line that was changed, removed or forged."""
    out: list[tuple[str, Anchor]] = []
    previous = ""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if len(parts) != 4 or not parts[1].isdigit():
            raise ValueError(f"{path} 第 {number} 行格式不对")
        at, seq, digest, mac = parts[0], int(parts[1]), parts[2], parts[3]
        if not hmac.compare_digest(mac, _anchor_mac(key, previous, at, seq, digest)):
            raise ValueError(f"{path} 第 {number} 行被改动（或其前一行被删除）：校验码不符")
        out.append((at, Anchor(seq, digest)))
        previous = mac
    return out


def append_anchor(conn: Connection | Session, path: Path, key: bytes) -> Anchor:
    """Append the chain's head to the anchors file (mode 0600), keyed and linked."""
    head = conn.execute(text("SELECT seq, hash FROM audit.chain_head")).one()
    previous = ""
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
        previous = lines[-1].split()[-1] if lines else ""
    at = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = _anchor_mac(key, previous, at, int(head.seq), head.hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(f"{at} {int(head.seq)} {head.hash} {mac}\n")
    return Anchor(int(head.seq), head.hash)


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
