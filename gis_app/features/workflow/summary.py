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
    all_photos = photos.site_photos(session, site.id)
    before = [photos.photo_dict(session, p) for p in all_photos if p.kind == "before"]
    after = [photos.photo_dict(session, p) for p in all_photos if p.kind == "after"]
    inspection = [photos.photo_dict(session, p) for p in all_photos if p.kind == "inspection"]
    plan = [steps.step_dict(s, today) for s in steps.site_steps(session, site.id)]
    requests = [extensions.request_dict(r) for r in extensions.site_requests(session, site.id)]
    pending = next((r for r in requests if r["status"] == "pending"), None)
    street_actor = can_act_in_street(actor, street_code, ("street_officer",))
    field_actor = can_act_in_street(actor, street_code, STREET_ROLES)
    renovation = session.get(RenovationWork, site.id)
    warnings = [
        {"photo_id": p["id"], "kind": p["kind_label"], **w}
        for p in before + after + inspection
        for w in p["warnings"]
    ]
    recent = session.execute(
        select(SiteEvent)
        .where(SiteEvent.site_id == site.id)
        .order_by(SiteEvent.at.desc(), SiteEvent.id.desc())
        .limit(30)
    ).scalars()
    kinds_now = [k for k, allowed in photos.KIND_STATUSES.items() if site.status in allowed]
    return {
        "site": {
            "id": site.id,
            "code": site.code,
            "address": site.address,
            "street_code": street_code,
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
        },
        "moves": workflow.available_moves(session, site, actor),
        "photos": {
            "before": before,
            "after": after,
            "inspection": inspection,
            "newest_before": before[-1] if before else None,
            "newest_after": after[-1] if after else None,
        },
        "photo_kinds": {k: codes.PHOTO_KINDS[k] for k in kinds_now},
        "steps": plan,
        "extensions": requests,
        "pending_extension": pending,
        "warnings": warnings,
        "history": [
            {
                "at_local": clock.fmt_local(e.at),
                "actor": e.actor,
                "action": e.action,
                "action_label": EVENT_LABELS.get(e.action, e.action),
                "reason": e.reason,
                "changes": e.changes,
            }
            for e in recent
        ],
        "can": {
            "upload": field_actor and bool(kinds_now),
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
        },
        "suggested_steps": steps.SUGGESTED_STEPS,
        "today": today.isoformat(),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
