"""Monthly reports (月报) and the daily reminder runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class MonthlyReport(Base):
    """A street's monthly progress report (月报): figures drafted by the system, a narrative."""

    __tablename__ = "monthly_reports"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    narrative: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    saved_by: Mapped[str] = mapped_column(String(64), nullable=False)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool | None] = mapped_column(Boolean)


class DailyRun(Base):
    """One run of `gis-app daily` per district and day: what it found (idempotent per day)."""

    __tablename__ = "daily_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
