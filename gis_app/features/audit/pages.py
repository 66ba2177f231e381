"""The office's view of the audit trail: a site's trail, a user's trail, the latest events."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from gis_app.features.audit import service as audit
from gis_app.http.access import DISTRICT, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session

bp = Blueprint("audit_pages", __name__, url_prefix="/audit", template_folder="templates")


@bp.get("/")
@allow(*DISTRICT)
def index() -> str:
    username = (request.args.get("user") or "").strip()
    site_code = (request.args.get("site") or "").strip()
    if username:
        return user_trail(username)
    if site_code:
        site_id = audit.site_id_of_code(session(), site_code)
        if site_id is not None:
            return site_trail(site_id)
    events = audit.recent(session(), current_actor())
    return render_template(
        "audit/trail.html", title="最近的审计事件", events=events, missing_site=site_code
    )


@bp.get("/sites/<int:site_id>")
@allow(*DISTRICT)
def site_trail(site_id: int) -> str:
    events = audit.site_trail(session(), current_actor(), site_id)
    code = audit.site_code_of(session(), site_id)
    return render_template(
        "audit/trail.html",
        title=f"点位 {code or site_id} 的审计记录",
        events=events,
        site_id=site_id,
    )


@bp.get("/users/<username>")
@allow(*DISTRICT)
def user_trail(username: str) -> str:
    events = audit.user_trail(session(), current_actor(), username)
    return render_template(
        "audit/trail.html", title=f"用户 {username} 的审计记录", events=events, username=username
    )
