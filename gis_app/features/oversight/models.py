"""通报 (notices): the notice, the streets it names with their frozen figures, their replies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class Notice(Base):
    """A numbered, dated 通报 with a reply due date."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    reply_due: Mapped[date] = mapped_column(Date, nullable=False)
    issued_by: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class NoticeStreet(Base):
    """A street named in a 通报: the reasons and its figures at issue time."""

    __tablename__ = "notice_streets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notice_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("notices.id"), nullable=False)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    ord: Mapped[int] = mapped_column(Integer, nullable=False)
    reasons: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class NoticeReply(Base):
    """A named street's rectification measures (整改措施); late when after the due date."""

    __tablename__ = "notice_replies"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notice_street_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notice_streets.id"), nullable=False
    )
    notice_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("notices.id"), nullable=False)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    measures: Mapped[str] = mapped_column(Text, nullable=False)
    replied_by: Mapped[str] = mapped_column(String(64), nullable=False)
    replied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False)


class Inspection(Base):
    """专项督查: a dated inspection of some streets."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    street_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class InspectionFinding(Base):
    """A finding at a visited site, the correction required by a due date, the street's
    answer and the office's review (open → answered → closed, or returned to open)."""

    __tablename__ = "inspection_findings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("inspections.id"), nullable=False
    )
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    ord: Mapped[int] = mapped_column(Integer, nullable=False)
    finding: Mapped[str] = mapped_column(Text, nullable=False)
    photo_ids: Mapped[list[int]] = mapped_column(JSONB, nullable=False, default=list)
    correction: Mapped[str] = mapped_column(Text, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    answer: Mapped[str] = mapped_column(Text, nullable=False, default="")
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Meeting(Base):
    """例会: who attended, each street's report heard, the figures presented (frozen), the
    decisions."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    attendees: Mapped[str] = mapped_column(Text, nullable=False)
    reports: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    decisions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class MeetingTask(Base):
    """A task a meeting gave to a street or a bureau, due by a date, open until done."""

    __tablename__ = "meeting_tasks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("meetings.id"), nullable=False)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("streets.id"))
    bureau_role: Mapped[str | None] = mapped_column(String(32))
    meeting_label: Mapped[str] = mapped_column(String(250), nullable=False)
    task: Mapped[str] = mapped_column(Text, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    done_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Escalation(Base):
    """追责: a street or a person reported to the district committee or government, on the
    grounds of linked 通报, 督查 findings and overdue sites, and the decision when it comes."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("streets.id"))
    person: Mapped[str] = mapped_column(Text, nullable=False, default="")
    escalated_to: Mapped[str] = mapped_column(String(16), nullable=False)
    submitted_on: Mapped[date] = mapped_column(Date, nullable=False)
    grounds: Mapped[str] = mapped_column(Text, nullable=False)
    notice_ids: Mapped[list[int]] = mapped_column(JSONB, nullable=False, default=list)
    finding_ids: Mapped[list[int]] = mapped_column(JSONB, nullable=False, default=list)
    site_ids: Mapped[list[int]] = mapped_column(JSONB, nullable=False, default=list)
    decision: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
