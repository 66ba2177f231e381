"""Step plans (分步治理方案) in the JSON API: a site's steps, the plan, completing a step."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gis_app.core import clock
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.features.ledger.service import site_state
from gis_app.features.plans import service as steps
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.parsing import json_body

bp = Blueprint("plans_api", __name__, url_prefix="/api/v1")


@bp.get("/sites/<int:site_id>/steps")
@allow(*SITE_STAFF)
def list_steps(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(
        {"steps": steps.site_steps_view(session(), site_id, current_actor(), clock.today())}
    )


@bp.put("/sites/<int:site_id>/steps")
@allow(*SITE_STAFF)
def put_steps(site_id: int) -> Response:
    body = json_body()
    site = steps.set_plan(
        session(), site_id, current_actor(), body.get("steps"), body.get("reason", "") or ""
    )
    today = clock.today()
    return jsonify(
        {
            "site": site_state(site),
            "steps": [steps.step_dict(s, today) for s in steps.site_steps(session(), site.id)],
        }
    )


@bp.post("/steps/<int:step_id>/complete")
@allow(*SITE_STAFF)
def post_step_done(step_id: int) -> Response:
    body = json_body()
    step = steps.complete_step(
        session(), step_id, current_actor(), body.get("note", ""), body.get("photo_id")
    )
    return jsonify(steps.step_dict(step, clock.today()))
