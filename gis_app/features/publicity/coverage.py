"""融媒体 coverage: the media centre records its reports (曝光、跟踪报道) linked to sites and
streets; the office and the linked streets read them; the published ones go on a public page.

Who sees what (the services here, and row-level security behind them): the district roles
and the media centre every record; a street role the records linked to its street or its
sites, with only its own links; the public page the published records, as date, kind,
outlet, title, link and street names only; any other role nothing. Only the media centre
writes. Linking and unlinking a site writes an event into the site's history.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import DISTRICT_ROLES, STREET_ROLES, Actor
from gis_app.core.errors import Forbidden, NotFound, ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import role_label
from gis_app.features.publicity import checks
from gis_app.features.publicity.models import CoverageLink, CoverageRecord
from gis_app.features.streets.models import Street

MEDIA = "bureau_media"
READERS = (*DISTRICT_ROLES, *STREET_ROLES, MEDIA)
FIELDS = {
    "kind": "报道类别",
    "published_on": "报道日期",
    "outlet": "媒体",
    "title": "标题",
    "url": "链接",
    "summary": "摘要",
    "published": "公开",
    "sites": "关联点位",
    "streets": "关联街道",
}


def require_media(actor: Actor) -> None:
    if actor.role != MEDIA:
        raise Forbidden(f"媒体报道须由区融媒体中心登记（当前身份：{role_label(actor)}）", "role")


def require_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden(f"无权查看媒体报道（当前身份：{role_label(actor)}）", "role")


def _checked(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Every field checked (the first bad one refused), the links resolved."""
    out = {
        "kind": checks.choice(data.get("kind"), "kind", "报道类别", codes.COVERAGE_KINDS),
        "published_on": checks.past_date(data.get("published_on"), "published_on", "报道日期"),
        "outlet": checks.text(data.get("outlet"), "outlet", "媒体", 100),
        "title": checks.text(data.get("title"), "title", "标题", 200),
        "url": checks.web_link(data.get("url")),
        "summary": checks.text(data.get("summary"), "summary", "摘要", 2000, required=False),
        "published": checks.flag(data.get("published"), "published", "公开"),
    }
    site_codes = checks.code_list(data.get("sites"), "sites", "关联点位")
    street_codes = checks.code_list(data.get("streets"), "streets", "关联街道")
    sites = []
    for code in site_codes:
        site = session.scalar(select(Site).where(Site.code == code, Site.deleted_at.is_(None)))
        if site is None:
            raise ValidationError(f"关联点位中没有编号为 {code[:40]} 的点位", "sites")
        sites.append(site)
    streets = []
    for code in street_codes:
        street = session.scalar(select(Street).where(Street.code == code))
        if street is None:
            raise ValidationError(f"关联街道中没有代码为 {code[:20]} 的街道", "streets")
        streets.append(street)
    if not sites and not streets:
        raise ValidationError("须关联至少一个点位或街道", "sites")
    out["sites"], out["streets"] = sites, streets
    return out


def _event(session: Session, record: CoverageRecord, site: Site, actor: Actor, on: bool) -> None:
    """The site's history: the report linked (or unlinked). A plain INSERT: the media centre
    may add these events but reads no site history: plain SQL, no RETURNING."""
    about = {
        "id": record.id,
        "kind": record.kind,
        "outlet": record.outlet,
        "title": record.title,
        "published_on": record.published_on.isoformat(),
    }
    session.execute(
        text(
            "INSERT INTO site_events (district_code, site_id, actor, action, reason, changes, at)"
            " VALUES (:district, :site, :actor, :action, '', CAST(:changes AS jsonb), :at)"
        ),
        {
            "district": site.district_code,
            "site": site.id,
            "actor": actor.name,
            "action": "coverage" if on else "coverage_removed",
            "changes": json.dumps(
                {"coverage": [None, about] if on else [about, None]}, ensure_ascii=False
            ),
            "at": clock.now(),
        },
    )


def _link(session: Session, record: CoverageRecord, values: dict[str, Any], actor: Actor) -> None:
    """Make the record's links those of `values` (added and removed ones, with site events)."""
    have = session.scalars(select(CoverageLink).where(CoverageLink.coverage_id == record.id)).all()
    wanted_sites = {s.id: s for s in values["sites"]}
    wanted_streets = {s.id: s for s in values["streets"]}
    for link in have:
        if link.site_id is not None and link.site_id not in wanted_sites:
            site = session.get(Site, link.site_id)
            session.delete(link)
            if site is not None:
                _event(session, record, site, actor, on=False)
        elif link.site_id is None and link.street_id not in wanted_streets:
            session.delete(link)
    linked_sites = {link.site_id for link in have}
    linked_streets = {link.street_id for link in have if link.site_id is None}
    for site in values["sites"]:
        if site.id not in linked_sites:
            session.add(
                CoverageLink(
                    district_code=record.district_code,
                    coverage_id=record.id,
                    street_id=site.street_id,
                    site_id=site.id,
                )
            )
            _event(session, record, site, actor, on=True)
    for street in values["streets"]:
        if street.id not in linked_streets:
            session.add(
                CoverageLink(
                    district_code=record.district_code, coverage_id=record.id, street_id=street.id
                )
            )
    record.street_ids = sorted(
        {s.street_id for s in values["sites"]} | {s.id for s in values["streets"]}
    )


def _district_of(values: dict[str, Any]) -> str:
    first = values["sites"][0] if values["sites"] else values["streets"][0]
    return first.district_code


def create(session: Session, actor: Actor, data: dict[str, Any]) -> CoverageRecord:
    """The media centre records a report (one transaction: the record, its links, events)."""
    require_media(actor)
    values = _checked(session, data)
    now = clock.now()
    record = CoverageRecord(
        district_code=_district_of(values),
        **{k: values[k] for k in ("kind", "published_on", "outlet", "title", "url", "summary")},
        published=values["published"],
        street_ids=[],
        recorded_by=actor.name,
        recorded_at=now,
        updated_by=actor.name,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    _link(session, record, values, actor)
    session.flush()
    return record


def update(
    session: Session, actor: Actor, coverage_id: int, data: dict[str, Any]
) -> CoverageRecord:
    """The media centre changes a report (every field given again), its links, its flag."""
    require_media(actor)
    record = _get(session, actor, coverage_id, for_update=True)
    values = _checked(session, data)
    for key in ("kind", "published_on", "outlet", "title", "url", "summary", "published"):
        setattr(record, key, values[key])
    record.updated_by, record.updated_at = actor.name, clock.now()
    _link(session, record, values, actor)
    session.flush()
    return record


def _own_street_id(session: Session, actor: Actor) -> int:
    return session.scalar(select(Street.id).where(Street.code == (actor.street_code or ""))) or 0


def _get(
    session: Session, actor: Actor, coverage_id: int, for_update: bool = False
) -> CoverageRecord:
    require_reader(actor)
    query = select(CoverageRecord).where(CoverageRecord.id == coverage_id)
    if for_update:
        query = query.with_for_update()
    record = session.scalar(query) if 0 < coverage_id < 2**63 else None
    if record is None or (
        actor.role in STREET_ROLES and _own_street_id(session, actor) not in record.street_ids
    ):
        raise NotFound(f"没有编号为 {coverage_id} 的媒体报道", "coverage_id")
    return record


def _links(session: Session, actor: Actor, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The links of these records the actor may see (a street: its own only)."""
    query = (
        select(CoverageLink, Street.code, Street.name, Site.code)
        .join(Street, Street.id == CoverageLink.street_id)
        .outerjoin(Site, Site.id == CoverageLink.site_id)
        .where(CoverageLink.coverage_id.in_(ids))
        .order_by(Street.code, Site.code.nulls_first())
    )
    if actor.role in STREET_ROLES:
        query = query.where(CoverageLink.street_id == _own_street_id(session, actor))
    out: dict[int, list[dict[str, Any]]] = {}
    for link, street_code, street_name, site_code in session.execute(query).all():
        out.setdefault(link.coverage_id, []).append(
            {
                "street_code": street_code,
                "street": street_name,
                "site_id": link.site_id,
                "site_code": site_code,
            }
        )
    return out


def as_dict(record: CoverageRecord, links: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "kind_label": codes.COVERAGE_KINDS[record.kind],
        "published_on": record.published_on.isoformat(),
        "outlet": record.outlet,
        "title": record.title,
        "url": record.url,
        "summary": record.summary,
        "published": record.published,
        "sites": [link["site_code"] for link in links if link["site_id"]],
        "streets": sorted({link["street_code"] for link in links if not link["site_id"]}),
        "links": links,
        "recorded_by": record.recorded_by,
        "updated_by": record.updated_by,
    }


def listing(
    session: Session, actor: Actor, street: str | None = None, site_id: int | None = None
) -> list[dict[str, Any]]:
    """The records `actor` may see, newest first (optionally those of a street or a site)."""
    require_reader(actor)
    query = select(CoverageRecord).order_by(
        CoverageRecord.published_on.desc(), CoverageRecord.id.desc()
    )
    if actor.role in STREET_ROLES:
        query = query.where(CoverageRecord.street_ids.contains([_own_street_id(session, actor)]))
    if street:
        street_id = session.scalar(select(Street.id).where(Street.code == street)) or 0
        query = query.where(CoverageRecord.street_ids.contains([street_id]))
    if site_id is not None:
        linked = select(CoverageLink.coverage_id).where(CoverageLink.site_id == site_id)
        query = query.where(CoverageRecord.id.in_(linked))
    records = session.scalars(query).all()
    links = _links(session, actor, [r.id for r in records])
    return [as_dict(r, links.get(r.id, [])) for r in records]


def one(session: Session, actor: Actor, coverage_id: int) -> dict[str, Any]:
    record = _get(session, actor, coverage_id)
    return as_dict(record, _links(session, actor, [record.id]).get(record.id, []))


def public(session: Session, limit: int = 500) -> list[dict[str, Any]]:
    """The published records as the public page shows them: date, kind, outlet, title, link
    and the names of the streets, nothing else (no site codes or addresses, no summary, no
    persons, no account names)."""
    records = session.scalars(
        select(CoverageRecord)
        .where(CoverageRecord.published.is_(True))
        .order_by(CoverageRecord.published_on.desc(), CoverageRecord.id.desc())
        .limit(limit)
    ).all()
    ids = {i for r in records for i in r.street_ids}
    names = dict(session.execute(select(Street.id, Street.name).where(Street.id.in_(ids))).all())
    return [
        {
            "published_on": r.published_on.isoformat(),
            "kind_label": codes.COVERAGE_KINDS[r.kind],
            "outlet": r.outlet,
            "title": r.title,
            "url": r.url,
            "streets": [names[i] for i in r.street_ids if i in names],
        }
        for r in records
    ]
