"""融媒体 coverage (with its links to sites and streets) and the streets' publicity work."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class CoverageRecord(Base):
    """A report of the media centre: exposure (曝光), follow-up (跟踪报道) or other."""

    __tablename__ = "coverage_records"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    published_on: Mapped[date] = mapped_column(Date, nullable=False)
    outlet: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: the streets of its links (kept by the service; the row-level policies read it)
    street_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False, default=list)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CoverageLink(Base):
    """A coverage record linked to a site (with the site's street) or to a street alone."""

    __tablename__ = "coverage_links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    coverage_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("coverage_records.id", ondelete="CASCADE"), nullable=False
    )
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    site_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("sites.id"))


class PublicityRecord(Base):
    """A street's publicity work (plan 六(三)): banners, leaflets, boards, screens, visits."""

    __tablename__ = "publicity_records"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    place: Mapped[str] = mapped_column(String(200), nullable=False)
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_media_type: Mapped[str | None] = mapped_column(String(32))
    photo_taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
