"""Everything the workflow part of a site page (and GET /sites/{id}/workflow) shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.features.bureaus.models import RenovationWork
from gis_app.features.extensions import service as extensions
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.ledger.permissions import can_act_in_street
from gis_app.features.ledger.queries import base_select, overdue_expr
from gis_app.features.ledger.service import get_site
from gis_app.features.photos import service as photos
from gis_app.features.plans import service as steps
from gis_app.features.streets.models import Street
from gis_app.features.workflow import service as workflow

EVENT_LABELS = {
    "create": "登记",
    "update": "修改",
    "delete": "删除",
    "transition": "状态变更",
    "reopen": "重新打开",
    "photo": "上传照片",
    "plan": "制定治理方案",
    "step_done": "完成步骤",
    "extension_request": "申请延期",
    "extension_approved": "批准延期",
    "extension_rejected": "驳回延期",
    "overdue": "逾期",
    "renovation_done": "旧楼区改造完工",
}


def workflow_summary(session: Session, site_id: int, actor: Actor, today: date) -> dict[str, Any]:
    site: Site = get_site(session, site_id, actor=actor)
    street = session.get(Street, site.street_id)
    street_code = street.code if street else ""
    overdue = bool(session.scalar(base_select([overdue_expr(today)]).where(Site.id == site.id)))
    by_kind = _photos_by_kind(session, site.id)
    requests = [extensions.request_dict(r) for r in extensions.site_requests(session, site.id)]
    pending = next((r for r in requests if r["status"] == "pending"), None)
    kinds_now = [k for k, allowed in photos.KIND_STATUSES.items() if site.status in allowed]
    return {
        "site": _site_facts(session, site, street, today, overdue),
        "moves": workflow.available_moves(session, site, actor),
        "photos": {
            **by_kind,
            "newest_before": by_kind["before"][-1] if by_kind["before"] else None,
            "newest_after": by_kind["after"][-1] if by_kind["after"] else None,
        },
        "photo_kinds": {k: codes.PHOTO_KINDS[k] for k in kinds_now},
        "steps": [steps.step_dict(s, today) for s in steps.site_steps(session, site.id)],
        "extensions": requests,
        "pending_extension": pending,
        "warnings": [
            {"photo_id": p["id"], "kind": p["kind_label"], **w}
            for p in by_kind["before"] + by_kind["after"] + by_kind["inspection"]
            for w in p["warnings"]
        ],
        "history": _recent_history(session, site.id),
        "can": _permissions(actor, site, street_code, overdue, pending, bool(kinds_now)),
        "suggested_steps": steps.SUGGESTED_STEPS,
        "today": today.isoformat(),
    }


def _photos_by_kind(session: Session, site_id: int) -> dict[str, list[dict[str, Any]]]:
    """The site's photos, oldest first: before, after, inspection."""
    all_photos = photos.site_photos(session, site_id)
    return {
        kind: [photos.photo_dict(session, p) for p in all_photos if p.kind == kind]
        for kind in ("before", "after", "inspection")
    }


def _site_facts(
    session: Session, site: Site, street: Street | None, today: date, overdue: bool
) -> dict[str, Any]:
    """The site as the workflow panel heads it: status, deadlines, days left."""
    renovation = session.get(RenovationWork, site.id)
    return {
        "id": site.id,
        "code": site.code,
        "address": site.address,
        "street_code": street.code if street else "",
        "street": street.name if street else "",
        "status": site.status,
        "status_label": codes.STATUSES[site.status],
        "disposition_label": codes.label(codes.DISPOSITIONS, site.disposition),
        "committed_deadline": _iso(site.committed_deadline),
        "current_deadline": _iso(site.current_deadline),
        "days_left": (site.current_deadline - today).days if site.current_deadline else None,
        "overdue": overdue,
        "version": site.version,
        "flag_renovation": site.flag_renovation,
        "renovation_done_on": _iso(renovation.done_on) if renovation else None,
    }


def _recent_history(session: Session, site_id: int) -> list[dict[str, Any]]:
    """The site's last 30 events, newest first."""
    recent = session.execute(
        select(SiteEvent)
        .where(SiteEvent.site_id == site_id)
        .order_by(SiteEvent.at.desc(), SiteEvent.id.desc())
        .limit(30)
    ).scalars()
    return [
        {
            "at_local": clock.fmt_local(e.at),
            "actor": e.actor,
            "action": e.action,
            "action_label": EVENT_LABELS.get(e.action, e.action),
            "reason": e.reason,
            "changes": e.changes,
        }
        for e in recent
    ]


def _permissions(
    actor: Actor,
    site: Site,
    street_code: str,
    overdue: bool,
    pending: dict[str, Any] | None,
    may_upload_now: bool,
) -> dict[str, bool]:
    """What `actor` may do on the site's panel now."""
    street_actor = can_act_in_street(actor, street_code, ("street_officer",))
    field_actor = can_act_in_street(actor, street_code, STREET_ROLES)
    return {
        "upload": field_actor and may_upload_now,
        "plan": street_actor
        and site.status in ("new", "registered", "in_progress")
        and not overdue,
        "complete_steps": field_actor and site.status == "in_progress",
        "request_extension": (
            not actor.is_district
            and street_actor
            and site.status in extensions.REQUESTABLE
            and site.current_deadline is not None
            and pending is None
        ),
        "decide_extension": actor.is_district and pending is not None,
        "accept": actor.is_district and site.status == "awaiting_acceptance",
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
