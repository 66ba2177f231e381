"""宣传 publicity work of the streets (plan 六(三)): banners, leaflets, boards, screens, visits.

A street role records and edits its own street's work; the office reads every street's and
sees them counted per street and month (monthly.py). Another street's record is a 404. The
photo is optional (a door-to-door visit or a screen's rolling text often has none; the
office's table counts the records without one); when given it passes the same checks as a
site photo and is stored by content hash in the photo store.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import DISTRICT_ROLES, STREET_ROLES, Actor
from gis_app.core.errors import Forbidden, NotFound, ValidationError
from gis_app.core.geo.coords import parse_lonlat
from gis_app.features.ledger.permissions import role_label
from gis_app.features.photos.service import PhotoLimits, PhotoStore, check_size, inspect_image
from gis_app.features.publicity import checks
from gis_app.features.publicity.models import PublicityRecord
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import street_ids_for_points

READERS = (*DISTRICT_ROLES, *STREET_ROLES)


@dataclass(frozen=True)
class Upload:
    """A photo as sent (bytes and the file's name)."""

    data: bytes
    filename: str | None


def require_street(actor: Actor) -> None:
    if actor.role not in STREET_ROLES or not actor.street_code:
        raise Forbidden(f"宣传工作由街道登记（当前身份：{role_label(actor)}）", "role")


def require_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden(f"无权查看宣传工作（当前身份：{role_label(actor)}）", "role")


def _point(data: dict[str, Any]) -> tuple[float, float] | None:
    lon, lat = data.get("lon"), data.get("lat")
    if lon in (None, "") and lat in (None, ""):
        return None
    if lon in (None, ""):
        raise ValidationError("填写了纬度，也须填写经度（或两者都不填）", "lon")
    if lat in (None, ""):
        raise ValidationError("填写了经度，也须填写纬度（或两者都不填）", "lat")
    return parse_lonlat(lon, lat)


def _checked(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    out = {
        "kind": checks.choice(data.get("kind"), "kind", "宣传形式", codes.PUBLICITY_KINDS),
        "content": checks.text(data.get("content"), "content", "宣传内容", 2000),
        "place": checks.text(data.get("place"), "place", "地点", 200),
        "done_on": checks.past_date(data.get("done_on"), "done_on", "日期"),
        "quantity": checks.quantity(data.get("quantity")),
    }
    point = _point(data)
    if point is not None and street_ids_for_points(session, [point])[0] is None:
        raise ValidationError(
            f"位置不在本区任何街道范围内（经度 {point[0]}，纬度 {point[1]}）", "lon"
        )
    out["point"] = point
    return out


def _photo(
    store: PhotoStore, limits: PhotoLimits, upload: Upload | None
) -> tuple[str, str, Any] | None:
    """Check and store the photo (the site photos' checks); (sha256, media type, taken at)."""
    if upload is None or not upload.data:
        return None
    try:
        check_size(upload.data, limits.max_bytes)
        facts = inspect_image(upload.data, limits.max_pixels)
    except ValidationError as exc:
        raise ValidationError(f"照片：{exc.message}", "photo") from None
    sha = hashlib.sha256(upload.data).hexdigest()
    store.put(store.original(sha, facts.media_type), upload.data)
    store.put(store.thumbnail(sha), facts.thumbnail)
    return sha, facts.media_type, facts.taken_at


def _apply(record: PublicityRecord, values: dict[str, Any], photo: Any) -> None:
    for key in ("kind", "content", "place", "done_on", "quantity"):
        setattr(record, key, values[key])
    point = values["point"]
    record.geom = func.ST_SetSRID(func.ST_MakePoint(*point), 4326) if point else None
    if photo is not None:
        record.photo_sha256, record.photo_media_type, record.photo_taken_at = photo


def create(
    session: Session,
    actor: Actor,
    data: dict[str, Any],
    store: PhotoStore,
    limits: PhotoLimits,
    upload: Upload | None = None,
) -> PublicityRecord:
    """A street records a piece of publicity work (its own street)."""
    require_street(actor)
    street = session.scalar(select(Street).where(Street.code == actor.street_code))
    if street is None:
        raise Forbidden("账户所属街道不存在", "role")
    values = _checked(session, data)
    photo = _photo(store, limits, upload)
    now = clock.now()
    record = PublicityRecord(
        district_code=street.district_code,
        street_id=street.id,
        recorded_by=actor.name,
        recorded_at=now,
        updated_by=actor.name,
        updated_at=now,
    )
    _apply(record, values, photo)
    session.add(record)
    session.flush()
    return record


def update(
    session: Session,
    actor: Actor,
    record_id: int,
    data: dict[str, Any],
    store: PhotoStore,
    limits: PhotoLimits,
    upload: Upload | None = None,
) -> PublicityRecord:
    """The street changes its record (every field given again; a new photo replaces the old)."""
    record = get(session, actor, record_id, for_update=True)
    require_street(actor)
    values = _checked(session, data)
    photo = _photo(store, limits, upload)
    _apply(record, values, photo)
    record.updated_by, record.updated_at = actor.name, clock.now()
    session.flush()
    return record


def _street_id(session: Session, code: str | None) -> int:
    return session.scalar(select(Street.id).where(Street.code == (code or ""))) or 0


def get(
    session: Session, actor: Actor, record_id: int, for_update: bool = False
) -> PublicityRecord:
    """A record `actor` may see; another street's (or none) is the same 404."""
    require_reader(actor)
    query = select(PublicityRecord).where(PublicityRecord.id == record_id)
    if for_update:
        query = query.with_for_update()
    record = session.scalar(query) if 0 < record_id < 2**63 else None
    if record is None or (
        actor.role in STREET_ROLES and record.street_id != _street_id(session, actor.street_code)
    ):
        raise NotFound(f"没有编号为 {record_id} 的宣传记录", "publicity_id")
    return record


def month_range(month: Any, field: str = "month") -> tuple[date, date]:
    """The first and last day of a month given as YYYY-MM."""
    if not isinstance(month, str) or len(month.strip()) != 7:
        raise ValidationError("月份须写成“年-月”，例如 2026-06", field)
    try:
        first = date(int(month[:4]), int(month[5:7]), 1)
    except ValueError:
        raise ValidationError(
            f"月份无效：{month[:10]}（须写成“年-月”，例如 2026-06）", field
        ) from None
    if month[4] != "-":
        raise ValidationError("月份须写成“年-月”，例如 2026-06", field)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def as_dict(record: PublicityRecord, street_code: str, street_name: str) -> dict[str, Any]:
    point = to_shape(record.geom) if record.geom is not None else None
    return {
        "id": record.id,
        "street_code": street_code,
        "street": street_name,
        "kind": record.kind,
        "kind_label": codes.PUBLICITY_KINDS[record.kind],
        "unit": codes.PUBLICITY_UNITS[record.kind],
        "content": record.content,
        "place": record.place,
        "lon": round(point.x, 6) if point is not None else None,
        "lat": round(point.y, 6) if point is not None else None,
        "done_on": record.done_on.isoformat(),
        "quantity": record.quantity,
        "has_photo": record.photo_sha256 is not None,
        "photo_taken_at": clock.fmt_local(record.photo_taken_at) if record.photo_taken_at else None,
        "recorded_by": record.recorded_by,
        "updated_by": record.updated_by,
    }


def listing(
    session: Session,
    actor: Actor,
    street: str | None = None,
    month: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """The records `actor` may see (a street its own), optionally of a street, month, kind."""
    require_reader(actor)
    query = select(PublicityRecord, Street.code, Street.name).join(
        Street, Street.id == PublicityRecord.street_id
    )
    if actor.role in STREET_ROLES:
        query = query.where(Street.code == (actor.street_code or ""))
    if street:
        query = query.where(Street.code == street)
    if month:
        first, last = month_range(month)
        query = query.where(PublicityRecord.done_on.between(first, last))
    if kind:
        query = query.where(
            PublicityRecord.kind == checks.choice(kind, "kind", "宣传形式", codes.PUBLICITY_KINDS)
        )
    rows = session.execute(
        query.order_by(PublicityRecord.done_on.desc(), PublicityRecord.id.desc())
    ).all()
    return [as_dict(r, code, name) for r, code, name in rows]


def one(session: Session, actor: Actor, record_id: int) -> dict[str, Any]:
    record = get(session, actor, record_id)
    code, name = session.execute(
        select(Street.code, Street.name).where(Street.id == record.street_id)
    ).one()
    return as_dict(record, code, name)


def parse_month(value: Any) -> str:
    """A month (YYYY-MM) given, or this month."""
    if value in (None, ""):
        return clock.today().strftime("%Y-%m")
    month_range(value)
    return str(value)


def set_photo(
    session: Session,
    actor: Actor,
    record_id: int,
    store: PhotoStore,
    limits: PhotoLimits,
    upload: Upload,
) -> PublicityRecord:
    """The street adds (or replaces) the photo of its record."""
    record = get(session, actor, record_id, for_update=True)
    require_street(actor)
    photo = _photo(store, limits, upload)
    if photo is None:
        raise ValidationError("照片：上传的文件是空的", "photo")
    record.photo_sha256, record.photo_media_type, record.photo_taken_at = photo
    record.updated_by, record.updated_at = actor.name, clock.now()
    session.flush()
    return record


def photo_file(
    session: Session, actor: Actor, record_id: int, store: PhotoStore, thumb: bool
) -> tuple[Any, str]:
    """The photo's file (or thumbnail) of a record `actor` may see, and its media type."""
    record = get(session, actor, record_id)
    if record.photo_sha256 is None or record.photo_media_type is None:
        raise NotFound("该宣传记录没有照片", "publicity_id")
    if thumb:
        return store.thumbnail(record.photo_sha256), "image/jpeg"
    return store.original(record.photo_sha256, record.photo_media_type), record.photo_media_type
