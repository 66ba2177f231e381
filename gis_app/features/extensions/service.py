"""Extension requests (延期申请): a street asks, the district office approves or rejects.

Only an approval moves the site's current deadline (and puts the request's plan in place of
the steps not yet done); the committed deadline never moves; every request stays in history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.campaign.service import current_end
from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.extensions.schemas import (
    clean_text,
    parse_decision,
    parse_new_deadline,
    parse_status,
)
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import (
    require_district,
    require_street_actor,
    site_scope,
    street_code_of,
)
from gis_app.features.ledger.schemas import parse_date
from gis_app.features.ledger.service import get_site, record_event
from gis_app.features.plans.schemas import parse_plan
from gis_app.features.plans.service import replace_open_steps
from gis_app.features.streets.models import Street

REQUESTABLE = ("registered", "in_progress")


def request_extension(
    session: Session,
    site_id: int,
    actor: Actor,
    new_deadline: Any,
    reason: Any,
    plan: Any,
) -> ExtensionRequest:
    """The site's street asks for `new_deadline`, with a reason and the new step plan."""
    today = clock.today()
    wanted = parse_new_deadline(new_deadline)
    why = clean_text(reason, "reason", "延期理由", True)
    steps = parse_plan(plan, "plan", not_before=today)
    if steps[-1]["due_date"] != wanted:
        raise ValidationError(
            f"新方案最后一步的日期 {steps[-1]['due_date']} 须等于申请的新期限 {wanted}", "plan"
        )
    site = get_site(session, site_id, for_update=True, actor=actor)
    require_street_actor(actor, street_code_of(session, site), "延期申请", district_allowed=False)
    if site.status not in REQUESTABLE:
        raise Conflict(
            f"点位为「{codes.STATUSES[site.status]}」，不能申请延期"
            f"（仅限{'、'.join(codes.STATUSES[s] for s in REQUESTABLE)}）",
            "status",
        )
    if site.current_deadline is None:
        raise Conflict("该点位尚无期限：请先制定分步治理方案", "new_deadline")
    if wanted <= site.current_deadline:
        raise ValidationError(
            f"新期限 {wanted} 须晚于当前期限 {site.current_deadline}", "new_deadline"
        )
    if pending_for(session, site.id) is not None:
        raise Conflict("该点位已有一份待审批的延期申请", "site_id")
    request = ExtensionRequest(
        district_code=site.district_code,
        site_id=site.id,
        old_deadline=site.current_deadline,
        new_deadline=wanted,
        reason=why,
        plan=[{"title": s["title"], "due_date": s["due_date"].isoformat()} for s in steps],
        status="pending",
        requested_by=actor.name,
        requested_at=clock.now(),
    )
    try:
        with session.begin_nested():  # a savepoint: a refusal leaves the transaction usable
            session.add(request)
    except IntegrityError as exc:  # a second request at the same moment
        raise Conflict("该点位已有一份待审批的延期申请", "site_id") from exc
    record_event(
        session,
        site,
        actor,
        "extension_request",
        {"extension": (None, {"id": request.id, "new_deadline": wanted.isoformat()})},
        why,
    )
    session.flush()
    return request


def pending_for(session: Session, site_id: int) -> ExtensionRequest | None:
    return session.scalar(
        select(ExtensionRequest).where(
            ExtensionRequest.site_id == site_id, ExtensionRequest.status == "pending"
        )
    )


def decide(
    session: Session, request_id: int, actor: Actor, decision: Any, comment: Any = ""
) -> ExtensionRequest:
    """Approve (the deadline moves, the plan is put in place) or reject, with a comment."""
    decision = parse_decision(decision)
    note = clean_text(comment, "comment", "审批意见", decision == "reject")
    require_district(actor, "审批延期申请")
    request = _pending_request(session, request_id)
    end = current_end(session)
    if decision == "approve" and end is not None and request.new_deadline > end and not note:
        raise ValidationError(
            f"申请的新期限 {request.new_deadline} 晚于专项行动结束日 {end}：批准须说明理由",
            "comment",
        )
    site = get_site(session, request.site_id, for_update=True, actor=actor)
    request.decided_by = actor.name
    request.decided_at = clock.now()
    request.decision_comment = note
    if decision == "reject":
        _reject(session, request, site, actor)
    else:
        _approve(session, request, site, actor)
    session.flush()
    return request


def _pending_request(session: Session, request_id: int) -> ExtensionRequest:
    """The request to decide, locked: a 404 when there is none, a 409 when it was decided."""
    request = None
    if 0 < request_id < 2**63:
        request = session.scalar(
            select(ExtensionRequest).where(ExtensionRequest.id == request_id).with_for_update()
        )
    if request is None:
        raise NotFound(f"没有编号为 {request_id} 的延期申请", "id")
    if request.status != "pending":
        raise Conflict(
            f"该申请已于 {clock.fmt_local(request.decided_at)} "
            f"{codes.EXTENSION_STATUSES[request.status]}（{request.decided_by}）",
            "id",
        )
    return request


def _reject(session: Session, request: ExtensionRequest, site: Site, actor: Actor) -> None:
    """The request is rejected: nothing of the site changes but its history."""
    request.status = "rejected"
    record_event(
        session,
        site,
        actor,
        "extension_rejected",
        {"extension": (None, {"id": request.id, "status": "rejected"})},
        request.decision_comment,
    )


def _approve(session: Session, request: ExtensionRequest, site: Site, actor: Actor) -> None:
    """The request is approved: the site's current deadline moves and the request's plan
    takes the place of the steps not yet done."""
    if site.status not in REQUESTABLE:
        raise Conflict(
            f"点位已变为「{codes.STATUSES[site.status]}」，不能再批准延期；请驳回该申请", "id"
        )
    request.status = "approved"
    plan = [
        {"title": s["title"], "due_date": parse_date(s["due_date"], "plan")} for s in request.plan
    ]
    old_plan, new_plan = replace_open_steps(session, site, plan, actor)
    old_deadline = site.current_deadline
    site.current_deadline = request.new_deadline
    site.version += 1
    site.updated_by = actor.name
    site.updated_at = request.decided_at
    record_event(
        session,
        site,
        actor,
        "extension_approved",
        {
            "extension": (None, {"id": request.id, "status": "approved"}),
            "current_deadline": (old_deadline, request.new_deadline),
            "plan": (old_plan, new_plan),
        },
        request.decision_comment,
    )


def site_requests(session: Session, site_id: int) -> list[ExtensionRequest]:
    return list(
        session.scalars(
            select(ExtensionRequest)
            .where(ExtensionRequest.site_id == site_id)
            .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
        )
    )


def list_requests(
    session: Session,
    actor: Actor,
    status: str | None = None,
    street_code: str | None = None,
) -> list[dict[str, Any]]:
    """Requests with their site and street, newest first (the office's approval queue; a
    street sees its own)."""
    query = (
        select(ExtensionRequest, Site.code, Site.address, Street.code, Street.name)
        .join(Site, Site.id == ExtensionRequest.site_id)
        .join(Street, Street.id == Site.street_id)
        .where(Site.deleted_at.is_(None), *site_scope(actor))
    )
    status = parse_status(status)
    if status:
        query = query.where(ExtensionRequest.status == status)
    if street_code:
        query = query.where(Street.code == street_code)
    rows = session.execute(
        query.order_by(ExtensionRequest.requested_at.desc(), ExtensionRequest.id.desc())
    ).all()
    out = []
    for req, site_code, address, s_code, s_name in rows:
        item = request_dict(req)
        item.update(
            {"site_code": site_code, "address": address, "street_code": s_code, "street": s_name}
        )
        out.append(item)
    return out


def request_dict(req: ExtensionRequest) -> dict[str, Any]:
    return {
        "id": req.id,
        "site_id": req.site_id,
        "status": req.status,
        "status_label": codes.EXTENSION_STATUSES[req.status],
        "old_deadline": req.old_deadline.isoformat() if req.old_deadline else None,
        "new_deadline": req.new_deadline.isoformat(),
        "reason": req.reason,
        "plan": req.plan,
        "requested_by": req.requested_by,
        "requested_at": req.requested_at.isoformat(),
        "requested_at_local": clock.fmt_local(req.requested_at),
        "decided_by": req.decided_by,
        "decided_at": req.decided_at.isoformat() if req.decided_at else None,
        "decided_at_local": clock.fmt_local(req.decided_at),
        "decision_comment": req.decision_comment,
        # asked after the deadline it would move had passed (Asia/Shanghai calendar)
        "asked_late": bool(
            req.old_deadline and clock.to_local(req.requested_at).date() > req.old_deadline
        ),
    }


def site_requests_view(session: Session, site_id: int, actor: Actor) -> list[dict[str, Any]]:
    """A site's extension requests as the API lists them (the site visible to `actor`)."""
    site = get_site(session, site_id, actor=actor)
    return [request_dict(r) for r in site_requests(session, site.id)]
