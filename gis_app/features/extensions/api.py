"""Extension requests (延期申请) in the JSON API: a street asks, the district office decides."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gis_app.features.extensions import central
from gis_app.features.extensions import service as extensions
from gis_app.features.extensions.schemas import (
    CentralAsk,
    CentralDecision,
    CentralFilter,
    ExtensionAsk,
    ExtensionDecision,
    ExtensionFilter,
    ExtensionList,
    ExtensionRecord,
    SiteExtensions,
)
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("extensions_api", __name__, url_prefix="/api/v1")
TAGS = ("extensions",)


@bp.get("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
@operation(
    "点位的延期申请记录",
    "siteExtensions",
    tags=TAGS,
    replies=[Reply(200, "点位的延期申请", SiteExtensions)],
)
def list_site_extensions(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(
        {"extensions": extensions.site_requests_view(session(), site_id, current_actor())}
    )


@bp.post("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
@operation(
    "申请延期（街道）",
    "requestExtension",
    tags=TAGS,
    body=ExtensionAsk,
    errors=[409],
    replies=[Reply(201, "已提交，待审批", ExtensionRecord)],
)
def post_extension(site_id: int, body: ExtensionAsk) -> Response:
    req = extensions.request_extension(
        session(), site_id, current_actor(), body.new_deadline, body.reason, body.plan
    )
    response = jsonify(extensions.request_dict(req))
    response.status_code = 201
    return response


@bp.get("/extensions")
@allow(*SITE_STAFF)
@operation(
    "延期申请列表",
    "listExtensions",
    tags=TAGS,
    query=ExtensionFilter,
    replies=[Reply(200, "延期申请，最新的在前", ExtensionList)],
)
def list_extensions(query: ExtensionFilter) -> Response:
    require_site_reader(current_actor())
    rows = extensions.list_requests(session(), current_actor(), query.status, query.street)
    return jsonify({"extensions": rows})


@bp.post("/extensions/<int:request_id>/decision")
@allow(*SITE_STAFF)
@operation(
    "审批延期申请（区办；驳回须填意见）",
    "decideExtension",
    tags=TAGS,
    body=ExtensionDecision,
    errors=[409],
    replies=[Reply(200, "审批后的申请", ExtensionRecord)],
)
def post_decision(request_id: int, body: ExtensionDecision) -> Response:
    req = extensions.decide(session(), request_id, current_actor(), body.decision, body.comment)
    return jsonify(extensions.request_dict(req))


@bp.post("/sites/<int:site_id>/central-requests")
@allow(*SITE_STAFF)
@operation(
    "应拆尽拆变更申请（街道：中央第二次环保督查点位改为规范治理或取消标记）",
    "requestCentralChange",
    tags=TAGS,
    body=CentralAsk,
    errors=[409],
    replies=[Reply(201, "已提交，待区办审批")],
)
def post_central_request(site_id: int, body: CentralAsk) -> Response:
    req = central.request_change(session(), site_id, current_actor(), body.change, body.reason)
    response = jsonify(central.request_dict(req))
    response.status_code = 201
    return response


@bp.get("/central-requests")
@allow(*SITE_STAFF)
@operation(
    "应拆尽拆变更申请列表（区办审批队列）",
    "listCentralRequests",
    tags=TAGS,
    query=CentralFilter,
)
def list_central_requests(query: CentralFilter) -> Response:
    require_site_reader(current_actor())
    return jsonify({"requests": central.list_requests(session(), current_actor(), query.status)})


@bp.post("/central-requests/<int:request_id>/decision")
@allow(*SITE_STAFF)
@operation(
    "审批应拆尽拆变更申请（区办；批准或驳回均须说明理由）",
    "decideCentralRequest",
    tags=TAGS,
    body=CentralDecision,
    errors=[409],
)
def post_central_decision(request_id: int, body: CentralDecision) -> Response:
    req = central.decide(session(), request_id, current_actor(), body.decision, body.comment)
    return jsonify(central.request_dict(req))
