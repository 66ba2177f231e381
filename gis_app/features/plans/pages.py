"""Step plans on the pages: the plan form of a site's workflow panel and a step's completion."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from gis_app.features.ledger.service import visible_site_id
from gis_app.features.plans import service as steps
from gis_app.features.plans.models import SiteStep
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.forms import site_form

bp = Blueprint("plans", __name__, template_folder="templates")


@bp.post("/sites/<int:site_id>/plan")
@allow(*SITE_STAFF)
def set_plan(site_id: int) -> Any:
    def run() -> str:
        site = steps.set_plan(
            session(),
            site_id,
            current_actor(),
            steps.plan_rows(request.form.getlist("step_title"), request.form.getlist("step_date")),
            request.form.get("reason", ""),
        )
        return f"治理方案已保存，当前期限 {site.current_deadline}"

    return site_form(site_id, run)


@bp.post("/steps/<int:step_id>/complete")
@allow(*SITE_STAFF)
def complete_step(step_id: int) -> Any:
    step = session().get(SiteStep, step_id) if 0 < step_id < 2**63 else None
    site_id = visible_site_id(
        session(),
        step.site_id if step else None,
        current_actor(),
        f"没有编号为 {step_id} 的治理步骤",
    )

    def run() -> str:
        done = steps.complete_step(
            session(),
            step_id,
            current_actor(),
            request.form.get("note", ""),
            request.form.get("photo_id") or None,
        )
        return f"步骤「{done.title}」已完成"

    return site_form(site_id, run)
