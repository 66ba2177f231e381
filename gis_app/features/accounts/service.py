"""Accounts: users and roles, password hashing, logins with a rate limit, server-side sessions,
API tokens.

Passwords are hashed with Argon2id (argon2-cffi, RFC 9106 parameters): memory-hard, so a stolen
table costs an attacker memory as well as time per guess; the library encodes the parameters in
each hash and tells when a hash should be upgraded, which hashlib.scrypt would leave to us.

Sessions and tokens are random values (secrets.token_urlsafe, 256 bits) of which only the
SHA-256 is stored: a read of the tables gives nothing that logs in.

The login rate limit lives in PostgreSQL (login_attempts), so it holds across gunicorn workers
and servers: at most LOGIN_MAX_FAILURES_USER failures per username (since its last success)
and LOGIN_MAX_FAILURES_IP per address within LOGIN_WINDOW_MINUTES; the check and the record
are serialised per username and address with transaction-level advisory locks, so parallel
guesses cannot slip past the count.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import ROLES, STREET_ROLES, Actor
from gis_app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyAttempts,
    Unauthorized,
    ValidationError,
)
from gis_app.core.text import identifier_problem, name_problem, nfkc, only_invisible
from gis_app.features.accounts.models import ApiToken, LoginAttempt, User, UserSession
from gis_app.features.streets.models import Street

USERNAME = re.compile(r"^[\w.@-]{2,64}$")
TOKEN_PREFIX = "gis_"
#: roles that only read (no password login needed for agency machines, but allowed)
#: what a new account is unless the administrator chooses otherwise: open data only
#: (the media centre records its coverage since issue 18: no longer the least privileged)
LEAST_PRIVILEGED_ROLE = "agency"
READ_ONLY_ROLES = ("agency",)

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username does not exist: the same work, so timing tells
    nothing (made on first use, not at import: commands start faster)."""
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class LoginPolicy:
    window_minutes: float = 15
    max_failures_user: int = 5
    max_failures_ip: int = 20

    @classmethod
    def from_config(cls, config: Any) -> LoginPolicy:
        return cls(
            float(config["LOGIN_WINDOW_MINUTES"]),
            int(config["LOGIN_MAX_FAILURES_USER"]),
            int(config["LOGIN_MAX_FAILURES_IP"]),
        )


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(hours=2)

    @classmethod
    def from_config(cls, config: Any) -> SessionPolicy:
        return cls(
            timedelta(hours=float(config["SESSION_LIFETIME_HOURS"])),
            timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])),
        )


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class AuthUser:
    """Who is logged in, detached from the database session (read once per request)."""

    id: int
    username: str
    display_name: str
    role: str
    street_code: str | None

    @classmethod
    def of(cls, user: User) -> AuthUser:
        return cls(user.id, user.username, user.display_name, user.role, user.street_code)


def actor_of(user: AuthUser | User) -> Actor:
    return Actor(user.username, user.role, user.street_code, user.id)


# ---------------------------------------------------------------- users


def check_password_rules(password: Any, username: str, min_length: int = 10) -> str:
    if not isinstance(password, str) or not password:
        raise ValidationError("请填写密码", "password")
    if len(password) < min_length:
        raise ValidationError(f"密码至少 {min_length} 个字符", "password")
    if len(password) > 256:
        raise ValidationError("密码过长（最多 256 个字符）", "password")
    if username and username.lower() in password.lower():
        raise ValidationError("密码不能包含用户名", "password")
    if len(set(password)) < 4:
        raise ValidationError("密码过于简单（字符种类太少）", "password")
    return password


def _clean_user_fields(
    session: Session, username: Any, display_name: Any, role: Any, street_code: Any
) -> tuple[str, str, str, str | None]:
    if isinstance(username, str):
        username = nfkc(username)  # ｏｆｆｉｃｅ is office
    if not isinstance(username, str) or not USERNAME.match(username.strip()):
        raise ValidationError(
            "用户名须为 2–64 个字母、数字、汉字或 . _ @ -（不含空格）", "username"
        )
    problem = identifier_problem(username.strip())
    if problem is not None:  # offіce (a Cyrillic і) beside office
        raise ValidationError(f"用户名{problem}", "username")
    if not isinstance(display_name, str) or only_invisible(display_name):
        raise ValidationError("请填写姓名（显示名）", "display_name")
    if len(display_name.strip()) > 64:
        raise ValidationError("姓名过长（最多 64 个字）", "display_name")
    problem = name_problem(display_name.strip())
    if problem is not None:
        raise ValidationError(f"姓名{problem}", "display_name")
    if role not in ROLES:
        raise ValidationError(f"未知角色：{role!r}（可选：{', '.join(ROLES)}）", "role")
    street = (street_code or "").strip() if isinstance(street_code, str | type(None)) else None
    if role in STREET_ROLES:
        if not street:
            raise ValidationError("街道用户须指定所属街道", "street_code")
        if session.scalar(select(Street.id).where(Street.code == street)) is None:
            raise ValidationError(f"没有代码为 {street} 的街道", "street_code")
    else:
        street = None
    return username.strip(), display_name.strip(), role, street


def create_user(
    session: Session,
    actor: Actor,
    username: Any,
    display_name: Any,
    role: Any,
    street_code: Any = None,
    password: Any = None,
    min_length: int = 10,
) -> User:
    """A new account (district administrators, and the CLI for the first one)."""
    if actor.role != "district_admin":
        raise Forbidden("只有区级管理员可以建立账户", "role")
    name, display, role, street = _clean_user_fields(
        session, username, display_name, role, street_code
    )
    check_password_rules(password, name, min_length)
    if session.scalar(select(User.id).where(func.lower(User.username) == name.casefold())):
        raise Conflict(f"用户名 {name} 已被使用", "username")
    now = clock.now()
    user = User(
        username=name,
        display_name=display,
        role=role,
        street_code=street,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
        created_by=actor.name,
        updated_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"没有用户 {username}", "username")
    return user


def display_names(session: Session, usernames: list[str]) -> dict[str, str]:
    """The names people go by (display_name) of the given usernames, for any role: only the
    name is read (the database function access.staff_names, migration 0030)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    rows = session.execute(
        text("SELECT username, display_name FROM access.staff_names(:names)"), {"names": wanted}
    )
    return {r.username: r.display_name for r in rows if r.display_name}


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.street_code, User.username)))


def update_user(
    session: Session,
    actor: Actor,
    username: str,
    display_name: Any,
    role: Any,
    street_code: Any,
    active: bool,
) -> User:
    """Change a user's name, role, street or whether the account is active; a deactivated
    user's sessions end at once."""
    if actor.role != "district_admin":
        raise Forbidden("只有区级管理员可以修改账户", "role")
    user = get_user(session, username)
    _name, display, role, street = _clean_user_fields(
        session, user.username, display_name, role, street_code
    )
    if user.username == actor.name and (not active or role != "district_admin"):
        raise Conflict("不能停用自己的账户或取消自己的管理员角色", "active")
    user.display_name, user.role, user.street_code, user.active = display, role, street, active
    user.updated_at = clock.now()
    session.flush()
    if not active:
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.flush()
    return user


def set_password(
    session: Session,
    actor: Actor,
    username: str,
    new_password: Any,
    current_password: Any = None,
    min_length: int = 10,
) -> User:
    """An administrator sets anyone's password; a user changes their own with the current one.
    Every other session of that user ends."""
    user = get_user(session, username)
    own = actor.name == user.username
    if not own and actor.role != "district_admin":
        raise Forbidden("只能修改自己的密码", "role")
    if own and not (
        isinstance(current_password, str) and _verify(user.password_hash, current_password)
    ):
        raise ValidationError("当前密码不正确", "current_password")
    check_password_rules(new_password, user.username, min_length)
    if _verify(user.password_hash, new_password):
        raise ValidationError("新密码不能与当前密码相同", "new_password" if own else "password")
    now = clock.now()
    user.password_hash = hash_password(new_password)
    user.password_changed_at = user.updated_at = now
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    if not own:
        # a reset (the account may be in wrong hands): its machines' tokens stop too; a user
        # changing their own password keeps them (the form says so)
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    session.flush()
    return user


def check_current_password(
    session: Session, username: str, password: Any, ip: str, policy: LoginPolicy | None = None
) -> None:
    """The current password on the change form, counted like a login (the same limits per
    user and address; the caller's transaction runs in the `auth` scope and is committed even
    when this refuses, so the failure counts)."""
    policy = policy or LoginPolicy()
    ip = (ip or "unknown")[:64]
    now = clock.now()
    _throttle(session, policy, username, ip, now, "current_password")
    user = session.scalar(select(User).where(User.username == username))
    ok = isinstance(password, str) and bool(password)
    ok = _verify(user.password_hash if user else "", password if ok else "") and ok
    session.add(LoginAttempt(at=now, username=username, ip=ip, success=ok))
    session.flush()
    if not ok:
        raise ValidationError("当前密码不正确", "current_password")


def _throttle(
    session: Session, policy: LoginPolicy, name: str, ip: str, now: datetime, field: str
) -> None:
    """Refuse (and record) an attempt beyond the failures allowed to the name or address."""
    _lock(session, "user", name.lower())
    _lock(session, "ip", ip)
    (n_user, first_user), (n_ip, first_ip) = _failures(session, policy, name, ip, now)
    if n_user >= policy.max_failures_user or n_ip >= policy.max_failures_ip:
        first = first_user if n_user >= policy.max_failures_user else first_ip
        wait = first + timedelta(minutes=policy.window_minutes) - now
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        session.add(LoginAttempt(at=now, username=name, ip=ip, success=False))
        session.flush()
        raise TooManyAttempts(
            f"失败次数过多，请 {minutes} 分钟后再试", field, retry_after=minutes * 60
        )


def end_user_sessions(session: Session, user_id: int) -> None:
    """Log a user out everywhere (auth scope, or an administrator)."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    session.flush()


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and bool(stored)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- logins and sessions


def _lock(session: Session, kind: str, value: str) -> None:
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"login:{kind}:{value}"}
    )


def _failures(
    session: Session, policy: LoginPolicy, username: str, ip: str, now: datetime
) -> tuple[Any, Any]:
    since = now - timedelta(minutes=policy.window_minutes)
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    )
    user_since = max(since, last_ok) if last_ok else since
    by_user = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.username == username,
            LoginAttempt.success.is_(False),
            LoginAttempt.at > user_since,
        )
    ).one()
    by_ip = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.at > since
        )
    ).one()
    return by_user, by_ip


@dataclass(frozen=True)
class NewSession:
    cookie: str  # the random value for the browser; only its SHA-256 is stored
    csrf_token: str
    user: User


def login(
    session: Session,
    username: Any,
    password: Any,
    ip: str,
    user_agent: str = "",
    policy: LoginPolicy | None = None,
    sessions: SessionPolicy | None = None,
) -> NewSession:
    """Check a password (within the rate limit) and open a server-side session. The caller's
    transaction must run in the `auth` scope (gis_app.http.auth)."""
    policy = policy or LoginPolicy()
    sessions = sessions or SessionPolicy()
    name = nfkc(username or "").strip()[:64] if isinstance(username, str) else ""
    if not name or not isinstance(password, str) or not password:
        raise ValidationError("请填写用户名和密码", "username" if not name else "password")
    ip = (ip or "unknown")[:64]
    now = clock.now()
    _throttle(session, policy, name, ip, now, "username")
    user = session.scalar(select(User).where(User.username == name))
    ok = _verify(user.password_hash if user else "", password) and bool(user and user.active)
    session.add(LoginAttempt(at=now, username=name, ip=ip, success=ok))
    if not ok or user is None:
        session.flush()
        raise Unauthorized("用户名或密码错误，或账户已停用", "password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id_hash=sha256(cookie),
            user_id=user.id,
            csrf_token=csrf,
            data={},
            created_at=now,
            last_seen_at=now,
            expires_at=now + sessions.lifetime,
            ip=ip,
            user_agent=(user_agent or "")[:255],
        )
    )
    session.flush()
    return NewSession(cookie, csrf, user)


@dataclass(frozen=True)
class ActiveSession:
    id_hash: str
    csrf_token: str
    data: dict[str, Any]
    user: AuthUser


def find_session(
    session: Session, cookie: str, policy: SessionPolicy | None = None
) -> ActiveSession | None:
    """The live session of a cookie value (None when unknown, expired, idle or its user is
    inactive); it is touched at most once a minute."""
    policy = policy or SessionPolicy()
    if not cookie or len(cookie) > 200:
        return None
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id_hash == sha256(cookie))
    ).first()
    if found is None:
        return None
    row, user = found
    now = clock.now()
    if not user.active or row.expires_at <= now or row.last_seen_at + policy.idle <= now:
        session.delete(row)
        session.flush()
        return None
    active = ActiveSession(row.id_hash, row.csrf_token, dict(row.data), AuthUser.of(user))
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.flush()
    return active


def save_session_data(session: Session, id_hash: str, data: dict[str, Any]) -> None:
    session.execute(update(UserSession).where(UserSession.id_hash == id_hash).values(data=data))
    session.flush()


def logout(session: Session, cookie: str) -> None:
    """The session ends on the server: its row is deleted, the cookie is worth nothing after."""
    session.execute(delete(UserSession).where(UserSession.id_hash == sha256(cookie)))
    session.flush()


def prune(session: Session, policy: LoginPolicy | None = None, keep_days: int = 90) -> int:
    """Delete expired sessions and login attempts older than `keep_days` (auth scope)."""
    now = clock.now()
    n = session.execute(delete(UserSession).where(UserSession.expires_at <= now)).rowcount or 0
    n += (
        session.execute(
            delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=keep_days))
        ).rowcount
        or 0
    )
    session.flush()
    return n


# ---------------------------------------------------------------- API tokens


def create_token(
    session: Session,
    actor: Actor,
    username: str,
    name: Any,
    expires_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A bearer token for `username`'s machine; the secret is returned once, never stored."""
    if actor.role != "district_admin":
        raise Forbidden("只有区级管理员可以发放接口令牌", "role")
    user = get_user(session, username)
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise ValidationError("请填写令牌用途（最多 100 个字）", "name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=sha256(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        created_at=now,
        created_by=actor.name,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    if actor.role != "district_admin":
        raise Forbidden("只有区级管理员可以吊销接口令牌", "role")
    token = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None:
        raise NotFound(f"没有编号为 {token_id} 的令牌", "id")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
    session.flush()
    return token


def find_token_user(session: Session, secret: str) -> AuthUser | None:
    """The active user of a live bearer token (auth scope); None for anything else."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == sha256(secret))
    ).first()
    if found is None:
        return None
    token, user = found
    now = clock.now()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not user.active:
        return None
    found_user = AuthUser.of(user)
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
        session.flush()
    return found_user


def username_of(session: Session, user_id: int) -> str | None:
    return session.scalar(select(User.username).where(User.id == user_id))


class Identities:
    """The accounts' side of authentication (`gis_app.http.auth.Identities`)."""

    def find_session(
        self, session: Session, cookie: str, config: Mapping[str, Any]
    ) -> ActiveSession | None:
        return find_session(session, cookie, SessionPolicy.from_config(config))

    def save_session_data(self, session: Session, id_hash: str, data: dict[str, Any]) -> None:
        save_session_data(session, id_hash, data)

    def find_token_user(self, session: Session, secret: str) -> AuthUser | None:
        return find_token_user(session, secret)

    def actor_of(self, user: AuthUser) -> Actor:
        return actor_of(user)


IDENTITIES = Identities()
