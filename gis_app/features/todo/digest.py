"""The daily digest: each active user's to-do list of the day, queued in the outbox
(digest_outbox) and delivered to a folder (one JSON file per user) and/or a group robot's
webhook, in 政务钉钉's or 企业微信's markdown message format.

Queuing is idempotent per day, user and channel. Delivery takes the pending messages oldest
first; a message that fails stays pending with its error and attempts, and is sent by the
next run (`gis-app daily`, `gis-app digest send`). A receiver that is down or slower than the
timeout stops this run's posts (the rest wait for the next run): it costs one timeout at most,
never a run's other work, and no message is lost.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import ROLES, Actor
from gis_app.features.accounts.models import User
from gis_app.features.todo import service as todo
from gis_app.features.todo.models import DigestMessage

CHANNELS = ("file", "dingtalk", "wecom")
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True)
class DigestConfig:
    folder: str = ""
    webhook_url: str = ""
    webhook_format: str = "dingtalk"
    timeout_seconds: float = 5.0

    @property
    def channels(self) -> list[str]:
        return [
            *(["file"] if self.folder else []),
            *([self.webhook_format] if self.webhook_url else []),
        ]


def markdown(name: str, day: date, items: list[dict[str, Any]], base_url: str = "") -> str:
    """The list as markdown (both robots render it): a heading, then the items by group."""
    lines = [f"### {name} 的待办（{day}，{len(items)} 项）"]
    for group, entries in todo.grouped(items):
        lines.append(f"#### {group}（{len(entries)}）")
        lines += [
            f"- {'**逾期** ' if e['alert'] else ''}[{e['text']}]({base_url}{e['url']})"
            for e in entries
        ]
    return "\n".join(lines)


def payload(channel: str, user: User, day: date, items: list[dict[str, Any]]) -> dict[str, Any]:
    title = f"{user.display_name or user.username} 的待办（{day}，{len(items)} 项）"
    text = markdown(user.display_name or user.username, day, items)
    if channel == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if channel == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {
        "user": user.username,
        "name": user.display_name,
        "role": user.role,
        "role_label": ROLES.get(user.role, user.role),
        "street": user.street_code,
        "day": day.isoformat(),
        "count": len(items),
        "items": [{k: v for k, v in i.items() if k not in ("endpoint", "args")} for i in items],
        "markdown": text,
    }


def queue(
    session: Session,
    district_code: str,
    day: date,
    config: DigestConfig,
    link: Any,
) -> int:
    """Queue the day's list of every active user with something to do, for each configured
    channel (`link(item)`: the item's page). Returns how many messages were new."""
    if not config.channels:
        return 0
    added = 0
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    for user in users:
        actor = Actor(user.username, user.role, user.street_code, user.id)
        items = todo.items_for(session, actor)
        if not items:
            continue
        for item in items:
            item["url"] = link(item)
        for channel in config.channels:
            body = payload(channel, user, day, items)
            result = session.execute(
                insert(DigestMessage)
                .values(
                    district_code=district_code,
                    day=day,
                    username=user.username,
                    channel=channel,
                    title=f"{user.username} {day}",
                    payload=body,
                    created_at=clock.now(),
                )
                .on_conflict_do_nothing(constraint="uq_digest_outbox")
            )
            added += result.rowcount or 0
    session.flush()
    return added


def _write(folder: str, message: DigestMessage) -> None:
    target = Path(folder) / message.day.isoformat()
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{_UNSAFE.sub('_', message.username)}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(message.payload, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


class ReceiverUnavailable(Exception):
    """The webhook's receiver is down or too slow: stop posting in this run."""


def _post(url: str, body: dict[str, Any], timeout: float) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ReceiverUnavailable(str(getattr(exc, "reason", exc)) or type(exc).__name__) from None
    try:  # the robots answer {"errcode": 0, "errmsg": "ok"}
        code = json.loads(answer or b"{}").get("errcode", 0)
    except (ValueError, AttributeError):
        code = 0
    if code:
        raise RuntimeError(f"errcode {code}: {answer[:200].decode('utf-8', 'replace')}")


def deliver(session: Session, config: DigestConfig) -> dict[str, int]:
    """Send the pending messages, oldest first: {"sent", "failed", "left"}."""
    sent = failed = 0
    receiver_down = False
    pending = session.scalars(
        select(DigestMessage).where(DigestMessage.status == "pending").order_by(DigestMessage.id)
    ).all()
    left = 0
    for message in pending:
        try:
            if message.channel == "file":
                if not config.folder:
                    left += 1
                    continue
                _write(config.folder, message)
            else:
                if receiver_down or not config.webhook_url:
                    left += 1
                    continue
                _post(config.webhook_url, message.payload, config.timeout_seconds)
        except (ReceiverUnavailable, RuntimeError, OSError) as exc:
            receiver_down = receiver_down or isinstance(exc, ReceiverUnavailable)
            message.attempts += 1
            message.last_error = str(exc)[:500]
            failed += 1
            continue
        message.attempts += 1
        message.status = "sent"
        message.sent_at = clock.now()
        message.last_error = ""
        sent += 1
    session.flush()
    return {"sent": sent, "failed": failed, "left": left}
