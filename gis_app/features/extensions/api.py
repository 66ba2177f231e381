"""Extension requests (延期申请) in the JSON API: a street asks, the district office decides."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gis_app.features.extensions import service as extensions
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.parsing import json_body

bp = Blueprint("extensions_api", __name__, url_prefix="/api/v1")


@bp.get("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
def list_site_extensions(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(
        {"extensions": extensions.site_requests_view(session(), site_id, current_actor())}
    )


@bp.post("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
def post_extension(site_id: int) -> Response:
    body = json_body()
    req = extensions.request_extension(
        session(),
        site_id,
        current_actor(),
        body.get("new_deadline"),
        body.get("reason"),
        body.get("plan"),
    )
    response = jsonify(extensions.request_dict(req))
    response.status_code = 201
    return response


@bp.get("/extensions")
@allow(*SITE_STAFF)
def list_extensions() -> Response:
    require_site_reader(current_actor())
    status = (request.args.get("status") or "").strip() or None
    street = (request.args.get("street") or "").strip() or None
    rows = extensions.list_requests(session(), current_actor(), status, street)
    return jsonify({"extensions": rows})


@bp.post("/extensions/<int:request_id>/decision")
@allow(*SITE_STAFF)
def post_decision(request_id: int) -> Response:
    body = json_body()
    req = extensions.decide(
        session(), request_id, current_actor(), body.get("decision"), body.get("comment", "")
    )
    return jsonify(extensions.request_dict(req))
