"""The rectification workflow's own record: who opened the acceptance page on which photo pair."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base


class AcceptanceView(Base):
    """The district office opened the acceptance page of a site for one before/after pair."""

    __tablename__ = "acceptance_views"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    before_photo_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("photos.id"), nullable=False
    )
    after_photo_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("photos.id"), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
