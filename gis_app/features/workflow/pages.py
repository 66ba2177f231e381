"""The rectification workflow's pages: a site's workflow page, its transitions, reopening, the
acceptance page and closing (Chinese UI).

Every form posts here; the service does the work in one transaction. On success the browser
goes back where it came from (`next`) with a message; on a refusal the workflow page is shown
again with the reason, under the status the API would give (403, 409, 422).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)

from gis_app.core import clock, codes
from gis_app.core.errors import AppError
from gis_app.features.workflow import service as workflow
from gis_app.features.workflow.summary import workflow_summary
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session
from gis_app.http.forms import SITE_FLASH, local_next, site_form

bp = Blueprint("workflow", __name__, template_folder="templates")


@bp.get("/sites/<int:site_id>/workflow")
@allow(*SITE_STAFF)
def site_page(site_id: int) -> str:
    return render_template("site/workflow.html", site_id=site_id)


@bp.post("/sites/<int:site_id>/transition")
@allow(*SITE_STAFF)
def transition(site_id: int) -> Any:
    target = (request.form.get("to") or "").strip()

    def run() -> str:
        site = workflow.transition(
            session(),
            site_id,
            current_actor(),
            target,
            request.form.get("reason", ""),
            request.form.get("version") or None,
        )
        return f"点位 {site.code} 已变为「{codes.STATUSES[site.status]}」"

    return site_form(site_id, run)


@bp.post("/sites/<int:site_id>/reopen")
@allow(*SITE_STAFF)
def reopen(site_id: int) -> Any:
    def run() -> str:
        site = workflow.reopen(
            session(),
            site_id,
            current_actor(),
            request.form.get("reason", ""),
            (request.form.get("cause") or "").strip(),
        )
        return f"点位 {site.code} 已重新打开，回到「治理中」"

    return site_form(site_id, run)


@bp.get("/sites/<int:site_id>/acceptance")
@allow(*SITE_STAFF)
def acceptance(site_id: int) -> str:
    """The newest before and after photos side by side; opening it is what allows closing."""
    actor = current_actor()
    view = workflow.record_acceptance_view(session(), site_id, actor)
    data = workflow_summary(session(), site_id, actor, clock.today())
    return render_template("site/acceptance.html", wf=data, view=view)


@bp.post("/sites/<int:site_id>/close")
@allow(*SITE_STAFF)
def close(site_id: int) -> Any:
    """销账 from the acceptance page; refused, the acceptance page again with the reason beside
    its field and what was typed."""
    form = {k: request.form.get(k, "") for k in ("comment", "open_steps_reason")}
    try:
        site = workflow.close(
            session(),
            site_id,
            current_actor(),
            form["comment"],
            request.form.get("version") or None,
            form["open_steps_reason"],
        )
    except AppError as exc:
        discard()
        data = workflow_summary(session(), site_id, current_actor(), clock.today())
        page = render_template("site/acceptance.html", wf=data, view=None, error=exc, form=form)
        return page, exc.status
    flash(f"点位 {site.code} 验收通过，已销账", SITE_FLASH)
    return redirect(local_next(url_for("workflow.site_page", site_id=site_id)))


def site_workflow(site_id: int) -> dict[str, Any]:
    """What `site/_workflow.html` shows for a site, for the acting user."""
    return workflow_summary(session(), int(site_id), current_actor(), clock.today())


def workflow_messages() -> list[tuple[str, str]]:
    """Flashed messages of the workflow forms (shown once, by whichever page renders them)."""
    return get_flashed_messages(
        with_categories=True, category_filter=["workflow", "workflow-warning"]
    )
