"""The bureaus in the JSON API: 公安 support requests (a street asks, the police answer and record
the outcome), 民政 relief, and 住建委's review of the 规范治理 plans of renovation sites (a street
submits, the committee approves or returns, then records the works)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gis_app.features.bureaus import renovation
from gis_app.features.bureaus import service as bureaus
from gis_app.features.bureaus.schemas import (
    PoliceAnswer,
    PoliceAsk,
    PoliceOutcome,
    PoliceRequestList,
    PoliceRequestRecord,
    ReliefGiven,
    ReliefList,
    ReliefRecordOut,
    RenovationPlanAsk,
    RenovationPlanDecision,
    RenovationPlanDetail,
    RenovationPlanFilter,
    RenovationPlanList,
    RenovationWorksDone,
)
from gis_app.http.access import ANY_USER, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("bureaus_api", __name__, url_prefix="/api/v1")
TAGS = ("bureaus",)
POLICE_READERS = (*SITE_STAFF, "bureau_police")


def _one(request_id: int) -> Response:
    rows = [r for r in bureaus.police_requests(session(), current_actor()) if r["id"] == request_id]
    return jsonify(rows[0])


@bp.get("/police-requests")
@allow(*POLICE_READERS)
@operation(
    "公安协助申请（街道只见本街道的）",
    "listPoliceRequests",
    tags=TAGS,
    replies=[Reply(200, "协助申请", PoliceRequestList)],
)
def list_police_requests() -> Response:
    return jsonify({"requests": bureaus.police_requests(session(), current_actor())})


@bp.post("/sites/<int:site_id>/police-requests")
@allow(*SITE_STAFF)
@operation(
    "申请公安协助执法（街道）",
    "requestPolice",
    tags=TAGS,
    body=PoliceAsk,
    replies=[Reply(201, "已申请", PoliceRequestRecord)],
)
def request_police(site_id: int, body: PoliceAsk) -> Response:
    req = bureaus.request_police(session(), site_id, current_actor(), body.wanted_on, body.reason)
    response = _one(req.id)
    response.status_code = 201
    return response


@bp.post("/police-requests/<int:police_request_id>/answer")
@allow(*POLICE_READERS)
@operation(
    "受理或不予受理（公安）",
    "answerPoliceRequest",
    tags=TAGS,
    body=PoliceAnswer,
    errors=[409],
    replies=[Reply(200, "答复后的申请", PoliceRequestRecord)],
)
def answer_police_request(police_request_id: int, body: PoliceAnswer) -> Response:
    bureaus.answer_police(session(), police_request_id, current_actor(), body.decision, body.note)
    return _one(police_request_id)


@bp.post("/police-requests/<int:police_request_id>/outcome")
@allow(*POLICE_READERS)
@operation(
    "记录处置结果（公安；暴力抗法须填案件编号）",
    "policeOutcome",
    tags=TAGS,
    body=PoliceOutcome,
    errors=[409],
    replies=[Reply(200, "已处置的申请", PoliceRequestRecord)],
)
def police_request_outcome(police_request_id: int, body: PoliceOutcome) -> Response:
    bureaus.police_outcome(
        session(), police_request_id, current_actor(), body.outcome, body.violent, body.case_number
    )
    return _one(police_request_id)


RELIEF_READERS = (*SITE_STAFF, "bureau_civil")


@bp.get("/relief")
@allow(*RELIEF_READERS)
@operation(
    "民政救助记录（区、街道（本街道）和区民政局可见）",
    "listRelief",
    tags=TAGS,
    replies=[Reply(200, "救助记录", ReliefList)],
)
def list_relief() -> Response:
    return jsonify({"relief": bureaus.relief_records(session(), current_actor())})


@bp.post("/sites/<int:site_id>/relief")
@allow("bureau_civil")
@operation(
    "登记救助（区民政局）",
    "recordRelief",
    tags=TAGS,
    body=ReliefGiven,
    replies=[Reply(201, "已登记", ReliefRecordOut)],
)
def record_relief(site_id: int, body: ReliefGiven) -> Response:
    row = bureaus.record_relief(session(), site_id, current_actor(), body.what, body.given_on)
    (out,) = [r for r in bureaus.relief_records(session(), current_actor()) if r["id"] == row.id]
    response = jsonify(out)
    response.status_code = 201
    return response


# ---------------------------------------------------------------- 住建委: renovation plans

PLAN_READERS = (*SITE_STAFF, "bureau_housing")


def _plan(plan_id: int, status: int = 200) -> Response:
    response = jsonify(renovation.plan_view(session(), plan_id, current_actor()))
    response.status_code = status
    return response


@bp.get("/renovation-plans")
@allow(*PLAN_READERS)
@operation(
    "旧楼区改造点位的规范治理方案（街道只见本街道的；区住建委见报送给它的）",
    "listRenovationPlans",
    tags=TAGS,
    query=RenovationPlanFilter,
    replies=[Reply(200, "方案，等待最久的在前", RenovationPlanList)],
)
def list_renovation_plans(query: RenovationPlanFilter) -> Response:
    return jsonify({"plans": renovation.list_plans(session(), current_actor(), query.status)})


@bp.get("/renovation-plans/<int:renovation_plan_id>")
@allow(ANY_USER)  # outside the plan's scope: 404, as for a plan that does not exist
@operation(
    "一个规范治理方案及其施工记录",
    "getRenovationPlan",
    tags=TAGS,
    replies=[Reply(200, "方案", RenovationPlanDetail)],
)
def get_renovation_plan(renovation_plan_id: int) -> Response:
    return _plan(renovation_plan_id)


@bp.post("/sites/<int:site_id>/renovation-plan")
@allow(*SITE_STAFF)
@operation(
    "报送旧楼区改造点位的规范治理方案（点位所在街道，报区住建委审批）",
    "submitRenovationPlan",
    tags=TAGS,
    body=RenovationPlanAsk,
    errors=[409],
    replies=[Reply(201, "已报送", RenovationPlanDetail)],
)
def submit_renovation_plan(site_id: int, body: RenovationPlanAsk) -> Response:
    plan = renovation.submit(session(), site_id, current_actor(), body.content, body.steps)
    return _plan(plan.id, 201)


@bp.post("/renovation-plans/<int:renovation_plan_id>/resubmit")
@allow(ANY_USER)
@operation(
    "修改被退回的方案并重新报送（街道）",
    "resubmitRenovationPlan",
    tags=TAGS,
    body=RenovationPlanAsk,
    errors=[409],
    replies=[Reply(200, "已重新报送", RenovationPlanDetail)],
)
def resubmit_renovation_plan(renovation_plan_id: int, body: RenovationPlanAsk) -> Response:
    renovation.resubmit(session(), renovation_plan_id, current_actor(), body.content, body.steps)
    return _plan(renovation_plan_id)


@bp.post("/renovation-plans/<int:renovation_plan_id>/review")
@allow(ANY_USER)
@operation(
    "批准或退回方案（区住建委；退回须写审核意见）",
    "reviewRenovationPlan",
    tags=TAGS,
    body=RenovationPlanDecision,
    errors=[409],
    replies=[Reply(200, "审核后的方案", RenovationPlanDetail)],
)
def review_renovation_plan(renovation_plan_id: int, body: RenovationPlanDecision) -> Response:
    renovation.review(session(), renovation_plan_id, current_actor(), body.decision, body.comment)
    return _plan(renovation_plan_id)


@bp.post("/renovation-plans/<int:renovation_plan_id>/works")
@allow(ANY_USER)
@operation(
    "记录改造施工（区住建委；方案批准后）",
    "recordRenovationWorks",
    tags=TAGS,
    body=RenovationWorksDone,
    errors=[409],
    replies=[Reply(201, "方案及其施工记录", RenovationPlanDetail)],
)
def record_renovation_works(renovation_plan_id: int, body: RenovationWorksDone) -> Response:
    renovation.record_works(
        session(), renovation_plan_id, current_actor(), body.done_on, body.what, body.note
    )
    return _plan(renovation_plan_id, 201)
