"""The sampling frame: the sites a spot check draws from.

Default: sites with status closed (已销账) whose closing falls in a date range (Asia/Shanghai
calendar days). The closing time of a site is the time of its last history event that set
the status to closed; a site closed without such an event (imported or generated as closed)
counts from its ``updated_at``. Any other filter of the site list (street, disposition,
status, flags, ...) narrows the frame, with the same parameters as ``GET /api/v1/sites``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import ValidationError
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.queries import ArgSource, SiteFilter, base_select, scoped
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.streets.models import Street


class DictArgs:
    """A JSON object read like query parameters (lists and scalars both accepted)."""

    def __init__(self, data: dict[str, Any]) -> None:
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


@dataclass
class FrameSpec:
    filter: SiteFilter = field(default_factory=SiteFilter)
    closed_from: date | None = None
    closed_to: date | None = None

    @classmethod
    def from_args(cls, args: ArgSource) -> FrameSpec:
        flt = SiteFilter.from_args(args)
        if not flt.statuses:
            flt.statuses = ["closed"]
        spec = cls(flt)
        for key in ("closed_from", "closed_to"):
            values = args.getlist(key)
            if len(values) > 1:
                raise ValidationError(f"参数 {key} 只能给一次", key)
            setattr(spec, key, parse_date(values[0].strip(), key) if values else None)
        if spec.closed_from and spec.closed_to and spec.closed_from > spec.closed_to:
            raise ValidationError("销账起始日期晚于截止日期", "closed_from")
        return spec

    def to_params(self) -> dict[str, str]:
        params = self.filter.to_params()
        if self.closed_from:
            params["closed_from"] = self.closed_from.isoformat()
        if self.closed_to:
            params["closed_to"] = self.closed_to.isoformat()
        return params

    def conditions(
        self, session: Session, district_code: str, actor: Actor | None = None
    ) -> list[ColumnElement[bool]]:
        """The frame's conditions on Site, kept to what `actor` sees (None: a command)."""
        known = set(
            session.scalars(select(Street.code).where(Street.district_code == district_code))
        )
        for code in self.filter.streets:
            if code not in known:
                raise ValidationError(f"未知街道：{code}（本区没有这个街道代码）", "street")
        conds = [*scoped(self.filter, clock.today(), actor), Site.district_code == district_code]
        closed_at = closed_at_expr()
        if self.closed_from:
            conds.append(closed_at >= clock.parse_instant(self.closed_from.isoformat()))
        if self.closed_to:
            end = self.closed_to + timedelta(days=1)
            conds.append(closed_at < clock.parse_instant(end.isoformat()))
        return conds


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
        .where(*spec.conditions(session, district_code, actor))
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
            .where(*spec.conditions(session, district_code, actor))
            .group_by(Street.code)
        ).all()
    )
    streets = session.execute(
        select(Street.code, Street.name)
        .where(Street.district_code == district_code)
        .order_by(Street.code)
    ).all()
    return [{"code": c, "name": n, "count": int(counts.get(c, 0))} for c, n in streets]
