"""Sites (点位): create, read, update, soft-delete; every change is a history event."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import ROLES as ROLE_LABELS
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.core.text import normal_code
from gis_app.features.campaign.service import beyond_end_message, current_end
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import (
    require_district,
    require_street_actor,
    sees_site,
    site_scope,
    street_code_of,
)
from gis_app.features.ledger.queries import base_select, feature_expr
from gis_app.features.ledger.schemas import (
    EDITABLE_FIELDS,
    FIELD_LABELS,
    clean_site_fields,
    parse_date,
    raise_first,
)
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import street_ids_for_points

# fields a plain update may not touch: they move through their own workflows
WORKFLOW_FIELDS = {
    "status": "状态须通过状态流转操作变更",
    "current_deadline": "当前期限只能由批准的延期申请改变",
}
READ_ONLY_FIELDS = {
    "id",
    "street_code",
    "street_name",
    "street",
    "version",
    "overdue",
    "created_at",
    "updated_at",
    "source",
}
OUTSIDE_MESSAGE = "该位置不在本区任何街道范围内（经度 {lon}，纬度 {lat}）"
#: the states a site may be registered in; every later one is reached through the workflow
CREATE_STATUSES = ("new", "registered")
#: a correction of a closed site by the office (区领导小组办公室) is recorded as this action
CORRECT_ACTION = "correct"


def status_past_registered_message(status: str) -> str:
    """Why a site cannot be registered (created, imported) in `status`."""
    label = codes.label(codes.STATUSES, status)
    return (
        f"状态不能登记为「{label}」：新点位的状态只能是「新发现」或「已建档」，"
        "此后须经开始治理、提请验收（整改前后照片）和区领导小组办公室验收才能变更"
    )


#: 应拆尽拆: a site flagged 中央第二次环保督查 is demolished
CENTRAL_FLAG = "flag_central_inspection"


def central_rule_message(code: str = "") -> str:
    what = f"点位 {code} " if code else ""
    return (
        f"{what}标记为中央第二次环保督查的点位应拆尽拆：治理方式须为「拆除」"
        "（改为规范治理或取消标记须提出申请，由区领导小组办公室审批）"
    )


def refuse_central_not_demolished(clean: dict[str, Any]) -> None:
    """A new site flagged 中央第二次环保督查 must be 拆除."""
    if clean.get(CENTRAL_FLAG) and clean.get("disposition") != "demolish":
        raise ValidationError(central_rule_message(), "disposition")


def baseline_frozen(session: Session) -> bool:
    """Whether the district baseline (总体目标) is frozen: sites registered now are additions."""
    return bool(session.execute(text("SELECT EXISTS (SELECT 1 FROM baselines)")).scalar())


def refuse_status_past_registered(status: str | None) -> None:
    if status is not None and status not in CREATE_STATUSES:
        raise ValidationError(status_past_registered_message(status), "status")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def fill_status_since(session: Session) -> int:
    """Set `status_since` where it is unknown from each site's last transition into its status
    (events written in bulk, as the demo's back-dated history; migration 0212 did the same for
    the sites before it). The number of sites filled."""
    result = session.execute(
        text(
            """
            UPDATE sites s SET status_since = e.at
            FROM (SELECT DISTINCT ON (site_id) site_id, at, changes->'status'->>1 AS status
                  FROM site_events WHERE action = 'transition'
                  ORDER BY site_id, at DESC, id DESC) e
            WHERE e.site_id = s.id AND e.status = s.status AND s.status_since IS NULL
            """
        )
    )
    return int(result.rowcount or 0)


def record_event(
    session: Session,
    site: Site,
    actor: Actor,
    action: str,
    changes: dict[str, Any],
    reason: str = "",
) -> SiteEvent:
    return record_site_event(session, site.district_code, site.id, actor, action, changes, reason)


def record_site_event(
    session: Session,
    district_code: str,
    site_id: int,
    actor: Actor,
    action: str,
    changes: dict[str, Any],
    reason: str = "",
) -> SiteEvent:
    """An event on a site's timeline, for a role that may not read the site row itself."""
    event = SiteEvent(
        district_code=district_code,
        site_id=site_id,
        actor=actor.name,
        action=action,
        reason=reason,
        changes={k: [_jsonable(a), _jsonable(b)] for k, (a, b) in changes.items()},
        at=clock.now(),
    )
    session.add(event)
    return event


def live_site_id_by_code(session: Session, site_code: Any) -> int:
    """The id of the live site a page's form names by its code (field `site`), or a refusal."""
    code = site_code.strip() if isinstance(site_code, str) else ""
    if not code:
        raise ValidationError("缺少点位编号", "site")
    site_id = session.scalar(select(Site.id).where(Site.code == code, Site.deleted_at.is_(None)))
    if site_id is None:
        raise ValidationError(f"没有编号为 {code} 的点位", "site")
    return site_id


def street_or_refuse(session: Session, lon: float, lat: float) -> Street:
    street_id = street_ids_for_points(session, [(lon, lat)])[0]
    if street_id is None:
        raise ValidationError(OUTSIDE_MESSAGE.format(lon=lon, lat=lat), "lon")
    street = session.get(Street, street_id)
    assert street is not None
    return street


def _point(lon: float, lat: float) -> Any:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def next_site_code(session: Session, street: Street) -> str:
    """An unused code for a site registered without one: <street code>-<year>-<n>."""
    year = clock.today().year
    prefix = f"{street.code}-{year}-"
    last = session.scalar(select(func.max(Site.code)).where(Site.code.like(prefix + "%")))
    n = int(last.rsplit("-", 1)[1]) + 1 if last and last.rsplit("-", 1)[1].isdigit() else 1
    return f"{prefix}{n:04d}"


def codes_in_use(session: Session, codes: list[str], district_code: str | None = None) -> set[str]:
    """Which of `codes` a live site has, in whatever street (a street's own transaction sees
    only its street's sites: the database answers this one question for all of them),
    compared by their normal form (core.text.normal_code): `dzg-001` is in use if `DZG-001`
    is."""
    if not codes:
        return set()
    return set(
        session.scalars(
            text("SELECT access.site_codes_in_use(:district, :codes)"),
            {"district": district_code, "codes": list(codes)},
        )
    )


def _check_code_free(session: Session, district_code: str, code: str, own_id: int | None) -> None:
    """The same answer for a code in use in one's own street or another's (naming neither)."""
    if own_id is not None:
        own = session.scalar(select(Site.code).where(Site.id == own_id))
        if own is not None and normal_code(own) == normal_code(code):
            return  # its own code (perhaps in another case or width)
    if codes_in_use(session, [code], district_code):
        raise Conflict(f"编号 {code} 已被使用", "code")


def create_site(
    session: Session, raw: dict[str, Any], actor: Actor, source: str = "manual"
) -> Site:
    """Register one site; its street is derived from the point. One transaction."""
    unknown = set(raw) - EDITABLE_FIELDS - READ_ONLY_FIELDS
    if unknown:
        raise ValidationError(f"未知字段：{', '.join(sorted(unknown))}", sorted(unknown)[0])
    clean, errors = clean_site_fields(raw)
    raise_first(errors)
    refuse_status_past_registered(clean.get("status"))
    refuse_central_not_demolished(clean)
    late = clean.get("source", source) != "patrol" and not clean.get("addition_reason")
    if late and baseline_frozen(session):
        raise ValidationError(
            "全区基数台帐已冻结：此后登记的点位按新增统计，补录须说明原因（补录原因）",
            "addition_reason",
        )
    street = street_or_refuse(session, clean["lon"], clean["lat"])
    require_street_actor(actor, street.code, "登记点位", roles=("street_officer", "inspector"))
    deadline = clean.get("committed_deadline")
    end = current_end(session) if deadline and not actor.is_district else None
    if end is not None and deadline > end:
        raise ValidationError(beyond_end_message("承诺期限", deadline, end), "committed_deadline")
    code = clean.get("code") or next_site_code(session, street)
    _check_code_free(session, street.district_code, code, None)
    deadline = clean.get("committed_deadline")
    status = clean.get("status", "new" if source == "patrol" else "registered")
    now = clock.now()
    site = Site(
        district_code=street.district_code,
        code=code,
        street_id=street.id,
        address=clean["address"],
        community=clean.get("community", ""),
        kind=clean.get("kind", "other"),
        area_m2=clean.get("area_m2"),
        person_name=clean.get("person_name", ""),
        person_contact=clean.get("person_contact", ""),
        disposition=clean["disposition"],
        committed_deadline=deadline,
        current_deadline=deadline,
        status=status,
        source=clean.get("source", source),
        note=clean.get("note", ""),
        addition_reason=clean.get("addition_reason", ""),
        geom=_point(clean["lon"], clean["lat"]),
        created_by=actor.name,
        updated_by=actor.name,
        created_at=now,
        updated_at=now,
        version=1,
        **{k: v for k, v in clean.items() if k.startswith("flag_")},
    )
    try:
        with session.begin_nested():  # a savepoint: a refusal leaves the transaction usable
            session.add(site)
    except IntegrityError as exc:
        raise Conflict(f"编号 {code} 已被使用", "code") from exc
    snapshot = {k: (None, v) for k, v in clean.items()}
    snapshot.update({"code": (None, code), "street": (None, street.code), "status": (None, status)})
    record_event(session, site, actor, "create", snapshot)
    session.flush()
    return site


def get_site(
    session: Session, site_id: int, for_update: bool = False, actor: Actor | None = None
) -> Site:
    """A live site; with `actor`, only one that actor may see (else the same 404 as for a
    site that does not exist: another street's sites are not even confirmed to exist)."""
    site = _find(session, site_id, for_update, actor)
    if site.deleted_at is not None:
        raise NotFound(
            f"点位 {site.code} 已于 {clock.fmt_local(site.deleted_at)} 删除"
            f"（原因：{site.deleted_reason}）",
            "id",
        )
    return site


def _find(session: Session, site_id: int, for_update: bool, actor: Actor | None) -> Site:
    if not 0 < site_id < 2**63:  # beyond bigint: cannot exist
        raise NotFound(f"没有编号为 {site_id} 的点位", "id")
    if for_update:  # NO KEY UPDATE: inserts referring to the site (events, photos) still go on
        site = session.scalar(
            select(Site).where(Site.id == site_id).with_for_update(key_share=True)
        )
    else:
        # from the session's identity map when this transaction read it already (a page or
        # the detail API asks three or four times per request); else one SELECT, under RLS
        site = session.get(Site, site_id)
    if site is None or (actor is not None and not sees_site(session, site, actor)):
        raise NotFound(f"没有编号为 {site_id} 的点位", "id")
    return site


def _lonlat(session: Session, site: Site) -> tuple[float, float]:
    x, y = session.execute(
        select(func.ST_X(Site.geom), func.ST_Y(Site.geom)).where(Site.id == site.id)
    ).one()
    return round(x, 7), round(y, 7)


def check_version(site: Site, version: object) -> None:
    if version is None or isinstance(version, bool):
        raise ValidationError("缺少版本号：请带上读取点位时得到的版本号（version）", "version")
    try:
        expected = int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"版本号 version 必须是整数：{version!r}", "version") from None
    if expected != site.version:
        raise Conflict(
            f"点位已被他人修改（您看到的是第 {expected} 版，当前是第 {site.version} 版）："
            "请刷新后重试",
            "version",
            current_version=site.version,
        )


def update_site(
    session: Session, site_id: int, raw: dict[str, Any], actor: Actor, reason: str = ""
) -> Site:
    """Change fields of a site, carrying the version the user saw (a stale one gets 409)."""
    clean = _edited_fields(raw)
    site = get_site(session, site_id, for_update=True, actor=actor)
    require_street_actor(actor, street_code_of(session, site), "修改点位")
    if not actor.is_district and "committed_deadline" in clean:
        raise Forbidden("承诺期限须由区领导小组办公室修改（街道请申请延期）", "committed_deadline")
    check_version(site, raw.get("version"))
    action = "update"
    reason = _central_inspection_edit(site, clean, actor, reason)
    if site.status == "closed":
        reason = _closed_site_correction(site, clean, actor, reason)
        action = CORRECT_ACTION

    changes: dict[str, tuple[Any, Any]] = {}
    if "lon" in clean:
        _move(session, site, clean["lon"], clean["lat"], actor, changes)
    if "code" in clean and clean["code"] != site.code:
        _check_code_free(session, site.district_code, clean["code"], site.id)
    _set_fields(site, clean, changes)
    if not changes:
        return site
    site.version += 1  # the row is locked (FOR UPDATE): no other edit can interleave
    site.updated_by = actor.name
    site.updated_at = clock.now()
    try:
        with session.begin_nested():  # a savepoint: a refusal leaves the transaction usable
            record_event(session, site, actor, action, changes, reason)
    except IntegrityError as exc:  # the code was taken meanwhile
        raise Conflict("编号已被使用", "code") from exc
    return site


def _central_inspection_edit(site: Site, clean: dict[str, Any], actor: Actor, reason: str) -> str:
    """应拆尽拆: a flagged site stays 拆除. A street asks (a request the office decides); the
    office's own edit needs a reason. Flagging a 规范治理 site needs 拆除 in the same edit."""
    flagged = clean.get(CENTRAL_FLAG, site.flag_central_inspection)
    disposition = clean.get("disposition", site.disposition)
    if not site.flag_central_inspection:
        if flagged and disposition != "demolish":
            raise ValidationError(central_rule_message(site.code), "disposition")
        return reason
    if flagged and disposition == "demolish":
        return reason
    field = "disposition" if flagged else CENTRAL_FLAG
    what = "治理方式改为「规范治理」" if flagged else "取消中央第二次环保督查标记"
    if not actor.is_district:
        raise Forbidden(
            f"点位 {site.code} 为中央第二次环保督查点位，应拆尽拆：街道不能直接{what}；"
            f"确需变更的，请提出变更申请（POST /api/v1/sites/{site.id}/central-requests），"
            "由区领导小组办公室审批",
            field,
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            f"点位 {site.code} 为中央第二次环保督查点位：区办{what}须说明原因（修改原因）", "reason"
        )
    return reason


def _closed_site_correction(site: Site, clean: dict[str, Any], actor: Actor, reason: str) -> str:
    """A 已销账 site is frozen for its street; the office corrects it, with a reason."""
    fields = [name for name in clean if name != "lat"]
    labels = "、".join(FIELD_LABELS.get(n, n) for n in fields)
    if not actor.is_district:
        raise Forbidden(
            f"点位 {site.code} 已销账，街道不能再修改{labels}："
            "已销账点位只能由区领导小组办公室更正（须说明原因）",
            fields[0],
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            f"更正已销账点位 {site.code} 的{labels}须说明原因（修改原因）", "reason"
        )
    if len(reason) > 500:
        raise ValidationError("修改原因过长（最多 500 个字）", "reason")
    return reason


def _edited_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The fields an edit changes, checked and cleaned (no workflow field, none unknown)."""
    for name, why in WORKFLOW_FIELDS.items():
        if name in raw:
            raise ValidationError(why, name)
    fields = {k: v for k, v in raw.items() if k not in ("version", "reason")}
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(
            f"未知或不可修改的字段：{', '.join(sorted(unknown))}", sorted(unknown)[0]
        )
    if not fields:
        raise ValidationError("没有要修改的字段", None)
    clean, errors = clean_site_fields(fields, partial=True)
    raise_first(errors)
    return clean


def _move(
    session: Session,
    site: Site,
    lon: float,
    lat: float,
    actor: Actor,
    changes: dict[str, tuple[Any, Any]],
) -> None:
    """A new location; the street follows it (another street: the district's business)."""
    old = _lonlat(session, site)
    if old == (round(lon, 7), round(lat, 7)):
        return
    street = street_or_refuse(session, lon, lat)
    changes["location"] = (list(old), [lon, lat])
    site.geom = _point(lon, lat)
    if street.id != site.street_id:
        if not actor.is_district:
            raise Forbidden(
                f"新位置属于{street.name}：点位移到其他街道须由区领导小组办公室办理",
                "lon",
            )
        old_street = session.get(Street, site.street_id)
        changes["street"] = (old_street.code if old_street else None, street.code)
        site.street_id = street.id


def _set_fields(site: Site, clean: dict[str, Any], changes: dict[str, tuple[Any, Any]]) -> None:
    """The other fields that change; the current deadline follows the committed one unless
    an extension moved it."""
    for name, value in clean.items():
        if name in ("lon", "lat"):
            continue
        old = getattr(site, name)
        if old != value:
            changes[name] = (old, value)
            setattr(site, name, value)
    if "committed_deadline" in changes:
        old_committed = changes["committed_deadline"][0]
        if site.current_deadline in (None, old_committed):
            changes["current_deadline"] = (site.current_deadline, site.committed_deadline)
            site.current_deadline = site.committed_deadline


def delete_site(
    session: Session, site_id: int, actor: Actor, reason: str, version: object = None
) -> Site:
    """Soft-delete: the site leaves the ledger but stays in the database with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("删除点位必须说明原因", "reason")
    if len(reason) > 500:
        raise ValidationError("删除原因过长（最多 500 个字）", "reason")
    site = get_site(session, site_id, for_update=True, actor=actor)
    require_district(actor, "删除点位")
    if version is not None:
        check_version(site, version)
    now = clock.now()
    site.version += 1
    site.deleted_at = now
    site.deleted_by = actor.name
    site.deleted_reason = reason
    site.updated_at = now
    site.updated_by = actor.name
    record_event(session, site, actor, "delete", {"deleted": (False, True)}, reason)
    session.flush()
    return site


def site_feature(
    session: Session, site_id: int, today: date, personal: bool, actor: Actor | None
) -> dict:
    """One live site as a GeoJSON Feature (404 if missing, deleted or not the actor's)."""
    get_site(session, site_id, actor=actor)
    return session.execute(
        base_select([feature_expr(today, personal)]).where(Site.id == site_id)
    ).scalar_one()


def site_history(session: Session, site_id: int, actor: Actor | None) -> list[dict[str, Any]]:
    """The site's events, oldest first (also for a deleted site)."""
    _find(session, site_id, False, actor)
    events = session.scalars(
        select(SiteEvent).where(SiteEvent.site_id == site_id).order_by(SiteEvent.at, SiteEvent.id)
    )
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "reason": e.reason,
            "changes": e.changes,
        }
        for e in events
    ]


def ledger_is_empty(session: Session) -> bool:
    return session.execute(text("SELECT NOT EXISTS (SELECT 1 FROM streets)")).scalar_one()


def visible_site_id(session: Session, site_id: int | None, actor: Actor, message: str) -> int:
    """The id of a step's or request's site, if `actor` may see it; else 404 for the thing
    itself (`message`)."""
    site = session.get(Site, site_id) if site_id else None
    if site is None or not sees_site(session, site, actor):
        raise NotFound(message, "id")
    return site.id


def site_state(site: Site) -> dict[str, Any]:
    """A site's state after a workflow act: its status, version and deadlines."""
    return {
        "id": site.id,
        "code": site.code,
        "status": site.status,
        "version": site.version,
        "committed_deadline": site.committed_deadline.isoformat()
        if site.committed_deadline
        else None,
        "current_deadline": site.current_deadline.isoformat() if site.current_deadline else None,
    }


# ---------------------------------------------------------------- historical closures

#: only this role brings in sites closed before the system existed
HISTORICAL_ROLE = "district_admin"
HISTORICAL_ACTION = "historical_closure"
MAX_HISTORICAL_SOURCE = 200


def require_historical_registrar(actor: Actor) -> None:
    if actor.role != HISTORICAL_ROLE:
        raise Forbidden(
            "登记系统启用前已销账的历史点位须由区级管理员办理"
            f"（当前身份：{codes.label(ROLE_LABELS, actor.role)}）",
            "role",
        )


def clean_historical(source: object, closed_on: object, today: date) -> tuple[str, date | None]:
    """The source (历史来源: where the closure is recorded) and date of a historical closure."""
    if source is None or (isinstance(source, str) and not source.strip()):
        raise ValidationError(
            "历史销账点位须填写历史来源（销账记录所在的文件、台账或文号）", "historical_source"
        )
    if not isinstance(source, str):
        raise ValidationError("历史来源必须是文字", "historical_source")
    source = source.strip()
    if len(source) > MAX_HISTORICAL_SOURCE:
        raise ValidationError(
            f"历史来源过长（最多 {MAX_HISTORICAL_SOURCE} 个字）", "historical_source"
        )
    day = parse_date(closed_on, "historical_closed_on")
    if day is not None and day > today:
        raise ValidationError(
            f"销账日期 {day} 晚于今天：历史销账须已经发生", "historical_closed_on"
        )
    return source, day


def create_historical_closure(session: Session, raw: dict[str, Any], actor: Actor) -> Site:
    """A site closed before the system existed: registered, then marked closed with its
    source. It is listed apart and does not count as 销账 with evidence until the office
    accepts a before/after photo pair for it (workflow.accept_historical_closure)."""
    require_historical_registrar(actor)
    raw = dict(raw)
    source, closed_on = clean_historical(
        raw.pop("historical_source", None), raw.pop("historical_closed_on", None), clock.today()
    )
    status = raw.pop("status", None)
    if status not in (None, "", "closed", codes.STATUSES["closed"]):
        raise ValidationError("历史点位只能以「已销账」登记", "status")
    site = create_site(session, raw, actor)
    site.status = "closed"
    site.status_since = clock.now()
    site.historical_source = source
    site.historical_closed_on = closed_on
    site.version += 1
    record_event(
        session,
        site,
        actor,
        HISTORICAL_ACTION,
        {
            "status": ("registered", "closed"),
            "historical_source": (None, source),
            "historical_closed_on": (None, closed_on),
        },
        f"历史销账（系统启用前）：{source}",
    )
    session.flush()
    return site


def historical_closures(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The historical closures the actor may see, apart from the workflow's: pending ones
    (not yet counted as 销账 with evidence) first."""
    rows = session.execute(
        select(
            Site.id,
            Site.code,
            Street.code,
            Street.name,
            Site.address,
            Site.disposition,
            Site.area_m2,
            Site.historical_source,
            Site.historical_closed_on,
            Site.historical_accepted_at,
            Site.historical_accepted_by,
        )
        .join(Street, Street.id == Site.street_id)
        .where(Site.historical_source.is_not(None), Site.deleted_at.is_(None), *site_scope(actor))
        .order_by(Site.historical_accepted_at.is_not(None), Street.code, Site.code)
    ).all()
    return [
        {
            "id": r[0],
            "code": r[1],
            "street_code": r[2],
            "street_name": r[3],
            "address": r[4],
            "disposition": r[5],
            "area_m2": _jsonable(r[6]),
            "historical_source": r[7],
            "historical_closed_on": _jsonable(r[8]),
            "accepted": r[9] is not None,
            "accepted_at": _jsonable(r[9]),
            "accepted_by": r[10],
            "counts_as_closed": r[9] is not None,
        }
        for r in rows
    ]
