"""The housing committee's record of renovation works done (旧楼区改造)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class RenovationWork(Base):
    """Housing marks the works of a site folded into old-building renovation as done."""

    __tablename__ = "renovation_works"

    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    marked_by: Mapped[str] = mapped_column(String(64), nullable=False)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
