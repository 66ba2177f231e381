"""Photos of a site: checked, stored once by content hash, with EXIF evidence and warnings.

Files live under PHOTO_DIR: `originals/ab/<sha256>.<ext>` (the bytes as uploaded, EXIF kept as
evidence) and `thumbs/ab/<sha256>.jpg`. The same photo uploaded again for the same site and
kind returns the row already there.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import require_street_actor, sees_site, street_code_of
from gis_app.features.ledger.service import get_site, record_event
from gis_app.features.photos.image_check import FORMATS, ImageFacts, check_size, inspect_image
from gis_app.features.photos.models import Photo
from gis_app.features.plans.models import SiteStep

#: a photo's GPS farther than this from its site is flagged
GPS_WARNING_METRES = 200.0
#: which kinds of photo a site may receive in which status
KIND_STATUSES: dict[str, tuple[str, ...]] = {
    "before": ("new", "registered", "in_progress"),
    "after": ("in_progress", "awaiting_acceptance"),
    "inspection": tuple(codes.STATUSES),
}
MAX_NAME = 255


def _historical_pair_pending(site: Site, kind: str) -> bool:
    """A historical closure (closed before the system) receives its before/after pair until
    the office accepts it."""
    return (
        kind in ("before", "after")
        and site.historical_source is not None
        and site.historical_accepted_at is None
    )


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int


class PhotoStore:
    """Content-addressed files under one folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def original(self, sha256: str, media_type: str) -> Path:
        ext = next((e for m, e in FORMATS.values() if m == media_type), "bin")
        return self.root / "originals" / sha256[:2] / f"{sha256}.{ext}"

    def thumbnail(self, sha256: str) -> Path:
        return self.root / "thumbs" / sha256[:2] / f"{sha256}.jpg"

    def put(self, path: Path, data: bytes) -> None:
        """Write atomically; a file already there has the same content (same hash)."""
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _clean_name(filename: str | None) -> str:
    name = "".join(ch for ch in (filename or "") if ch.isprintable()).strip()
    return Path(name.replace("\\", "/")).name[:MAX_NAME]


def add_photo(
    session: Session,
    store: PhotoStore,
    limits: PhotoLimits,
    site_id: int,
    actor: Actor,
    data: bytes,
    filename: str | None,
    kind: str,
    step_id: int | None = None,
) -> tuple[Photo, bool]:
    """Check and store one photo; returns (photo, created)."""
    if kind not in codes.PHOTO_KINDS:
        allowed = "、".join(f"{k}（{v}）" for k, v in codes.PHOTO_KINDS.items())
        raise ValidationError(f"照片类别无效：{kind!r}（可选：{allowed}）", "kind")
    check_size(data, limits.max_bytes)
    site = get_site(session, site_id, actor=actor)
    street_code = street_code_of(session, site)
    require_street_actor(actor, street_code, "上传照片", roles=STREET_ROLES)
    if site.status not in KIND_STATUSES[kind] and not _historical_pair_pending(site, kind):
        allowed = "、".join(codes.STATUSES[s] for s in KIND_STATUSES[kind])
        raise Conflict(
            f"点位状态为「{codes.STATUSES[site.status]}」，不能上传{codes.PHOTO_KINDS[kind]}照片"
            f"（仅限：{allowed}）",
            "kind",
        )
    if step_id is not None:
        step = session.get(SiteStep, step_id)
        if step is None or step.site_id != site.id:
            raise ValidationError(f"步骤 {step_id} 不属于该点位", "step_id")
    facts = inspect_image(data, limits.max_pixels)
    photo, created = store_checked_photo(
        session, store, site, actor, data, filename, facts, kind, step_id=step_id
    )
    return photo, created


def store_checked_photo(
    session: Session,
    store: PhotoStore,
    site: Site,
    actor: Actor,
    data: bytes,
    filename: str | None,
    facts: ImageFacts,
    kind: str,
    step_id: int | None = None,
    reason: str = "",
) -> tuple[Photo, bool]:
    """Store a photo already checked (`facts` from inspect_image) for `site`, inside the
    caller's transaction: the files by content hash, the row with its EXIF evidence and
    warnings, the site's history event (`reason` first, then the warnings). The same photo
    of the same kind already there is returned instead, with created False."""
    sha = hashlib.sha256(data).hexdigest()
    existing = _same_photo(session, site.id, kind, sha)
    if existing is not None:
        return existing, False
    store.put(store.original(sha, facts.media_type), data)
    store.put(store.thumbnail(sha), facts.thumbnail)
    gps, distance = _gps_and_distance(session, site, facts.lonlat)
    warnings = photo_warnings(kind, facts.taken_at, distance, site, facts.exif_notes)
    photo = Photo(
        district_code=site.district_code,
        site_id=site.id,
        step_id=step_id,
        kind=kind,
        sha256=sha,
        media_type=facts.media_type,
        size_bytes=len(data),
        width=facts.width,
        height=facts.height,
        original_name=_clean_name(filename),
        taken_at=facts.taken_at,
        gps=gps,
        gps_distance_m=round(distance, 1) if distance is not None else None,
        warnings=warnings,
        uploaded_by=actor.name,
        uploaded_at=clock.now(),
    )
    photo, created = _insert_once(session, photo)
    if not created:
        return photo, False
    record_event(
        session,
        site,
        actor,
        "photo",
        {"photo": (None, {"id": photo.id, "kind": kind, "sha256": sha})},
        "；".join([*([reason] if reason else []), *(w["message"] for w in warnings)]),
    )
    return photo, True


def add_evidence_photo(
    session: Session,
    store: PhotoStore,
    limits: PhotoLimits,
    site: Site,
    actor: Actor,
    data: bytes,
    filename: str | None,
    reason: str,
) -> Photo:
    """An inspection photo of a site the caller has already let `actor` act on (the inspector
    of a spot check, who may be of another street): checked like any upload, stored once,
    in the site's history with `reason`. Errors name the field `photos`."""
    try:
        check_size(data, limits.max_bytes)
        facts = inspect_image(data, limits.max_pixels)
    except ValidationError as exc:
        raise ValidationError(exc.message, "photos") from None
    photo, _created = store_checked_photo(
        session, store, site, actor, data, filename, facts, "inspection", reason=reason
    )
    return photo


def _gps_and_distance(
    session: Session, site: Site, lonlat: tuple[float, float] | None
) -> tuple[Any, float | None]:
    """Where the photo says it was taken (a point to store) and how far that is from the
    site, in metres on the ellipsoid; (None, None) without a position in its EXIF."""
    if lonlat is None:
        return None, None
    gps = func.ST_SetSRID(func.ST_MakePoint(*lonlat), 4326)
    distance = session.scalar(
        select(func.ST_Distance(func.Geography(gps), func.Geography(Site.geom))).where(
            Site.id == site.id
        )
    )
    return gps, distance


def _insert_once(session: Session, photo: Photo) -> tuple[Photo, bool]:
    """Add the photo in a savepoint; when the same photo arrived twice at once, the row the
    other request stored (created False)."""
    try:
        with session.begin_nested():
            session.add(photo)
    except IntegrityError:
        again = _same_photo(session, photo.site_id, photo.kind, photo.sha256)
        if again is None:
            raise
        return again, False
    return photo, True


def _same_photo(session: Session, site_id: int, kind: str, sha: str) -> Photo | None:
    return session.scalar(
        select(Photo).where(Photo.site_id == site_id, Photo.kind == kind, Photo.sha256 == sha)
    )


def photo_warnings(
    kind: str,
    taken_at: Any,
    distance_m: float | None,
    site: Site,
    exif_notes: list[str],
) -> list[dict[str, str]]:
    """Evidence problems an officer should look at (the photo is kept all the same)."""
    out: list[dict[str, str]] = []
    if distance_m is not None and distance_m > GPS_WARNING_METRES:
        out.append(
            {
                "code": "gps_far",
                "message": (
                    f"照片拍摄位置距点位 {distance_m:,.0f} 米（超过 {GPS_WARNING_METRES:.0f} 米）"
                ),
            }
        )
    if kind == "after" and taken_at is not None and site.created_at and taken_at < site.created_at:
        out.append(
            {
                "code": "taken_before_registration",
                "message": (
                    f"整改后照片的拍摄时间 {clock.fmt_local(taken_at)} 早于点位建档时间 "
                    f"{clock.fmt_local(site.created_at)}"
                ),
            }
        )
    for note in exif_notes:
        out.append({"code": "exif_unreadable", "message": note})
    return out


def get_photo(session: Session, photo_id: int, actor: Actor | None = None) -> Photo:
    """A photo; with `actor`, only one of a site that actor may see (else 404)."""
    photo = session.get(Photo, photo_id) if 0 < photo_id < 2**63 else None
    if photo is not None and actor is not None:
        site = session.get(Site, photo.site_id)
        if site is None or not sees_site(session, site, actor):
            photo = None
    if photo is None:
        raise NotFound(f"没有编号为 {photo_id} 的照片", "id")
    return photo


def site_photos(session: Session, site_id: int, kind: str | None = None) -> list[Photo]:
    query = select(Photo).where(Photo.site_id == site_id)
    if kind:
        query = query.where(Photo.kind == kind)
    return list(session.scalars(query.order_by(Photo.uploaded_at, Photo.id)))


def newest(session: Session, site_id: int, kind: str) -> Photo | None:
    return session.scalar(
        select(Photo)
        .where(Photo.site_id == site_id, Photo.kind == kind)
        .order_by(Photo.uploaded_at.desc(), Photo.id.desc())
        .limit(1)
    )


def latest_photo_ids(session: Session, site_ids: list[int]) -> list[int]:
    """The newest before and after photo of each site (what a phone takes along offline)."""
    if not site_ids:
        return []
    ranked = (
        select(
            Photo.id,
            func.row_number()
            .over(
                partition_by=(Photo.site_id, Photo.kind),
                order_by=(Photo.uploaded_at.desc(), Photo.id.desc()),
            )
            .label("n"),
        )
        .where(Photo.site_id.in_(site_ids), Photo.kind.in_(("before", "after")))
        .subquery()
    )
    return list(session.scalars(select(ranked.c.id).where(ranked.c.n == 1).order_by(ranked.c.id)))


def photo_dict(session: Session, photo: Photo) -> dict[str, Any]:
    lonlat = None
    if photo.gps is not None:
        x, y = session.execute(
            select(func.ST_X(Photo.gps), func.ST_Y(Photo.gps)).where(Photo.id == photo.id)
        ).one()
        lonlat = [round(x, 7), round(y, 7)]
    return {
        "id": photo.id,
        "site_id": photo.site_id,
        "step_id": photo.step_id,
        "kind": photo.kind,
        "kind_label": codes.PHOTO_KINDS[photo.kind],
        "sha256": photo.sha256,
        "media_type": photo.media_type,
        "size_bytes": photo.size_bytes,
        "width": photo.width,
        "height": photo.height,
        "original_name": photo.original_name,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "taken_at_local": clock.fmt_local(photo.taken_at, with_seconds=True),
        "gps": lonlat,
        "gps_distance_m": photo.gps_distance_m,
        "warnings": photo.warnings,
        "uploaded_by": photo.uploaded_by,
        "uploaded_at": photo.uploaded_at.isoformat(),
        "uploaded_at_local": clock.fmt_local(photo.uploaded_at),
    }


def photos_by_kind(session: Session, site_id: int, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """A site's photos as the API lists them: before, after, inspection (oldest first)."""
    site = get_site(session, site_id, actor=actor)
    out: dict[str, list[dict[str, Any]]] = {"before": [], "after": [], "inspection": []}
    for photo in site_photos(session, site.id):
        if photo.kind in out:
            out[photo.kind].append(photo_dict(session, photo))
    return out


def store_for(config: Mapping[str, Any]) -> PhotoStore:
    """The photo store the settings name (PHOTO_DIR)."""
    return PhotoStore(config["PHOTO_DIR"])


def limits_for(config: Mapping[str, Any]) -> PhotoLimits:
    """The upload limits the settings give (PHOTO_MAX_MB, PHOTO_MAX_PIXELS)."""
    return PhotoLimits(
        max_bytes=int(config["PHOTO_MAX_MB"] * 1024 * 1024),
        max_pixels=int(config["PHOTO_MAX_PIXELS"]),
    )
