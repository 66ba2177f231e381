"""公安 support requests in the JSON API: a street asks, the police answer and record the
outcome; the district, the police and the street (its own) read them."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

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
)
from gis_app.http.access import SITE_STAFF, allow
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
