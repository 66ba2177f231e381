"""JSON API of the rectification workflow under /api/v1: the transitions table, a site's
workflow summary, transitions, reopening, the acceptance view and closing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import Field

from gis_app.core import clock
from gis_app.core.schemas import Schema
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.features.ledger.service import site_state
from gis_app.features.plans.schemas import SiteState
from gis_app.features.workflow import acceptance
from gis_app.features.workflow import service as workflow
from gis_app.features.workflow.schemas import (
    AcceptancePair,
    CloseBody,
    ReopenBody,
    TransitionBody,
    TransitionTable,
    WorkflowSummary,
)
from gis_app.features.workflow.summary import workflow_summary
from gis_app.http.access import API_READERS, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("workflow_api", __name__, url_prefix="/api/v1")
TAGS = ("workflow",)
#: what a workflow act answers: the site's status, version and deadlines
NEW_STATE = Reply(200, "点位的新状态、版本与期限", SiteState)


def _summary(site_id: int) -> dict[str, Any]:
    return workflow_summary(session(), site_id, current_actor(), clock.today())


@bp.get("/workflow/transitions")
@allow(*API_READERS)
@operation(
    "状态流转规则表",
    "transitionTable",
    tags=TAGS,
    replies=[Reply(200, "状态流转规则", TransitionTable)],
)
def transitions_table() -> Response:
    return jsonify({"transitions": workflow.moves_table()})


@bp.get("/sites/<int:site_id>/workflow")
@allow(*SITE_STAFF)
@operation(
    "点位的治理流程信息（照片、步骤、延期、可办理的操作）",
    "siteWorkflow",
    tags=TAGS,
    replies=[Reply(200, "治理流程信息", WorkflowSummary)],
)
def site_workflow(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(_summary(site_id))


@bp.post("/sites/<int:site_id>/transitions")
@allow(*SITE_STAFF)
@operation(
    "状态流转（已建档→治理中→待验收→已销账）",
    "transition",
    tags=TAGS,
    body=TransitionBody,
    errors=[409],
    replies=[NEW_STATE],
)
def post_transition(site_id: int, body: TransitionBody) -> Response:
    site = workflow.transition(
        session(), site_id, current_actor(), body.to, body.reason, body.version
    )
    return jsonify(site_state(site))


@bp.post("/sites/<int:site_id>/reopen")
@allow(*SITE_STAFF)
@operation(
    "重新打开已销账点位（抽查不合格 spot_check／回潮 rebound，须说明原因）",
    "reopen",
    tags=TAGS,
    body=ReopenBody,
    errors=[409],
    replies=[NEW_STATE],
)
def post_reopen(site_id: int, body: ReopenBody) -> Response:
    site = workflow.reopen(
        session(), site_id, current_actor(), body.reason, body.cause, body.version
    )
    return jsonify(site_state(site))


@bp.get("/sites/<int:site_id>/acceptance")
@allow(*SITE_STAFF)
@operation(
    "验收：最新整改前后照片（区办查看即记录）",
    "acceptance",
    tags=TAGS,
    replies=[Reply(200, "最新的整改前、整改后照片", AcceptancePair)],
)
def get_acceptance(site_id: int) -> Response:
    """The newest before/after pair; for the district office this records that it saw them."""
    require_site_reader(current_actor())
    view = workflow.record_acceptance_view(session(), site_id, current_actor())
    data = _summary(site_id)
    return jsonify(
        {
            "site": data["site"],
            "before": data["photos"]["newest_before"],
            "after": data["photos"]["newest_after"],
            "view_recorded": view is not None,
            "viewed_at": view.viewed_at.isoformat() if view else None,
        }
    )


@bp.post("/sites/<int:site_id>/historical-acceptance")
@allow(*SITE_STAFF)
@operation(
    "验收历史销账点位的整改前后照片（区办），此后计入有据销账",
    "acceptHistoricalClosure",
    tags=TAGS,
    body=CloseBody,
    body_required=False,
    errors=[409],
    replies=[NEW_STATE],
)
def post_historical_acceptance(site_id: int, body: CloseBody | None) -> Response:
    body = body or CloseBody()
    site = workflow.accept_historical_closure(
        session(), site_id, current_actor(), body.comment, body.version
    )
    return jsonify(site_state(site))


@bp.post("/sites/<int:site_id>/close")
@allow(*SITE_STAFF)
@operation(
    "销账（区办，须先查看最新照片对）",
    "closeSite",
    tags=TAGS,
    body=CloseBody,
    body_required=False,
    errors=[409],
    replies=[NEW_STATE],
)
def post_close(site_id: int, body: CloseBody | None) -> Response:
    body = body or CloseBody()
    site = workflow.close(
        session(),
        site_id,
        current_actor(),
        body.comment,
        body.version,
        body.open_steps_reason,
    )
    return jsonify(site_state(site))


class AcceptanceTimesQuery(Schema):
    """How many months (ending with the current one) the figures cover."""

    months: int = Field(6, ge=1, le=acceptance.MAX_MONTHS, description="月数（含本月）")


@bp.get("/acceptance/queue")
@allow(*SITE_STAFF)
@operation(
    "待验收队列（等待天数；等待期间街道的期限停止计算）",
    "acceptanceQueue",
    tags=("acceptance",),
)
def get_acceptance_queue() -> Response:
    require_site_reader(current_actor())
    rows = acceptance.acceptance_queue(session(), current_actor(), clock.today())
    return jsonify({"today": clock.today().isoformat(), "sites": rows})


@bp.get("/statistics/acceptance-times")
@allow(*SITE_STAFF)
@operation(
    "区办验收用时（按月：验收、退回件数与等待天数）",
    "acceptanceTimes",
    tags=("acceptance",),
    query=AcceptanceTimesQuery,
)
def get_acceptance_times(query: AcceptanceTimesQuery) -> Response:
    require_site_reader(current_actor())
    return jsonify({"months": acceptance.acceptance_times(session(), clock.today(), query.months)})
