"""应拆尽拆 (the plan, 五): a site flagged 中央第二次环保督查 is demolished. A street that needs
to change such a site to 规范治理, or to clear the flag, asks; the district office approves
(the change is made) or refuses, with a reason. Every request stays in the site's history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.extensions.models import CentralInspectionRequest
from gis_app.features.extensions.schemas import clean_text, parse_decision
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import (
    require_district,
    require_street_actor,
    site_scope,
    street_code_of,
)
from gis_app.features.ledger.service import get_site, record_event
from gis_app.features.streets.models import Street

CHANGES = codes.CENTRAL_CHANGES
STATUSES = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}


def parse_change(value: Any) -> str:
    if value not in CHANGES:
        allowed = "、".join(f"{k}（{v}）" for k, v in CHANGES.items())
        raise ValidationError(f"变更内容 change 无效：{value!r}（可选：{allowed}）", "change")
    return value


def request_change(
    session: Session, site_id: int, actor: Actor, change: Any, reason: Any
) -> CentralInspectionRequest:
    """The site's street asks to change a flagged site (to 规范治理, or unflagged)."""
    change = parse_change(change)
    why = clean_text(reason, "reason", "申请理由", True)
    site = get_site(session, site_id, for_update=True, actor=actor)
    require_street_actor(
        actor, street_code_of(session, site), "应拆尽拆变更申请", district_allowed=False
    )
    if not site.flag_central_inspection:
        raise Conflict(f"点位 {site.code} 不是中央第二次环保督查点位，无须申请", "change")
    if change == "rectify" and site.disposition != "demolish":
        raise Conflict(f"点位 {site.code} 的治理方式已是「规范治理」", "change")
    if site.status == "closed":
        raise Conflict(f"点位 {site.code} 已销账，不能再申请变更", "status")
    if pending_for(session, site.id) is not None:
        raise Conflict("该点位已有一份待审批的应拆尽拆变更申请", "site_id")
    request = CentralInspectionRequest(
        district_code=site.district_code,
        site_id=site.id,
        change=change,
        reason=why,
        status="pending",
        requested_by=actor.name,
        requested_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError as exc:
        raise Conflict("该点位已有一份待审批的应拆尽拆变更申请", "site_id") from exc
    record_event(
        session,
        site,
        actor,
        "central_request",
        {"central_request": (None, {"id": request.id, "change": change})},
        why,
    )
    session.flush()
    return request


def pending_for(session: Session, site_id: int) -> CentralInspectionRequest | None:
    return session.scalar(
        select(CentralInspectionRequest).where(
            CentralInspectionRequest.site_id == site_id,
            CentralInspectionRequest.status == "pending",
        )
    )


def decide(
    session: Session, request_id: int, actor: Actor, decision: Any, comment: Any
) -> CentralInspectionRequest:
    """The office approves (the change is made) or refuses; a reason either way."""
    decision = parse_decision(decision)
    note = clean_text(comment, "comment", "审批意见（理由）", True)
    require_district(actor, "审批应拆尽拆变更申请")
    request = None
    if 0 < request_id < 2**63:
        request = session.scalar(
            select(CentralInspectionRequest)
            .where(CentralInspectionRequest.id == request_id)
            .with_for_update()
        )
    if request is None:
        raise NotFound(f"没有编号为 {request_id} 的应拆尽拆变更申请", "id")
    if request.status != "pending":
        raise Conflict(
            f"该申请已于 {clock.fmt_local(request.decided_at)} "
            f"{STATUSES[request.status]}（{request.decided_by}）",
            "id",
        )
    site = get_site(session, request.site_id, for_update=True, actor=actor)
    request.decided_by = actor.name
    request.decided_at = clock.now()
    request.decision_comment = note
    changes: dict[str, tuple[Any, Any]] = {
        "central_request": (None, {"id": request.id, "status": "rejected"})
    }
    if decision == "approve":
        request.status = "approved"
        changes["central_request"] = (None, {"id": request.id, "status": "approved"})
        if request.change == "rectify":
            changes["disposition"] = (site.disposition, "rectify")
            site.disposition = "rectify"
        else:
            changes["flag_central_inspection"] = (True, False)
            site.flag_central_inspection = False
        site.version += 1
        site.updated_by = actor.name
        site.updated_at = request.decided_at
    else:
        request.status = "rejected"
    record_event(session, site, actor, f"central_{request.status}", changes, note)
    session.flush()
    return request


def request_dict(req: CentralInspectionRequest) -> dict[str, Any]:
    return {
        "id": req.id,
        "site_id": req.site_id,
        "change": req.change,
        "change_label": CHANGES[req.change],
        "status": req.status,
        "status_label": STATUSES[req.status],
        "reason": req.reason,
        "requested_by": req.requested_by,
        "requested_at": req.requested_at.isoformat(),
        "decided_by": req.decided_by,
        "decided_at": req.decided_at.isoformat() if req.decided_at else None,
        "decision_comment": req.decision_comment,
    }


def list_requests(session: Session, actor: Actor, status: str | None) -> list[dict[str, Any]]:
    """The office's queue (a street sees its own), newest first."""
    if status and status not in STATUSES:
        raise ValidationError(f"申请状态无效：{status!r}", "status")
    query = (
        select(CentralInspectionRequest, Site.code, Street.code, Street.name)
        .join(Site, Site.id == CentralInspectionRequest.site_id)
        .join(Street, Street.id == Site.street_id)
        .where(Site.deleted_at.is_(None), *site_scope(actor))
    )
    if status:
        query = query.where(CentralInspectionRequest.status == status)
    rows = session.execute(
        query.order_by(
            CentralInspectionRequest.requested_at.desc(), CentralInspectionRequest.id.desc()
        )
    ).all()
    return [
        {**request_dict(r), "site_code": code, "street_code": s_code, "street": s_name}
        for r, code, s_code, s_name in rows
    ]
