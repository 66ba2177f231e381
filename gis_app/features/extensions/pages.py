"""Extension requests on the pages: the request form of a site's workflow panel, the
office's decision, and the list of requests."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from gis_app.core import codes
from gis_app.features.extensions import service as extensions
from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.ledger.service import visible_site_id
from gis_app.features.plans.service import plan_rows
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.forms import site_form

bp = Blueprint("extensions", __name__, template_folder="templates")


@bp.post("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
def request_extension(site_id: int) -> Any:
    def run() -> str:
        req = extensions.request_extension(
            session(),
            site_id,
            current_actor(),
            request.form.get("new_deadline"),
            request.form.get("reason"),
            plan_rows(request.form.getlist("step_title"), request.form.getlist("step_date")),
        )
        return f"延期申请已提交（申请延至 {req.new_deadline}），等待区领导小组办公室审批"

    return site_form(site_id, run)


@bp.post("/extensions/<int:request_id>/decide")
@allow(*SITE_STAFF)
def decide_extension(request_id: int) -> Any:
    req = session().get(ExtensionRequest, request_id) if 0 < request_id < 2**63 else None
    site_id = visible_site_id(
        session(),
        req.site_id if req else None,
        current_actor(),
        f"没有编号为 {request_id} 的延期申请",
    )

    def run() -> str:
        done = extensions.decide(
            session(),
            request_id,
            current_actor(),
            (request.form.get("decision") or "").strip(),
            request.form.get("comment", ""),
        )
        return f"延期申请已{codes.EXTENSION_STATUSES[done.status]}"

    return site_form(site_id, run)


@bp.get("/extensions")
@allow(*SITE_STAFF)
def extension_list() -> str:
    status = (request.args.get("status") or "pending").strip()
    if status == "all":
        status = ""
    rows = extensions.list_requests(session(), current_actor(), status or None)
    return render_template(
        "workflow/extensions.html", rows=rows, status=status, statuses=codes.EXTENSION_STATUSES
    )
