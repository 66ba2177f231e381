"""Findings on patrol: a new illegal construction at a point, with photos and a note.

- Nothing near: it becomes a site at once (status 新发现, source patrol, street derived from
  the point) and shows on the office's dashboard like every new site.
- An open site within `DUPLICATE_METRES` (ST_DWithin on geography; default 30 m): refused
  with 409 offering that site; the user confirms either `attach_to` (the finding and its
  photos go to that site) or `force_reason` (a new site all the same, with the reason kept).
- A closed site within that distance: a rebound (回潮) once the user confirms `attach_to`:
  the site is reopened through the workflow with the finding as the reason.
Every photo is checked (content, size, pixels) before anything is written; site, photos,
finding and events are one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, cast, func, select, text
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.core.fieldtime import parse_recorded_at
from gis_app.core.text import clean_text
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_street_actor, site_scope
from gis_app.features.ledger.queries import near_conditions
from gis_app.features.ledger.schemas import clean_site_fields, raise_first
from gis_app.features.ledger.service import next_site_code, record_event, street_or_refuse
from gis_app.features.patrol.areas import parse_point
from gis_app.features.patrol.models import PatrolFinding
from gis_app.features.patrol.plans import get_patrol
from gis_app.features.photos.service import (
    ImageFacts,
    PhotoLimits,
    PhotoStore,
    check_size,
    inspect_image,
    store_checked_photo,
)
from gis_app.features.streets.models import Street
from gis_app.features.workflow import service as workflow

DUPLICATE_METRES = 30.0
MAX_PHOTOS = 9
MAX_NOTE = 1000
MAX_REASON = 500
ACTIONS = {"created": "新登记点位", "attached": "并入已有点位", "rebound": "回潮，重新打开"}


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None


@dataclass
class FindingResult:
    finding: PatrolFinding
    site: Site
    created: bool


def _text(raw: Any, name: str, limit: int, required: bool = False, what: str = "") -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ValidationError(f"{name} 必须是文字", name)
    value = raw.strip()
    if required and not value:
        raise ValidationError(f"请填写{what}（{name}）", name)
    # its length and characters as every free text of the app (`core.text.clean_text`)
    return clean_text(value, name, what or name, False, limit)


def _int_or_none(raw: Any, name: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValidationError(f"{name} 必须是整数：{raw!r}", name) from None
    if not 0 < value < 2**63:
        raise ValidationError(f"{name} 超出范围", name)
    return value


def nearby_sites(
    session: Session, lon: float, lat: float, metres: float, actor: Actor
) -> list[dict[str, Any]]:
    """Live sites within `metres` of the point (the actor's view), nearest first."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    distance = func.ST_Distance(func.Geography(Site.geom), func.Geography(point))
    rows = session.execute(
        select(Site.id, Site.code, Site.address, Site.status, cast(distance, Float).label("d"))
        .where(Site.deleted_at.is_(None), *near_conditions(lon, lat, metres), *site_scope(actor))
        .order_by("d", Site.id)
        .limit(10)
    ).all()
    return [
        {
            "id": r.id,
            "code": r.code,
            "address": r.address,
            "status": r.status,
            "status_label": codes.STATUSES.get(r.status, r.status),
            "distance_m": round(r.d, 1),
            "offer": "rebound" if r.status == "closed" else "attach",
        }
        for r in rows
    ]


def _add_photos(
    session: Session,
    store: PhotoStore,
    site: Site,
    actor: Actor,
    checked: list[tuple[Upload, ImageFacts]],
    kind: str,
) -> list[int]:
    """Photo rows for the site inside the caller's transaction (files stored by content)."""
    return [
        store_checked_photo(
            session, store, site, actor, upload.data, upload.filename, facts, kind,
            reason="巡查发现",
        )[0].id
        for upload, facts in checked
    ]  # fmt: skip


@dataclass(frozen=True)
class FindingFields:
    """What a finding says besides its photos, checked (`read_finding_fields`)."""

    lon: float
    lat: float
    note: str
    force_reason: str
    attach_to: int | None
    patrol_id: int | None
    recorded_at: datetime | None = None


def read_finding_fields(raw: dict[str, Any]) -> FindingFields:
    """The point, the note, and the answer to an offered nearby site (attach_to or
    force_reason), the patrol it belongs to; errors name the field."""
    lon, _ = parse_point([raw.get("lon"), 0], "lon")
    _, lat = parse_point([0, raw.get("lat")], "lat")
    return FindingFields(
        lon=lon,
        lat=lat,
        note=_text(raw.get("note"), "note", MAX_NOTE, required=True, what="发现情况说明"),
        force_reason=_text(
            raw.get("force_reason"), "force_reason", MAX_REASON, what="另行登记的理由"
        ),
        attach_to=_int_or_none(raw.get("attach_to"), "attach_to"),
        patrol_id=_int_or_none(raw.get("patrol_id"), "patrol_id"),
        recorded_at=parse_recorded_at(raw.get("recorded_at")),
    )


def _checked_photos(uploads: list[Upload], limits: PhotoLimits) -> list[tuple[Upload, ImageFacts]]:
    """Every photo checked (one at least, at most MAX_PHOTOS; images within the limits)."""
    if not uploads:
        raise ValidationError("请至少上传一张现场照片（photos）", "photos")
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(f"照片过多（最多 {MAX_PHOTOS} 张）", "photos")
    checked = []
    for upload in uploads:
        check_size(upload.data, limits.max_bytes)
        try:
            checked.append((upload, inspect_image(upload.data, limits.max_pixels)))
        except ValidationError as exc:
            raise ValidationError(exc.message, "photos") from None
    return checked


def _site_fields(raw: dict[str, Any], lon: float, lat: float) -> dict[str, Any]:
    """The new site's fields (as a ledger row checks them): address, disposition, kind,
    community, with defaults for what the finding leaves out."""
    site_fields = {
        "address": raw.get("address") or f"巡查发现（经度 {lon:.6f}，纬度 {lat:.6f}）",
        "disposition": raw.get("disposition") or "demolish",
        "lon": lon,
        "lat": lat,
    }
    if raw.get("kind"):
        site_fields["kind"] = raw.get("kind")
    if raw.get("community"):
        site_fields["community"] = raw.get("community")
    clean, errors = clean_site_fields(site_fields)
    raise_first(errors)
    return clean


@dataclass(frozen=True)
class _Place:
    """A checked finding on its way in: who records it, where, the photos, what is near."""

    store: PhotoStore
    actor: Actor
    given: FindingFields
    checked: list[tuple[Upload, ImageFacts]]
    patrol_id: int | None
    near: list[dict[str, Any]]
    now: datetime

    def point(self) -> Any:
        return func.ST_SetSRID(func.ST_MakePoint(self.given.lon, self.given.lat), 4326)


def record_finding(
    session: Session,
    store: PhotoStore,
    limits: PhotoLimits,
    actor: Actor,
    raw: dict[str, Any],
    uploads: list[Upload],
    duplicate_metres: float = DUPLICATE_METRES,
) -> FindingResult:
    """Record one finding (see the module's docstring). One transaction."""
    given = read_finding_fields(raw)
    checked = _checked_photos(uploads, limits)
    clean = _site_fields(raw, given.lon, given.lat)

    street = street_or_refuse(session, given.lon, given.lat)
    require_street_actor(actor, street.code, "登记巡查发现", roles=STREET_ROLES)
    patrol = get_patrol(session, given.patrol_id, actor) if given.patrol_id is not None else None
    if patrol is not None and patrol.status == "finished":
        raise Conflict("该巡查已经结束，不能再记录发现", "patrol_id")
    near = nearby_sites(session, given.lon, given.lat, duplicate_metres, actor)
    patrol_id = patrol.id if patrol else None
    place = _Place(store, actor, given, checked, patrol_id, near, clock.now())
    if given.attach_to is not None:
        return _attach(session, place, duplicate_metres)
    if near and not given.force_reason:
        _offer_nearby(near, duplicate_metres)
    return _new_site(session, place, street, clean)


def _attach(session: Session, place: _Place, duplicate_metres: float) -> FindingResult:
    """The finding goes to the nearby site the user confirmed: attached to an open site, or
    a rebound that reopens a closed one."""
    attach_to, note, actor = place.given.attach_to, place.given.note, place.actor
    offered = {n["id"]: n for n in place.near}
    if attach_to not in offered:
        raise ValidationError(
            f"点位 {attach_to} 不在发现位置 {duplicate_metres:g} 米以内，不能并入", "attach_to"
        )
    site = session.scalar(select(Site).where(Site.id == attach_to).with_for_update())
    assert site is not None
    action = "rebound" if site.status == "closed" else "attached"
    reason = f"巡查发现：{note}"[: workflow.MAX_REASON]  # the whole note is on the finding
    if action == "rebound":
        workflow.reopen_after_rebound(session, site, actor, reason)
    else:
        record_event(session, site, actor, "finding", {}, reason)
    photo_ids = _add_photos(session, place.store, site, actor, place.checked, "inspection")
    finding = PatrolFinding(
        patrol_id=place.patrol_id,
        district_code=site.district_code,
        site_id=site.id,
        action=action,
        geom=place.point(),
        note=note,
        distance_m=offered[attach_to]["distance_m"],
        photo_ids=photo_ids,
        created_by=actor.name,
        created_at=place.now,
        recorded_at=place.given.recorded_at,
    )
    session.add(finding)
    session.flush()
    return FindingResult(finding, site, False)


def _offer_nearby(near: list[dict[str, Any]], duplicate_metres: float) -> None:
    """Refuse (409) naming the nearest site: the user confirms attach_to or force_reason."""
    first = near[0]
    rebound = first["offer"] == "rebound"
    what = "已销账（如现场复建，请确认为回潮）" if rebound else first["status_label"]
    raise Conflict(
        f"{duplicate_metres:g} 米内已有点位 {first['code']}（{first['address']}，{what}，"
        f"相距 {first['distance_m']:g} 米）：请确认是否同一处——并入该点位，"
        "或说明理由后另行登记",
        "attach_to",
        candidates=near,
    )


def _new_site(
    session: Session, place: _Place, street: Street, clean: dict[str, Any]
) -> FindingResult:
    """A new site (新发现, source patrol) with the finding's photos as its before photos; a
    site near it is kept as the one the user chose not to attach to."""
    given, near = place.given, place.near
    site = _register_site(session, place, street, clean)
    photo_ids = _add_photos(session, place.store, site, place.actor, place.checked, "before")
    finding = PatrolFinding(
        patrol_id=place.patrol_id,
        district_code=site.district_code,
        site_id=site.id,
        action="created",
        geom=place.point(),
        note=given.note,
        duplicate_of=near[0]["id"] if near else None,
        distance_m=near[0]["distance_m"] if near else None,
        override_reason=given.force_reason if near else "",
        photo_ids=photo_ids,
        created_by=place.actor.name,
        created_at=place.now,
        recorded_at=given.recorded_at,
    )
    session.add(finding)
    session.flush()
    return FindingResult(finding, site, True)


def _register_site(session: Session, place: _Place, street: Street, clean: dict[str, Any]) -> Site:
    """The site of a finding in the ledger, with the street's next code and its creation in
    the history (the reason says why a site nearby was not chosen)."""
    given, actor, now = place.given, place.actor, place.now
    # two findings in one street at once would take the same next code: one at a time
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": street.code})
    code = next_site_code(session, street)
    site = Site(
        district_code=street.district_code,
        code=code,
        street_id=street.id,
        address=clean["address"],
        community=clean.get("community", ""),
        kind=clean.get("kind", "other"),
        disposition=clean["disposition"],
        status="new",
        source="patrol",
        note=given.note,
        geom=place.point(),
        created_by=actor.name,
        updated_by=actor.name,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(site)
    session.flush()
    forced = f"（附近已有点位，另行登记理由：{given.force_reason}）" if place.near else ""
    record_event(
        session,
        site,
        actor,
        "create",
        {
            "code": (None, code),
            "street": (None, street.code),
            "status": (None, "new"),
            "source": (None, "patrol"),
            "address": (None, clean["address"]),
            "location": (None, [given.lon, given.lat]),
        },
        f"巡查发现：{given.note}" + forced,
    )
    return site


def get_finding(session: Session, finding_id: int, actor: Actor) -> dict[str, Any]:
    """One finding whose site the actor may see (else 404)."""
    row = (
        session.execute(
            select(
                PatrolFinding,
                Site.code,
                Site.status,
                Street.code.label("street"),
                func.ST_X(PatrolFinding.geom),
                func.ST_Y(PatrolFinding.geom),
            )
            .join(Site, Site.id == PatrolFinding.site_id)
            .join(Street, Street.id == Site.street_id)
            .where(PatrolFinding.id == finding_id, *site_scope(actor))
        ).first()
        if 0 < finding_id < 2**63
        else None
    )
    if row is None:
        raise NotFound(f"没有编号为 {finding_id} 的巡查发现", "finding_id")
    finding, code, status, street, x, y = row
    return finding_dict(finding, code, status, street, (x, y))


def finding_dict(
    finding: PatrolFinding, code: str, status: str, street: str, lonlat: tuple[float, float]
) -> dict[str, Any]:
    return {
        "id": finding.id,
        "patrol_id": finding.patrol_id,
        "site_id": finding.site_id,
        "site_code": code,
        "site_status": status,
        "street": street,
        "action": finding.action,
        "action_label": ACTIONS[finding.action],
        "lon": round(lonlat[0], 7),
        "lat": round(lonlat[1], 7),
        "note": finding.note,
        "duplicate_of": finding.duplicate_of,
        "distance_m": finding.distance_m,
        "override_reason": finding.override_reason,
        "photo_ids": finding.photo_ids,
        "created_by": finding.created_by,
        "created_at": finding.created_at.isoformat(),
        "recorded_at": finding.recorded_at.isoformat() if finding.recorded_at else None,
    }


def recent_findings(session: Session, actor: Actor, days: int = 7) -> list[dict[str, Any]]:
    """Findings of the last `days` days that the actor may see, newest first (for the office's
    dashboard: new sites found on patrol and rebounds)."""
    since = clock.now() - timedelta(days=days)
    rows = session.execute(
        select(
            PatrolFinding.id,
            PatrolFinding.site_id,
            PatrolFinding.action,
            PatrolFinding.note,
            PatrolFinding.created_at,
            PatrolFinding.created_by,
            Site.code,
            Site.status,
            Street.name,
        )
        .join(Site, Site.id == PatrolFinding.site_id)
        .join(Street, Street.id == Site.street_id)
        .where(PatrolFinding.created_at >= since, *site_scope(actor))
        .order_by(PatrolFinding.created_at.desc(), PatrolFinding.id.desc())
        .limit(50)
    ).all()
    return [
        {
            "id": r.id,
            "site_id": r.site_id,
            "code": r.code,
            "status": r.status,
            "street_name": r.name,
            "action": r.action,
            "action_label": ACTIONS[r.action],
            "note": r.note,
            "created_at": r.created_at,
            "created_by": r.created_by,
        }
        for r in rows
    ]
