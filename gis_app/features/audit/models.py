"""The audit trail (schema `audit`): written only by the database's triggers, read by the office."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class AuditEvent(Base):
    __tablename__ = "events"
    __table_args__: ClassVar[dict[str, str]] = {"schema": "audit"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    xact: Mapped[int] = mapped_column(BigInteger, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    app_role: Mapped[str] = mapped_column(Text, nullable=False)
    table_name: Mapped[str] = mapped_column(Text, nullable=False)
    row_id: Mapped[str | None] = mapped_column(Text)
    site_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
