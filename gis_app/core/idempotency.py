"""Idempotency keys (`Idempotency-Key` header): a request retried with the same key by the
same user is answered from the stored response, and not carried out a second time.

The stored answer is written in the same transaction as the change it answers for: both are
there or neither. Requests with the same key queue on a transaction-scoped advisory lock, so
two copies racing each other also give one change and the same answer. A key is the user's
own (another user's same key is another key) and lives KEY_TTL; the same key with another
request (method, path or body) is refused with 422.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    DateTime,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import ValidationError
from gis_app.core.models import Base


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("username", "key", name="idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(6), nullable=False)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    status_code: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    response_body: Mapped[str] = mapped_column(Text, nullable=False)  # the JSON as sent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


HEADER = "Idempotency-Key"
#: how long a key is remembered
KEY_TTL = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces (UUIDs, ULIDs…)


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: str  # the JSON text of the first answer


def check_key(raw: str | None) -> str | None:
    """The header's value, or None without one; a malformed key is a 422."""
    if raw is None:
        return None
    key = raw.strip()
    if not _KEY.match(key):
        raise ValidationError(f"幂等键 {HEADER} 须是 1 到 255 个可见 ASCII 字符（如 UUID）", HEADER)
    return key


def fingerprint(method: str, path: str, *parts: bytes | str) -> str:
    """What identifies the request a key was first used for."""
    digest = hashlib.sha256(f"{method.upper()} {path}".encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def claim(session: Session, actor: Actor, key: str, print_: str) -> Replay | None:
    """Start the transaction of a keyed request: wait for any other request with the same
    key, then give its stored answer (or 422 if that was another request), or None: go on,
    and `remember` the answer before committing."""
    session.execute(
        select(
            func.pg_advisory_xact_lock(
                func.hashtextextended(f"idempotency\n{actor.name}\n{key}", 0)
            )
        )
    )
    now = clock.now()
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.username == actor.name, IdempotencyKey.key == key
        )
    )
    if row is not None and row.expires_at <= now:
        session.delete(row)
        session.flush()
        row = None
    if row is None:
        return None
    if row.fingerprint != print_:
        raise ValidationError(
            f"幂等键 {HEADER} 已用于另一个请求（{row.method} {row.path}，"
            f"{clock.fmt_local(row.created_at)}）：重试请原样重发，新请求请换一个新键",
            HEADER,
        )
    return Replay(row.status_code, row.response_body)


def remember(
    session: Session,
    actor: Actor,
    key: str,
    print_: str,
    request: tuple[str, str],
    answer: tuple[int, str],
    district_code: str,
) -> None:
    """Store the answer (in the transaction of the change); drop the user's expired keys."""
    now = clock.now()
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.username == actor.name, IdempotencyKey.expires_at <= now
        )
    )
    session.add(
        IdempotencyKey(
            district_code=district_code,
            username=actor.name,
            key=key,
            fingerprint=print_,
            method=request[0].upper(),
            path=request[1],
            status_code=answer[0],
            response_body=answer[1],
            created_at=now,
            expires_at=now + KEY_TTL,
        )
    )
    session.flush()
