"""Photos of a site (before / after / inspection), stored once by content hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class Photo(Base):
    """A before / after / inspection photo: the file is stored once by its sha256."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    step_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("site_steps.id"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    media_type: Mapped[str] = mapped_column(String(32), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gps: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    gps_distance_m: Mapped[float | None] = mapped_column(Float)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
