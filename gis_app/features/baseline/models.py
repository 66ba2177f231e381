"""A street's submitted list of sites and the office's review; the frozen district baseline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class BaselineList(Base):
    """One submission of a street's list (排查、建档): the sites it holds, and the review."""

    __tablename__ = "baseline_lists"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="submitted")
    site_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    submitted_by: Mapped[str] = mapped_column(String(64), nullable=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    review_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")


class Baseline(Base):
    """The district baseline ledger (全区台帐), frozen once."""

    __tablename__ = "baselines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    frozen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    frozen_by: Mapped[str] = mapped_column(String(64), nullable=False)
    site_count: Mapped[int] = mapped_column(Integer, nullable=False)


class StageTarget(Base):
    """阶段工作目标: by `due`, this many of the street's baseline sites closed (all of them,
    or its 拆除 ones); the newest setting for a street, date and scope applies."""

    __tablename__ = "stage_targets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    due: Mapped[date] = mapped_column(Date, nullable=False)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[int] = mapped_column(Integer, nullable=False)
    set_by: Mapped[str] = mapped_column(String(64), nullable=False)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
