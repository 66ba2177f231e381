"""Patrols (巡查): a planned patrol over an area, its ordered stops, the findings on the way."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class Patrol(Base):
    __tablename__ = "patrols"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), ForeignKey("districts.code"))
    street_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("streets.id"))
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    area_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    area: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    start_point: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    end_point: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    route: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    total_m: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    walk_minutes: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    bike_minutes: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    #: the inspector (account name) the patrol is for, and the day it is planned for
    assignee: Mapped[str | None] = mapped_column(String(64))
    planned_for: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    started_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PatrolStop(Base):
    __tablename__ = "patrol_stops"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("patrols.id", ondelete="CASCADE"), nullable=False
    )
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    ord: Mapped[int] = mapped_column(Integer, nullable=False)
    priority: Mapped[str] = mapped_column(String(24), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    visited: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: when it was ticked in the field, sent later from a phone's offline queue
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PatrolFinding(Base):
    __tablename__ = "patrol_findings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patrol_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("patrols.id", ondelete="SET NULL")
    )
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("sites.id"))
    distance_m: Mapped[float | None] = mapped_column(Float)
    override_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    photo_ids: Mapped[list[int]] = mapped_column(JSONB, nullable=False, default=list)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    #: when it was recorded in the field, sent later from a phone's offline queue
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
