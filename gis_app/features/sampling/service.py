"""Spot-check batches in the database: draw, audit, assign inspectors, record results.

Each user action is one transaction (these functions flush; the request or the command
commits it). Drawing and assigning are for
the district office (Actor.is_district); an inspector sees and records the results of the
sampled sites assigned to the pool entry linked to his or her login (`inspectors.user_id`
is the Actor's `user_id`); the open-data roles read the published summary. Every query keeps
to what the actor may see (`sample_scope`); PostgreSQL's row-level security holds the same
rules (migration 0009_feature_security).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy
from sqlalchemy import ColumnElement, and_, false, func, insert, select, text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.core.fieldtime import parse_recorded_at
from gis_app.features.accounts.models import User
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import OPEN_DATA_ROLES
from gis_app.features.ledger.service import record_event
from gis_app.features.photos import service as photos
from gis_app.features.photos.models import Photo
from gis_app.features.sampling import design
from gis_app.features.sampling.allocation import ALLOCATIONS, check_allocation
from gis_app.features.sampling.assignment import Candidate, assign
from gis_app.features.sampling.balance import balance
from gis_app.features.sampling.estimate import (
    Estimate,
    Tally,
    estimate_stratified,
    estimate_stratum,
)
from gis_app.features.sampling.frame import FrameRows, FrameSpec, frame_rows
from gis_app.features.sampling.models import Inspector, SampleBatch, SampleFrameUnit, SampleSite
from gis_app.features.sampling.projection import DEFAULT_CRS, to_metric
from gis_app.features.sampling.report import batch_report_xlsx
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import streets_feature_collection
from gis_app.features.workflow import service as workflow

RESULTS = {"pass": "合格", "fail": "不合格"}
_RESULT_ALIASES = {"合格": "pass", "通过": "pass", "不合格": "fail", "不通过": "fail"}
_NOT_YOURS = "只有区级用户或分配到该点位的执法人员可以录入核查结果"
MAX_NOTES = 2000
MAX_CAP = 1000
MAX_TITLE = 200
ALGORITHM_VERSION = 1


def require_district(actor: Actor) -> None:
    if not actor.is_district:
        raise Forbidden("只有区级用户（区领导小组办公室）可以进行此操作", "role")


def my_pool_ids(actor: Actor) -> Any:
    """The pool entries linked to the actor's login (a subquery)."""
    return select(Inspector.id).where(
        Inspector.user_id == actor.user_id if actor.user_id is not None else false()
    )


def sample_scope(actor: Actor | None) -> list[ColumnElement[bool]]:
    """Conditions on SampleSite keeping a query to what `actor` may see: everything for the
    district, a command (None) and the published summary's readers; an inspector's own
    assignments; nothing for anyone else."""
    if actor is None or actor.is_district or actor.role in OPEN_DATA_ROLES:
        return []
    if actor.role == "inspector":
        return [SampleSite.inspector_id.in_(my_pool_ids(actor))]
    return [false()]


def frame_digest(
    site_ids: list[int],
    strata: list[str],
    lon: list[float],
    lat: list[float],
    x: list[float],
    y: list[float],
) -> str:
    """SHA-256 over the frame as drawn: each unit's site, street and coordinates, in order."""
    h = hashlib.sha256()
    for row in zip(site_ids, strata, lon, lat, x, y, strict=True):
        h.update(("|".join(repr(v) for v in row) + "\n").encode())
    return h.hexdigest()


def _new_seed() -> int:
    return secrets.randbelow(design.MAX_SEED + 1)


def check_title(value: object) -> str:
    """A batch's name as given (any value read as text), at most MAX_TITLE characters."""
    title = str(value or "").strip()
    if len(title) > MAX_TITLE:
        raise ValidationError(f"批次名称过长（最多 {MAX_TITLE} 个字）", "title")
    return title


@dataclass(frozen=True)
class DrawRequest:
    """How to draw, as given (checked by `create_batch`): the size (GB/T 2828.1 level, a
    fixed number or a percentage), the method, the allocation over the streets, the seed
    (None: a new one) and the batch's name."""

    size_mode: str = "gbt2828"
    size_value: object = None
    level: object = None
    method: object = None
    allocation: object = None
    seed: object = None
    title: str = ""


@dataclass(frozen=True)
class _Drawn:
    """A draw before it is stored: the frame and its projected coordinates (metres), the
    size, the method asked for and the one used, the sample and its balance against simple
    random samples."""

    frame: FrameRows
    x: list[float]
    y: list[float]
    size: design.SizeChoice
    requested_method: str
    method: str
    allocation: str
    seed: int
    result: design.DrawResult
    balance: design.BalanceReport


def create_batch(
    session: Session,
    spec: FrameSpec,
    request: DrawRequest,
    actor: Actor,
    district_code: str,
    crs: str = DEFAULT_CRS,
) -> SampleBatch:
    """Draw a sample from the frame and store it with everything needed to draw it again."""
    require_district(actor)
    method = design.check_method(request.method)
    allocation = check_allocation(request.allocation)
    seed = design.given_seed(request.seed)
    if seed is None:
        seed = _new_seed()
    title = check_title(request.title)
    frame = frame_rows(session, spec, district_code, actor)
    drawn = _draw(frame, request, method, allocation, seed, crs)
    batch = _batch_row(drawn, spec, title, crs, actor, district_code)
    session.add(batch)
    session.flush()
    _insert_frame(session, batch, frame, drawn.x, drawn.y)
    _insert_sample(session, batch, drawn)
    session.flush()
    return batch


def _draw(
    frame: FrameRows, request: DrawRequest, method: str, allocation: str, seed: int, crs: str
) -> _Drawn:
    """The sample of the requested size from the frame, and its balance."""
    size = design.resolve_size(
        len(frame), len(set(frame.strata)), request.size_mode, request.size_value, request.level
    )
    xy = to_metric(np.array(frame.lon), np.array(frame.lat), crs)
    used = design.resolve_method(method, len(frame))
    result = design.draw(xy, frame.strata, size.n, used, seed, allocation)
    report = design.balance_against_srs(xy, frame.strata, result, seed)
    x, y = xy[:, 0].tolist(), xy[:, 1].tolist()
    return _Drawn(frame, x, y, size, method, used, allocation, seed, result, report)


def _batch_row(
    drawn: _Drawn, spec: FrameSpec, title: str, crs: str, actor: Actor, district_code: str
) -> SampleBatch:
    """The batch as stored: design, seed, frame fingerprint, balance, and the parameters and
    software versions the audit needs to draw it again."""
    frame, report = drawn.frame, drawn.balance
    return SampleBatch(
        district_code=district_code,
        title=title or f"{clock.local_now():%Y-%m-%d} 抽查",
        method=drawn.method,
        allocation=drawn.allocation,
        seed=drawn.seed,
        params={
            "frame": spec.to_params(),
            "requested_method": drawn.requested_method,
            "size": drawn.size.to_dict(),
            "crs": crs,
            "strata_sizes": design.stratum_sizes(frame.strata),
            "allocation_by_street": drawn.result.allocation,
            "algorithm_version": ALGORITHM_VERSION,
            "software": {"numpy": np.__version__, "scipy": scipy.__version__},
            "balance": {"srs_within_streets": report.srs_within_strata.to_dict()},
        },
        frame_size=len(frame),
        sample_size=len(drawn.result.positions),
        frame_sha256=frame_digest(
            frame.site_ids, frame.strata, frame.lon, frame.lat, drawn.x, drawn.y
        ),
        balance=report.sample.variance,
        balance_pielou=report.sample.pielou,
        srs_balance_mean=report.srs.variance,
        srs_pielou_mean=report.srs.pielou,
        srs_draws=report.draws,
        created_by=actor.name,
        created_at=clock.now(),
    )


def _insert_sample(session: Session, batch: SampleBatch, drawn: _Drawn) -> None:
    result = drawn.result
    session.execute(
        insert(SampleSite),
        [
            {
                "batch_id": batch.id,
                "district_code": batch.district_code,
                "site_id": drawn.frame.site_ids[pos],
                "stratum": stratum,
                "ord": k + 1,
                "frame_ord": int(pos) + 1,
                "notes": "",
                "photo_ids": [],
                "reopened": False,
            }
            for k, (pos, stratum) in enumerate(zip(result.positions, result.strata, strict=True))
        ],
    )


def _insert_frame(
    session: Session, batch: SampleBatch, frame: FrameRows, x: list[float], y: list[float]
) -> None:
    chunk = 5000
    for start in range(0, len(frame), chunk):
        session.execute(
            insert(SampleFrameUnit),
            [
                {
                    "batch_id": batch.id,
                    "ord": i + 1,
                    "district_code": batch.district_code,
                    "site_id": frame.site_ids[i],
                    "stratum": frame.strata[i],
                    "lon": frame.lon[i],
                    "lat": frame.lat[i],
                    "x": x[i],
                    "y": y[i],
                }
                for i in range(start, min(start + chunk, len(frame)))
            ],
        )


def get_batch(
    session: Session, batch_id: int, for_update: bool = False, actor: Actor | None = None
) -> SampleBatch:
    """A batch; with `actor`, only one the actor may see (an inspector: one with his or her
    assignments), else the same 404 as for a batch that does not exist."""
    if not 0 < batch_id < 2**63:
        raise NotFound(f"没有编号为 {batch_id} 的抽查批次", "batch_id")
    query = select(SampleBatch).where(SampleBatch.id == batch_id)
    scope = sample_scope(actor)
    if scope:
        mine = select(SampleSite.id).where(SampleSite.batch_id == SampleBatch.id, *scope)
        query = query.where(mine.exists())
    if for_update:
        query = query.with_for_update()
    batch = session.scalar(query)
    if batch is None:
        raise NotFound(f"没有编号为 {batch_id} 的抽查批次", "batch_id")
    return batch


def list_batches(
    session: Session, district_code: str, actor: Actor | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The batches, newest first, with their counts; an inspector's: those with his or her
    assignments, counting those only."""
    scope = sample_scope(actor)
    query = (
        select(
            SampleBatch,
            func.count(SampleSite.id),
            func.count(SampleSite.result),
            func.count(SampleSite.result).filter(SampleSite.result == "pass"),
        )
        .join(SampleSite, and_(SampleSite.batch_id == SampleBatch.id, *scope), isouter=True)
        .where(SampleBatch.district_code == district_code)
        .group_by(SampleBatch.id)
        .order_by(SampleBatch.created_at.desc(), SampleBatch.id.desc())
        .limit(limit)
    )
    if scope:
        query = query.having(func.count(SampleSite.id) > 0)
    rows = session.execute(query).all()
    return [
        {**batch_summary(b), "inspected": inspected, "passed": passed, "sampled": sampled}
        for b, sampled, inspected, passed in rows
    ]


def batch_summary(batch: SampleBatch) -> dict[str, Any]:
    """The batch's design, seed, frame fingerprint and balance (no sites)."""
    ratio = (
        batch.balance / batch.srs_balance_mean
        if batch.balance is not None and batch.srs_balance_mean
        else None
    )
    return {
        "id": batch.id,
        "title": batch.title,
        "created_at": batch.created_at.isoformat(),
        "created_by": batch.created_by,
        "method": batch.method,
        "method_label": design.METHODS[batch.method],
        "allocation": batch.allocation,
        "allocation_label": ALLOCATIONS[batch.allocation],
        "seed": str(batch.seed),
        "frame_size": batch.frame_size,
        "sample_size": batch.sample_size,
        "frame_sha256": batch.frame_sha256,
        "params": batch.params,
        "balance": {
            "voronoi_variance": batch.balance,
            "pielou": batch.balance_pielou,
            "srs_voronoi_variance_mean": batch.srs_balance_mean,
            "srs_pielou_mean": batch.srs_pielou_mean,
            "srs_draws": batch.srs_draws,
            "ratio_to_srs": ratio,
            "srs_within_streets": batch.params.get("balance", {}).get("srs_within_streets"),
        },
        "assignment": batch.assignment,
    }


def batch_sites(
    session: Session, batch_id: int, actor: Actor | None = None
) -> list[dict[str, Any]]:
    """The sampled sites in sample order with their current state and result (an inspector's
    own assignments only; a site he or she no longer sees, once its result is in, keeps its
    result, street and place but not its current code, address and status)."""
    rows = session.execute(
        select(
            SampleSite,
            Site.code,
            Site.address,
            Site.community,
            Site.status,
            Site.disposition,
            Street.name,
            Inspector.name,
            SampleFrameUnit.lon,
            SampleFrameUnit.lat,
        )
        .join(Site, Site.id == SampleSite.site_id, isouter=True)
        .join(Street, Street.code == SampleSite.stratum, isouter=True)
        .join(
            SampleFrameUnit,
            (SampleFrameUnit.batch_id == SampleSite.batch_id)
            & (SampleFrameUnit.ord == SampleSite.frame_ord),
        )
        .join(Inspector, Inspector.id == SampleSite.inspector_id, isouter=True)
        .where(SampleSite.batch_id == batch_id, *sample_scope(actor))
        .order_by(SampleSite.ord)
    ).all()
    return [
        {
            "ord": s.ord,
            "site_id": s.site_id,
            "code": code,
            "address": address,
            "community": community,
            "street_code": s.stratum,
            "street_name": street_name,
            "status": status,
            "disposition": disposition,
            "lon": lon,
            "lat": lat,
            "inspector_id": s.inspector_id,
            "inspector": inspector,
            "result": s.result,
            "notes": s.notes,
            "photo_ids": s.photo_ids,
            "reopened": s.reopened,
            "inspected_at": s.inspected_at.isoformat() if s.inspected_at else None,
            "inspected_by": s.inspected_by,
        }
        for s, code, address, community, status, disposition, street_name, inspector, lon, lat in (
            rows
        )
    ]


def batch_document(session: Session, batch_id: int, actor: Actor) -> dict[str, Any]:
    """The batch for the office (design, balance, estimates, every site; its report archived
    once complete); for an inspector the batch's name and the sites assigned to him or her."""
    if not actor.is_district:
        batch = get_batch(session, batch_id, actor=actor)
        return {
            "id": batch.id,
            "title": batch.title,
            "created_at": batch.created_at.isoformat(),
            "sites": batch_sites(session, batch_id, actor),
        }
    batch = archive_report(session, batch_id, actor)
    return {
        **batch_summary(batch),
        "estimates": batch_estimates(session, batch),
        "sites": batch_sites(session, batch_id, actor),
        "report_archived_at": batch.reported_at.isoformat() if batch.reported_at else None,
    }


# ---------------------------------------------------------------- audit


def audit_batch(session: Session, batch_id: int) -> dict[str, Any]:
    """Draw the batch again from its stored frame, method and seed, and compare."""
    batch = get_batch(session, batch_id)
    units = session.scalars(
        select(SampleFrameUnit)
        .where(SampleFrameUnit.batch_id == batch_id)
        .order_by(SampleFrameUnit.ord)
    ).all()
    site_ids = [u.site_id for u in units]
    strata = [u.stratum for u in units]
    x, y = [u.x for u in units], [u.y for u in units]
    digest = frame_digest(site_ids, strata, [u.lon for u in units], [u.lat for u in units], x, y)
    xy = np.column_stack([x, y]) if units else np.empty((0, 2))
    result = design.draw(xy, strata, batch.sample_size, batch.method, batch.seed, batch.allocation)
    expected = [(site_ids[p], strata[p]) for p in result.positions.tolist()]
    stored_rows = session.execute(
        select(SampleSite.site_id, SampleSite.stratum, SampleSite.inspector_id)
        .where(SampleSite.batch_id == batch_id)
        .order_by(SampleSite.ord)
    ).all()
    stored = [(r[0], r[1]) for r in stored_rows]
    differences = [
        {"ord": k + 1, "expected": e[0] if e else None, "stored": s[0] if s else None}
        for k, (e, s) in enumerate(_zip_longest(expected, stored))
        if e != s
    ]
    redrawn_balance = balance(xy, result.prob, result.positions).variance if units else None
    assignment_ok: bool | None = None
    if batch.assignment:
        again = _assignment(stored, batch.assignment)
        assignment_ok = again == {r[0]: r[2] for r in stored_rows}
    frame_ok = digest == batch.frame_sha256
    sample_ok = not differences
    return {
        "batch_id": batch.id,
        "match": frame_ok and sample_ok and assignment_ok is not False,
        "frame_ok": frame_ok,
        "sample_ok": sample_ok,
        "assignment_ok": assignment_ok,
        "frame_size": len(units),
        "sample_size": len(expected),
        "seed": str(batch.seed),
        "method": batch.method,
        "balance_stored": batch.balance,
        "balance_redrawn": redrawn_balance,
        "differences": differences[:50],
    }


def _zip_longest(a: list[Any], b: list[Any]) -> list[tuple[Any, Any]]:
    size = max(len(a), len(b))
    return [(a[i] if i < len(a) else None, b[i] if i < len(b) else None) for i in range(size)]


# ---------------------------------------------------------------- double random


def _assignment(sites: list[tuple[int, str]], stored: dict[str, Any]) -> dict[int, int]:
    pool = [Candidate(int(i), s) for i, s in stored["pool"]]
    return assign(sites, pool, int(stored["cap"]), np.random.default_rng(int(stored["seed"])))


def check_cap(cap: object) -> int:
    """The most sites one inspector gets: an integer from 1 to MAX_CAP (or its text)."""
    if isinstance(cap, bool):
        raise ValidationError("每人上限 cap 必须是整数", "cap")
    try:
        value = int(str(cap).strip())
    except ValueError:
        raise ValidationError(f"每人上限 cap 必须是整数：{cap!r}", "cap") from None
    if not 1 <= value <= MAX_CAP:
        raise ValidationError(f"每人上限 cap 须在 1 到 {MAX_CAP} 之间", "cap")
    return value


def assign_inspectors(
    session: Session, batch_id: int, actor: Actor, cap: object = 20, seed: object = None
) -> SampleBatch:
    """Draw an inspector for every sampled site (never of its own street; at most cap each)."""
    require_district(actor)
    cap_value = check_cap(cap)
    seed_value = design.given_seed(seed)
    if seed_value is None:
        seed_value = _new_seed()
    batch = get_batch(session, batch_id, for_update=True)
    sites = session.scalars(
        select(SampleSite).where(SampleSite.batch_id == batch_id).order_by(SampleSite.ord)
    ).all()
    if any(s.result is not None for s in sites):
        raise Conflict("本批次已有核查结果，不能重新分配执法人员", "batch_id")
    pool = drawable_pool(session, batch.district_code)
    stored = {"seed": str(seed_value), "cap": cap_value, "pool": [[i, s] for i, s in pool]}
    mapping = _assignment([(s.site_id, s.stratum) for s in sites], stored)
    for s in sites:
        s.inspector_id = mapping[s.site_id]
    batch.assignment = stored
    batch.assigned_at = clock.now()
    batch.assigned_by = actor.name
    session.flush()
    return batch


def drawable_pool(session: Session, district_code: str) -> list[tuple[int, str | None]]:
    """(id, street) of the active pool entries that may be drawn: an entry linked to a login
    only while that login is an active inspector, and with that login's street (the street
    an account belongs to may change; the double-random rule follows the account)."""
    return [
        (int(i), s)
        for i, s in session.execute(
            select(Inspector.id, func.coalesce(User.street_code, Inspector.street_code))
            .join(User, User.id == Inspector.user_id, isouter=True)
            .where(
                Inspector.district_code == district_code,
                Inspector.active.is_(True),
                Inspector.user_id.is_(None) | (User.active.is_(True) & (User.role == "inspector")),
            )
            .order_by(Inspector.id)
        ).all()
    ]


# ---------------------------------------------------------------- results


def _parse_result(value: object) -> str:
    """pass or fail (合格 / 不合格 and their synonyms read too)."""
    raw = str(value or "").strip()
    result = _RESULT_ALIASES.get(raw, raw.lower())
    if result not in RESULTS:
        raise ValidationError("核查结果必须是 pass（合格）或 fail（不合格）", "result")
    return result


def parse_outcome(result: object, notes: object) -> tuple[str, str]:
    """A result and its notes, checked: a fail needs notes (what was found)."""
    outcome = _parse_result(result)
    if notes is not None and not isinstance(notes, str):
        raise ValidationError("说明 notes 必须是文字", "notes")
    text_notes = (notes or "").strip()
    if len(text_notes) > MAX_NOTES:
        raise ValidationError(f"说明过长（最多 {MAX_NOTES} 个字）", "notes")
    if outcome == "fail" and not text_notes:
        raise ValidationError("不合格时必须填写说明（发现的问题）", "notes")
    return outcome, text_notes


def _photos_available(session: Session) -> bool:
    return bool(session.execute(text("SELECT to_regclass('photos') IS NOT NULL")).scalar_one())


def _check_photo_ids(session: Session, photo_ids: object) -> list[int]:
    if photo_ids in (None, "", []):
        return []
    if not isinstance(photo_ids, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in photo_ids
    ):
        raise ValidationError("photo_ids 必须是照片编号（正整数）的列表", "photo_ids")
    if not _photos_available(session):
        raise ValidationError("照片功能尚未启用：请先只录入文字说明", "photo_ids")
    found = set(
        session.execute(
            text("SELECT id FROM photos WHERE id = ANY(:ids)"), {"ids": list(photo_ids)}
        ).scalars()
    )
    missing = [p for p in photo_ids if p not in found]
    if missing:
        raise ValidationError(f"照片不存在：{missing}", "photo_ids")
    return list(photo_ids)


def record_result(
    session: Session,
    batch_id: int,
    site_id: int,
    actor: Actor,
    result: object,
    notes: object = "",
    photo_ids: object = None,
    recorded_at: object = None,
) -> SampleSite:
    """Pass or fail for one sampled site; a fail reopens the site. One transaction.

    The district office records any result; an inspector those of the sites assigned to the
    pool entry linked to his or her login. The site's events come first, while the result is
    still open: that is what lets an inspector see and reopen a site of another street (the
    database's rule `sites_spot_check`), and nothing after it.
    """
    outcome, text_notes = parse_outcome(result, notes)
    field_time = parse_recorded_at(recorded_at)
    if not actor.is_district and actor.role != "inspector":
        raise Forbidden(_NOT_YOURS, "role")
    batch = get_batch(session, batch_id, actor=actor)
    sample = _sample_to_record(session, batch_id, site_id, actor)
    photos = _check_photo_ids(session, photo_ids)
    if sample.result is not None:
        raise Conflict(
            f"该点位已于 {clock.fmt_local(sample.inspected_at)} 录入核查结果"
            f"（{RESULTS[sample.result]}）",
            "result",
        )
    now = clock.now()
    reopened = _record_on_site(session, batch, site_id, actor, outcome, text_notes)
    sample.result = outcome
    sample.notes = text_notes
    sample.photo_ids = photos
    sample.inspected_at = now
    sample.inspected_by = actor.name
    sample.recorded_at = field_time
    sample.reopened = reopened
    session.flush()
    if actor.is_district:
        _archive_if_complete(session, batch, now)
    session.flush()
    return sample


#: the site's events as the inspector reads them
EVENT_LABELS = {
    "create": "登记", "update": "修改", "transition": "状态变更", "reopen": "重新打开",
    "photo": "上传照片", "plan": "制定治理方案", "step_done": "完成步骤",
    "extension_request": "申请延期", "extension_approved": "批准延期",
    "extension_rejected": "驳回延期", "overdue": "逾期", "finding": "巡查发现",
    "spot_check": "抽查", "renovation_done": "旧楼区改造完工",
}  # fmt: skip


@dataclass
class CheckedSite:
    """A sampled site as its inspector sees it for the check (read-only)."""

    sample: SampleSite
    site: Site
    street_name: str
    before: Photo | None
    after: Photo | None
    history: list[dict[str, Any]]


def checked_site(session: Session, batch_id: int, site_id: int, actor: Actor) -> CheckedSite:
    """The sampled site for the inspector it is assigned to (or the office): its data, the
    newest before and after photos, its history. Another street's site is seen only while
    its result is open (the database's rule `sites_spot_check`)."""
    get_batch(session, batch_id, actor=actor)
    sample = _sample_to_record(session, batch_id, site_id, actor)
    site = session.get(Site, site_id)
    if site is None or site.deleted_at is not None:
        raise NotFound("结果已录入或点位已删除：该点位不再对您开放", "site_id")
    street = session.get(Street, site.street_id)
    events = session.scalars(
        select(SiteEvent)
        .where(SiteEvent.site_id == site_id)
        .order_by(SiteEvent.at.desc(), SiteEvent.id.desc())
        .limit(30)
    )
    history = [
        {
            "at": clock.fmt_local(e.at),
            "actor": e.actor,
            "label": EVENT_LABELS.get(e.action, "记录"),
            "reason": e.reason,
        }
        for e in events
    ]
    return CheckedSite(
        sample,
        site,
        street.name if street else "",
        photos.newest(session, site_id, "before"),
        photos.newest(session, site_id, "after"),
        history,
    )


def checked_photo(
    session: Session, batch_id: int, site_id: int, photo_id: int, actor: Actor
) -> Photo:
    """A photo of the sampled site, for its inspector (another street's photos included)."""
    _sample_to_record(session, batch_id, site_id, actor)
    photo = session.get(Photo, photo_id) if 0 < photo_id < 2**63 else None
    if photo is None or photo.site_id != site_id:
        raise NotFound(f"该点位没有编号为 {photo_id} 的照片", "photo_id")
    return photo


def record_result_with_photos(
    session: Session,
    store: photos.PhotoStore,
    limits: photos.PhotoLimits,
    batch_id: int,
    site_id: int,
    actor: Actor,
    fields: dict[str, Any],
    uploads: list[tuple[bytes, str | None]],
) -> SampleSite:
    """A result with the photos taken at the check: the photos become inspection photos of
    the site (in its history), their ids the result's. Who may record is checked first."""
    parse_outcome(fields.get("result"), fields.get("notes", ""))
    get_batch(session, batch_id, actor=actor)
    _sample_to_record(session, batch_id, site_id, actor)
    if len(uploads) > MAX_CHECK_PHOTOS:
        raise ValidationError(f"照片过多（最多 {MAX_CHECK_PHOTOS} 张）", "photos")
    site = session.get(Site, site_id)
    photo_ids: list[int] = []
    if uploads and site is not None:
        photo_ids = [
            photos.add_evidence_photo(
                session, store, limits, site, actor, data, name, f"抽查批次 {batch_id} 现场照片"
            ).id
            for data, name in uploads
        ]
    return record_result(
        session,
        batch_id,
        site_id,
        actor,
        fields.get("result"),
        fields.get("notes", ""),
        photo_ids or None,
        fields.get("recorded_at"),
    )


MAX_CHECK_PHOTOS = 9


def add_check_photo(
    session: Session,
    store: photos.PhotoStore,
    limits: photos.PhotoLimits,
    batch_id: int,
    site_id: int,
    actor: Actor,
    upload: tuple[bytes, str | None],
) -> Photo:
    """One photo of a sampled site's check, before its result (sent ahead of the result by
    a phone's offline queue): the site's inspection photo."""
    get_batch(session, batch_id, actor=actor)
    sample = _sample_to_record(session, batch_id, site_id, actor)
    if sample.result is not None:
        raise Conflict("该点位的核查结果已录入，不能再补充照片", "result")
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"没有编号为 {site_id} 的点位", "site_id")
    data, name = upload
    return photos.add_evidence_photo(
        session, store, limits, site, actor, data, name, f"抽查批次 {batch_id} 现场照片"
    )


def _sample_to_record(session: Session, batch_id: int, site_id: int, actor: Actor) -> SampleSite:
    """The sampled site, locked, if the actor may record its result: the office any, an
    inspector one assigned to him or her (and is not told whether another's is sampled)."""
    sample = session.scalar(
        select(SampleSite)
        .where(SampleSite.batch_id == batch_id, SampleSite.site_id == site_id)
        .with_for_update()
    )
    if sample is None:
        if actor.is_district:
            raise NotFound(f"点位 {site_id} 不在抽查批次 {batch_id} 的样本中", "site_id")
        raise Forbidden(_NOT_YOURS, "role")
    if not actor.is_district:
        mine = sample.inspector_id is not None and session.scalar(
            select(func.count())
            .select_from(Inspector)
            .where(Inspector.id == sample.inspector_id, Inspector.id.in_(my_pool_ids(actor)))
        )
        if not mine:
            raise Forbidden(_NOT_YOURS, "role")
    return sample


def _record_on_site(
    session: Session, batch: SampleBatch, site_id: int, actor: Actor, outcome: str, notes: str
) -> bool:
    """The check in the site's history; a fail reopens the site (True if it did)."""
    site = session.get(Site, site_id)
    if site is None:
        return False
    record_event(
        session,
        site,
        actor,
        "spot_check",
        {"spot_check": (None, outcome), "batch": (None, batch.id)},
        notes,
    )
    reopened = False
    if outcome == "fail":
        reason = f"抽查批次 {batch.id} 现场核查不合格：{notes}"
        reopened = workflow.reopen_after_failed_spot_check(session, site_id, actor, reason)
    session.flush()
    return reopened


def _archive_if_complete(session: Session, batch: SampleBatch, now: Any) -> bool:
    """Keep the .xlsx report with the batch once every sampled site has a result. Only a
    district session sees the whole batch, so only the office archives it: when it records
    the last result, or else when it next opens the batch or its report."""
    if batch.report_xlsx is not None or not _all_inspected(session, batch.id):
        return False
    batch.report_xlsx = _report(session, batch)
    batch.reported_at = now
    return True


def archive_report(session: Session, batch_id: int, actor: Actor) -> SampleBatch:
    """The office's look at a batch: archive its report if it is complete and not yet kept
    (its last result came from an inspector). One transaction."""
    require_district(actor)
    batch = get_batch(session, batch_id, for_update=True, actor=actor)
    _archive_if_complete(session, batch, clock.now())
    session.flush()
    return batch


def report_xlsx(session: Session, batch_id: int, actor: Actor) -> tuple[SampleBatch, bytes]:
    """The batch's report: the archived one, else (results still open) as it stands now."""
    batch = archive_report(session, batch_id, actor)
    if batch.report_xlsx is not None:
        return batch, batch.report_xlsx
    return batch, _report(session, batch)


def _report(session: Session, batch: SampleBatch) -> bytes:
    """The .xlsx report of the batch as it stands (every site, whoever asks)."""
    return batch_report_xlsx(
        batch,
        summary=batch_summary(batch),
        estimates=batch_estimates(session, batch),
        sites=batch_sites(session, batch.id),
        streets=streets_feature_collection(session, clock.today().isoformat()),
    )


def _all_inspected(session: Session, batch_id: int) -> bool:
    left = session.scalar(
        select(func.count())
        .select_from(SampleSite)
        .where(SampleSite.batch_id == batch_id, SampleSite.result.is_(None))
    )
    return left == 0


# ---------------------------------------------------------------- estimates


def _street_names(session: Session, district_code: str) -> dict[str, str]:
    return dict(
        session.execute(
            select(Street.code, Street.name).where(Street.district_code == district_code)
        ).all()
    )


def batch_estimates(session: Session, batch: SampleBatch) -> dict[str, Any]:
    """Share truly rectified per street and for the district, with 95 % intervals."""
    rows = session.execute(
        select(
            SampleSite.stratum,
            func.count(),
            func.count(SampleSite.result),
            func.count(SampleSite.result).filter(SampleSite.result == "pass"),
        )
        .where(SampleSite.batch_id == batch.id)
        .group_by(SampleSite.stratum)
    ).all()
    counts = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    sizes: dict[str, int] = batch.params.get("strata_sizes", {})
    tallies = {
        code: Tally(size, *counts.get(code, (0, 0, 0))) for code, size in sorted(sizes.items())
    }
    names = _street_names(session, batch.district_code)
    streets = [
        {"code": code, "name": names.get(code, code), **estimate_stratum(t).to_dict()}
        for code, t in tallies.items()
    ]
    district: Estimate = estimate_stratified(tallies)
    return {"batch_id": batch.id, "streets": streets, "district": district.to_dict()}


def latest_batch_with_results(session: Session, district_code: str) -> SampleBatch | None:
    return session.scalar(
        select(SampleBatch)
        .where(
            SampleBatch.district_code == district_code,
            select(SampleSite.id)
            .where(SampleSite.batch_id == SampleBatch.id, SampleSite.result.is_not(None))
            .exists(),
        )
        .order_by(SampleBatch.created_at.desc(), SampleBatch.id.desc())
        .limit(1)
    )


def quality_by_street(
    session: Session, district_code: str, batch_id: int | None = None
) -> dict[str, Any]:
    """Estimates for ranking the streets: from the given batch, else the latest with results.

    Returns {"batch_id", "streets": {code: estimate dict}, "district": estimate dict};
    batch_id None and empty streets when no spot check has results yet.
    """
    batch = (
        get_batch(session, batch_id)
        if batch_id is not None
        else latest_batch_with_results(session, district_code)
    )
    if batch is None:
        return {"batch_id": None, "streets": {}, "district": None}
    est = batch_estimates(session, batch)
    return {
        "batch_id": batch.id,
        "streets": {s["code"]: s for s in est["streets"]},
        "district": est["district"],
    }


# ---------------------------------------------------------------- public summary


def _public_sites(session: Session, batch_id: int) -> list[dict[str, Any]]:
    """The sampled sites as published: code, street, community and result only."""
    rows = session.execute(
        select(SampleSite.ord, Site.code, Street.name, Site.community, SampleSite.result)
        .join(Site, Site.id == SampleSite.site_id, isouter=True)
        .join(Street, Street.code == SampleSite.stratum, isouter=True)
        .where(SampleSite.batch_id == batch_id)
        .order_by(SampleSite.ord)
    ).all()
    return [
        {
            "ord": ord_,
            "code": code,
            "street_name": street_name,
            "community": community,
            "result": result,
            "result_label": RESULTS.get(result or "", "待核查"),
        }
        for ord_, code, street_name, community, result in rows
    ]


def public_summary(session: Session, batch_id: int) -> dict[str, Any]:
    """双随机一公开: what was drawn, how, and the results; no personal data, no names, no
    notes (read by the district and the open-data roles)."""
    batch = get_batch(session, batch_id)
    est = batch_estimates(session, batch)
    pool = (batch.assignment or {}).get("pool", [])
    drawn = session.scalar(
        select(func.count(func.distinct(SampleSite.inspector_id))).where(
            SampleSite.batch_id == batch_id
        )
    )
    return {
        "batch": {
            "id": batch.id,
            "title": batch.title,
            "created_at": batch.created_at.isoformat(),
            "method": batch.method,
            "method_label": design.METHODS[batch.method],
            "allocation_label": ALLOCATIONS[batch.allocation],
            "seed": str(batch.seed),
            "frame_size": batch.frame_size,
            "sample_size": batch.sample_size,
            "frame_sha256": batch.frame_sha256,
            "size": batch.params.get("size"),
            "frame": batch.params.get("frame"),
        },
        "double_random": {
            "assigned": batch.assignment is not None,
            "assignment_seed": (batch.assignment or {}).get("seed"),
            "pool_size": len(pool),
            "inspectors_drawn": int(drawn or 0),
            "cap": (batch.assignment or {}).get("cap"),
            "rule": "执法人员从人员库中随机抽取，不检查本街道点位，每人抽查数量不超过上限",
        },
        "streets": [
            {
                k: s[k]
                for k in (
                    "code",
                    "name",
                    "population",
                    "sampled",
                    "inspected",
                    "passed",
                    "failed",
                    "share",
                    "ci_low",
                    "ci_high",
                )
            }
            for s in est["streets"]
        ],
        "district": est["district"],
        "sites": _public_sites(session, batch_id),
    }


def published_batches(session: Session, district_code: str) -> list[dict[str, Any]]:
    """The batches as the open-data roles list them: no names, seeds or frames (those are in
    each batch's public summary)."""
    rows = session.execute(
        select(SampleBatch.id, SampleBatch.title, SampleBatch.created_at, SampleBatch.sample_size)
        .where(SampleBatch.district_code == district_code)
        .order_by(SampleBatch.created_at.desc(), SampleBatch.id.desc())
    ).all()
    return [
        {"id": i, "title": t, "created_at": at.isoformat(), "sample_size": n}
        for i, t, at, n in rows
    ]
