"""The pages of the renovation sites' 规范治理 plans: the list (住建委's queue, a street's own
plans, with the street's submission form) and one plan with its review, resubmission and works
forms. A refusal shows the page again with the message and what was typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from gis_app.core.errors import AppError
from gis_app.features.bureaus import renovation
from gis_app.features.bureaus.pages import bp
from gis_app.features.plans.service import SUGGESTED_STEPS, plan_rows
from gis_app.http.access import ANY_USER, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

PLAN_PAGE_ROLES = (*SITE_STAFF, "bureau_housing")


def _steps() -> list[dict[str, str]]:
    form = request.form
    return plan_rows(form.getlist("step_title"), form.getlist("step_date"))


@bp.get("/renovation-plans")
@allow(*PLAN_PAGE_ROLES)
def renovation_plans(error: AppError | None = None) -> str:
    status = (request.args.get("status") or "").strip() or None
    if status not in renovation.STATUSES:
        status = None
    rows = renovation.list_plans(session(), current_actor(), status)
    site = (request.args.get("site") or "").strip()
    if site:  # from a site's page: its plan, if it has one
        rows = [r for r in rows if r["site_code"] == site]
    return render_template(
        "bureau/renovation_plans.html",
        rows=rows,
        site=site,
        status=status,
        statuses=renovation.STATUSES,
        suggested=SUGGESTED_STEPS,
        error=error,
    )


@bp.post("/renovation-plans")
@allow(*SITE_STAFF)
def submit_renovation_plan() -> Any:
    form = request.form
    try:
        plan = renovation.submit_by_code(
            session(), form.get("site"), current_actor(), form.get("content"), _steps()
        )
    except AppError as exc:
        discard()
        if exc.status in (403, 404):
            raise
        return renovation_plans(exc), exc.status
    flash("规范治理方案已报送区住建委审核", "workflow")
    return redirect(url_for("bureau.renovation_plan", renovation_plan_id=plan.id))


@bp.get("/renovation-plans/<int:renovation_plan_id>")
@allow(ANY_USER)  # outside the plan's scope: 404
def renovation_plan(renovation_plan_id: int, error: AppError | None = None) -> str:
    actor = current_actor()
    plan = renovation.plan_view(session(), renovation_plan_id, actor)
    return render_template(
        "bureau/renovation_plan.html",
        plan=plan,
        may_review=actor.role == renovation.HOUSING and plan["status"] == "submitted",
        may_record=actor.role == renovation.HOUSING and plan["status"] == "approved",
        may_resubmit=actor.role == "street_officer" and plan["status"] == "returned",
        suggested=SUGGESTED_STEPS,
        error=error,
    )


def _act(plan_id: int, run: Callable[[], Any], message: str) -> Any:
    try:
        run()
    except AppError as exc:
        discard()
        if exc.status in (403, 404):
            raise
        return renovation_plan(plan_id, exc), exc.status
    flash(message, "workflow")
    return redirect(url_for("bureau.renovation_plan", renovation_plan_id=plan_id))


@bp.post("/renovation-plans/<int:renovation_plan_id>/resubmit")
@allow(ANY_USER)
def resubmit_renovation_plan(renovation_plan_id: int) -> Any:
    form = request.form
    return _act(
        renovation_plan_id,
        lambda: renovation.resubmit(
            session(), renovation_plan_id, current_actor(), form.get("content"), _steps()
        ),
        "方案已修改并重新报送区住建委",
    )


@bp.post("/renovation-plans/<int:renovation_plan_id>/review")
@allow(ANY_USER)
def review_renovation_plan(renovation_plan_id: int) -> Any:
    form = request.form
    decision = form.get("decision")
    return _act(
        renovation_plan_id,
        lambda: renovation.review(
            session(), renovation_plan_id, current_actor(), decision, form.get("comment")
        ),
        "方案已批准" if decision == "approve" else "方案已退回街道修改",
    )


@bp.post("/renovation-plans/<int:renovation_plan_id>/works")
@allow(ANY_USER)
def record_renovation_works(renovation_plan_id: int) -> Any:
    form = request.form
    return _act(
        renovation_plan_id,
        lambda: renovation.record_works(
            session(),
            renovation_plan_id,
            current_actor(),
            form.get("done_on"),
            form.get("what"),
            form.get("note", ""),
        ),
        "施工记录已登记",
    )
