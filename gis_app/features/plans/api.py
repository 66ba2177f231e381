"""Step plans (分步治理方案) in the JSON API: a site's steps, the plan, completing a step."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gis_app.core import clock
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.features.ledger.service import site_state
from gis_app.features.plans import service as steps
from gis_app.features.plans.schemas import PlanSet, PlanStep, SiteSteps, StepDone, StepPlan
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("plans_api", __name__, url_prefix="/api/v1")
TAGS = ("plans",)


@bp.get("/sites/<int:site_id>/steps")
@allow(*SITE_STAFF)
@operation("分步治理方案", "listSteps", tags=TAGS, replies=[Reply(200, "治理步骤", SiteSteps)])
def list_steps(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(
        {"steps": steps.site_steps_view(session(), site_id, current_actor(), clock.today())}
    )


@bp.put("/sites/<int:site_id>/steps")
@allow(*SITE_STAFF)
@operation(
    "制定/调整方案（未完成的步骤整体替换；最后一步日期即当前期限）",
    "setSteps",
    tags=TAGS,
    body=StepPlan,
    errors=[409],
    replies=[Reply(200, "点位状态与新方案", PlanSet)],
)
def put_steps(site_id: int, body: StepPlan) -> Response:
    site = steps.set_plan(session(), site_id, current_actor(), body.steps, body.reason or "")
    today = clock.today()
    return jsonify(
        {
            "site": site_state(site),
            "steps": [steps.step_dict(s, today) for s in steps.site_steps(session(), site.id)],
        }
    )


@bp.post("/steps/<int:step_id>/complete")
@allow(*SITE_STAFF)
@operation(
    "完成步骤（说明或照片作为佐证）",
    "completeStep",
    tags=TAGS,
    body=StepDone,
    errors=[409],
    replies=[Reply(200, "已完成的步骤", PlanStep)],
)
def post_step_done(step_id: int, body: StepDone) -> Response:
    step = steps.complete_step(session(), step_id, current_actor(), body.note, body.photo_id)
    return jsonify(steps.step_dict(step, clock.today()))
