"""Sites (点位) of the ledger, their history events, and the import batches they came in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_app.core.models import Base, Timestamps


class Site(Timestamps, Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("districts.code"), nullable=False
    )
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    street_id: Mapped[int] = mapped_column(Integer, ForeignKey("streets.id"), nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    community: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="other")
    # the street's own word for the kind, as its ledger wrote it ("" when it was a listed kind)
    kind_label: Mapped[str] = mapped_column(
        String(64), nullable=False, default="", server_default=""
    )
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    person_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    person_contact: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    disposition: Mapped[str] = mapped_column(String(16), nullable=False)
    flag_central_inspection: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    flag_hardship: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    flag_renovation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    flag_obstruction: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    committed_deadline: Mapped[date | None] = mapped_column(Date)
    current_deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default="registered")
    # when the site entered its status (its last transition; None: unknown, as for a site
    # imported or loaded in bulk): the to-do list's longest waiting for acceptance first
    status_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="manual")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    import_batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("import_batches.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by: Mapped[str | None] = mapped_column(String(64))
    deleted_reason: Mapped[str | None] = mapped_column(Text)
    # a closure from before the system (historical): where it is recorded, when, and whether
    # the office accepted a photo pair for it (only then it counts as 销账 with evidence)
    historical_source: Mapped[str | None] = mapped_column(Text)
    historical_closed_on: Mapped[date | None] = mapped_column(Date)
    historical_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    historical_accepted_by: Mapped[str | None] = mapped_column(String(64))
    # the frozen baseline (总体目标) holds the site; a site registered after it is an addition
    # (新发现 on patrol, or a late registration with its reason)
    in_baseline: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    addition_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")


class SiteEvent(Base):
    """One change to a site: who, when, what (field -> [before, after]) and why."""

    __tablename__ = "site_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sites.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)


class ImportBatch(Base):
    """One ledger file imported: which file, by whom, how many rows."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    file_format: Mapped[str] = mapped_column(String(16), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class KindSynonym(Base):
    """The office's own word for a kind (违建类型同义词), used by the ledger import."""

    __tablename__ = "kind_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(12), nullable=False)
    word: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class ImportHeaderMapping(Base):
    """A header a street (or the district office) mapped on the import page, remembered."""

    __tablename__ = "import_header_mappings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(12), nullable=False)  # street code or "district"
    header: Mapped[str] = mapped_column(String(200), nullable=False)
    field: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
