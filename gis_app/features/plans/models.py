"""Step plans (分步治理方案): a site's steps, each with a due date and, once done, its evidence."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class SiteStep(Base):
    """One step of a site's plan (分步治理方案): what, by when, and once done, its evidence."""

    __tablename__ = "site_steps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(64))
    evidence_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
