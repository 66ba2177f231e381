"""The readiness checks of `/readyz`: each says ok or why not (in Chinese, for the operator).

- `database`: a new connection as the app's own role answers within 3 s (the app's pool is
  not used: a probe must not wait behind busy requests, nor be answered by a stale connection);
- `migrations`: the database's Alembic revision is the code's head (`gis-app db upgrade` done);
- `photos`: a file can be created and removed in `GIS_APP_PHOTO_DIR`;
- `replica` (when GIS_APP_REPLICA_DATABASE_URL is set): its lag within the bound; reported but
  not required (the primary answers the reads meanwhile).
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 3000


@dataclass
class Check:
    name: str
    ok: bool
    reason: str = ""
    ms: float = 0.0
    #: False: reported, but readiness does not depend on it (the replica: reads fall back)
    required: bool = True
    #: the replica's replay lag in seconds (the replica check only)
    lag_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.reason:
            out["reason"] = self.reason
        if not self.required:
            out["required"] = False
        return out


@dataclass
class Readiness:
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {c.name: c.as_json() for c in self.checks},
            "reasons": [f"{c.name}: {c.reason}" for c in self.checks if not c.ok and c.required],
        }


def code_heads() -> set[str]:
    """The head revisions of the migrations shipped with this code."""
    from alembic.script import ScriptDirectory

    from gis_app.core.database import alembic_config

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def probe_engine(app_engine: Engine) -> Engine:
    """An engine for the probes: the app's URL and role, no pool, short time-outs."""
    return create_engine(
        make_url(app_engine.url),
        poolclass=NullPool,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "gis-app/readyz",
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        },
    )


def _first_line(exc: BaseException) -> str:
    msg = str(getattr(exc, "orig", None) or exc).strip()
    return msg.splitlines()[0] if msg else type(exc).__name__


def check_database(engine: Engine, heads: set[str]) -> list[Check]:
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            db_ms = (time.perf_counter() - started) * 1000
            versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError as exc:
        ms = (time.perf_counter() - started) * 1000
        reached = "alembic_version" in str(exc)
        if reached:
            return [
                Check("database", True, ms=ms),
                Check(
                    "migrations", False, f"读不到结构版本（alembic_version）：{_first_line(exc)}"
                ),
            ]
        return [
            Check("database", False, f"数据库连不上：{_first_line(exc)}", ms),
            Check("migrations", False, "数据库连不上，无法核对结构版本"),
        ]
    migrations = Check("migrations", True, ms=(time.perf_counter() - started) * 1000 - db_ms)
    if versions != heads:
        migrations.ok = False
        migrations.reason = (
            f"数据库结构版本 {', '.join(sorted(versions)) or '（空）'} 不是代码的 "
            f"{', '.join(sorted(heads))}：请运行 `gis-app db upgrade`"
        )
    return [Check("database", True, ms=db_ms), migrations]


def check_photo_store(photo_dir: str) -> Check:
    started = time.perf_counter()
    probe = Path(photo_dir) / f".readyz-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check(
            "photos",
            False,
            f"照片目录 {photo_dir} 不可写：{exc.strerror or exc}",
            (time.perf_counter() - started) * 1000,
        )
    return Check("photos", True, ms=(time.perf_counter() - started) * 1000)
