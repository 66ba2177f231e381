"""Spot checks (抽查): the inspectors' pool, sample batches, their frames and sampled sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class Inspector(Base):
    """An inspector (执法队员) who may be drawn for spot checks.

    `user_id` links the entry to the inspector's login (role inspector): that login records
    the results of the sites assigned to the entry. Without it the office enters them."""

    __tablename__ = "inspectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    street_code: Mapped[str | None] = mapped_column(String(12))  # None: district level
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), unique=True)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class SampleBatch(Base):
    """One draw: method, parameters, seed and frame, enough to draw it again."""

    __tablename__ = "sample_batches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    allocation: Mapped[str] = mapped_column(String(16), nullable=False)
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    frame_size: Mapped[int] = mapped_column(Integer, nullable=False)
    sample_size: Mapped[int] = mapped_column(Integer, nullable=False)
    frame_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    balance: Mapped[float | None] = mapped_column(Float)
    balance_pielou: Mapped[float | None] = mapped_column(Float)
    srs_balance_mean: Mapped[float | None] = mapped_column(Float)
    srs_pielou_mean: Mapped[float | None] = mapped_column(Float)
    srs_draws: Mapped[int | None] = mapped_column(Integer)
    assignment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by: Mapped[str | None] = mapped_column(String(64))
    report_xlsx: Mapped[bytes | None] = mapped_column(LargeBinary)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class SampleFrameUnit(Base):
    """A unit of a batch's frame as it was at the draw (site, street, coordinates)."""

    __tablename__ = "sample_frame_units"

    batch_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("sample_batches.id", ondelete="CASCADE"), primary_key=True
    )
    ord: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    stratum: Mapped[str] = mapped_column(String(12), nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    x: Mapped[float] = mapped_column(Float, nullable=False)
    y: Mapped[float] = mapped_column(Float, nullable=False)


class SampleSite(Base):
    """A sampled site: its inspector and, once checked, the result."""

    __tablename__ = "sample_sites"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("sample_batches.id", ondelete="CASCADE"), nullable=False
    )
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    stratum: Mapped[str] = mapped_column(String(12), nullable=False)
    ord: Mapped[int] = mapped_column(Integer, nullable=False)
    frame_ord: Mapped[int] = mapped_column(Integer, nullable=False)
    inspector_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("inspectors.id"))
    result: Mapped[str | None] = mapped_column(String(8))
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    photo_ids: Mapped[list[int]] = mapped_column(JSONB, nullable=False, default=list)
    reopened: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    inspected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    inspected_by: Mapped[str | None] = mapped_column(String(64))
    #: when the result was entered in the field, sent later from a phone's offline queue
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
