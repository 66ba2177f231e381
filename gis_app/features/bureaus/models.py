"""The bureaus' records: renovation works and plans (住建委), support requests (公安), relief
(民政)."""

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


class RenovationWork(Base):
    """Housing marks the works of a site folded into old-building renovation as done."""

    __tablename__ = "renovation_works"

    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    marked_by: Mapped[str] = mapped_column(String(64), nullable=False)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class PoliceRequest(Base):
    """A street asks 公安 for enforcement support at a site on a date; the answer; the outcome
    (a case number when the enforcement met violence, 暴力抗法)."""

    __tablename__ = "police_requests"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    site_code: Mapped[str] = mapped_column(String(64), nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    wanted_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="requested")
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    outcome: Mapped[str] = mapped_column(Text, nullable=False, default="")
    violent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    case_number: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReliefRecord(Base):
    """民政 relief given to the hardship person of a site (what, when)."""

    __tablename__ = "relief_records"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    what: Mapped[str] = mapped_column(Text, nullable=False)
    given_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RenovationPlan(Base):
    """The 规范治理 plan of an old-building renovation site, submitted by its street to the
    housing committee (住建委): submitted → approved, or returned with comments and then
    resubmitted (`revision` counts the submissions)."""

    __tablename__ = "renovation_plans"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="submitted")
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    submitted_by: Mapped[str] = mapped_column(String(64), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")


class RenovationPlanWork(Base):
    """Works the housing committee did on an approved plan: the day, what, a note."""

    __tablename__ = "renovation_plan_works"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    plan_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("renovation_plans.id"), nullable=False
    )
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    what: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
