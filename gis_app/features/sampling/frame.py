"""The sampling frame: the sites a spot check draws from.

Default: sites with status closed (已销账) whose closing falls in a date range (Asia/Shanghai
calendar days). The closing time of a site is the time of its last history event that set
the status to closed; a site closed without such an event (imported or generated as closed)
counts from its ``updated_at``. Any other filter of the site list (street, disposition,
status, flags, ...) narrows the frame, with the same parameters as ``GET /api/v1/sites``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import ValidationError
from gis_app.core.schemas import from_args
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.queries import SiteFilter, base_select, scoped
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.sampling import gbt2828
from gis_app.features.streets.models import Street


class DictArgs:
    """A JSON object read like query parameters (lists and scalars both accepted)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def getlist(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, list):
            return [str(v) for v in value if v is not None and v != ""]
        if isinstance(value, bool):
            return ["true" if value else "false"]
        return [str(value)]


def closed_at_expr() -> ColumnElement[Any]:
    """When the site was last closed: its last event setting status closed, else updated_at."""
    last_close = (
        select(func.max(SiteEvent.at))
        .where(SiteEvent.site_id == Site.id, SiteEvent.changes["status"][1].astext == "closed")
        .scalar_subquery()
    )
    return func.coalesce(last_close, Site.updated_at)


def _closing_day(key: str) -> Any:
    return BeforeValidator(lambda raw: parse_date(raw, key))


class FrameSpec(SiteFilter):
    """The frame a spot check draws from: the site list's filters (status closed unless a
    status is given) and the range of days the sites were closed in (Asia/Shanghai)."""

    closed_from: Annotated[
        date | None,
        _closing_day("closed_from"),
        WithJsonSchema({"type": "string", "format": "date"}),
    ] = Field(None, description="销账日期不早于（YYYY-MM-DD，北京时间）")
    closed_to: Annotated[
        date | None, _closing_day("closed_to"), WithJsonSchema({"type": "string", "format": "date"})
    ] = Field(None, description="销账日期不晚于（YYYY-MM-DD，北京时间）")

    @model_validator(mode="after")
    def _closed_sites_by_default(self) -> FrameSpec:
        if not self.statuses:
            self.statuses = ["closed"]
        return self

    @model_validator(mode="after")
    def _closing_days_in_order(self) -> FrameSpec:
        if self.closed_from and self.closed_to and self.closed_from > self.closed_to:
            raise ValidationError("销账起始日期晚于截止日期", "closed_from")
        return self

    @classmethod
    def from_object(cls, data: Mapping[str, Any]) -> FrameSpec:
        """The frame from a JSON object or a form (lists and scalars), read like query
        parameters: every bad value names its parameter."""
        return from_args(cls, DictArgs(data))

    def to_params(self) -> dict[str, str]:
        params = super().to_params()
        if self.closed_from:
            params["closed_from"] = self.closed_from.isoformat()
        if self.closed_to:
            params["closed_to"] = self.closed_to.isoformat()
        return params

    def conditions(self, today: date) -> list[ColumnElement[bool]]:
        """The filter's conditions on Site and the closing range."""
        conds = super().conditions(today)
        closed_at = closed_at_expr()
        if self.closed_from:
            conds.append(closed_at >= clock.parse_instant(self.closed_from.isoformat()))
        if self.closed_to:
            end = self.closed_to + timedelta(days=1)
            conds.append(closed_at < clock.parse_instant(end.isoformat()))
        return conds

    def frame_conditions(
        self, session: Session, district_code: str, actor: Actor | None = None
    ) -> list[ColumnElement[bool]]:
        """The frame's conditions on Site in the district, kept to what `actor` sees (None: a
        command); a street the district does not have is refused."""
        known = set(
            session.scalars(select(Street.code).where(Street.district_code == district_code))
        )
        for code in self.streets:
            if code not in known:
                raise ValidationError(f"未知街道：{code}（本区没有这个街道代码）", "street")
        return [*scoped(self, clock.today(), actor), Site.district_code == district_code]


@dataclass(frozen=True)
class FrameRows:
    site_ids: list[int]
    strata: list[str]
    lon: list[float]
    lat: list[float]

    def __len__(self) -> int:
        return len(self.site_ids)


def frame_rows(
    session: Session, spec: FrameSpec, district_code: str, actor: Actor | None = None
) -> FrameRows:
    """The frame in site-id order: the order the draw and its audit rely on."""
    rows = session.execute(
        base_select([Site.id, Street.code, func.ST_X(Site.geom), func.ST_Y(Site.geom)])
        .where(*spec.frame_conditions(session, district_code, actor))
        .order_by(Site.id)
    ).all()
    return FrameRows(
        [int(r[0]) for r in rows],
        [str(r[1]) for r in rows],
        [float(r[2]) for r in rows],
        [float(r[3]) for r in rows],
    )


def frame_counts(
    session: Session, spec: FrameSpec, district_code: str, actor: Actor | None = None
) -> list[dict[str, Any]]:
    """Every street of the district with the number of its sites in the frame."""
    counts = dict(
        session.execute(
            base_select([Street.code, func.count()])
            .where(*spec.frame_conditions(session, district_code, actor))
            .group_by(Street.code)
        ).all()
    )
    streets = session.execute(
        select(Street.code, Street.name)
        .where(Street.district_code == district_code)
        .order_by(Street.code)
    ).all()
    return [{"code": c, "name": n, "count": int(counts.get(c, 0))} for c, n in streets]


def frame_summary(
    session: Session, spec: FrameSpec, district_code: str, actor: Actor | None = None
) -> dict[str, Any]:
    """The frame the filters select: its size per street and the GB/T 2828.1 sample sizes
    at every inspection level."""
    by_street = frame_counts(session, spec, district_code, actor)
    size = sum(s["count"] for s in by_street)
    suggestions = {}
    if size >= 2:
        for level in gbt2828.LEVELS:
            letter, n = gbt2828.sample_size(size, level)
            suggestions[level] = {"code_letter": letter, "n": n}
    return {
        "frame_size": size,
        "streets_with_sites": sum(1 for s in by_street if s["count"]),
        "by_street": by_street,
        "gbt2828": suggestions,
        "frame": spec.to_params(),
    }
