"""`/healthz`, `/readyz` and `/metrics`: answered before authentication (a load balancer or a
scraper has no session; a bearer token meant for /metrics is not an API token), and without
the request's database session."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request

from gis_app.features.ops import health, replica
from gis_app.features.ops.metrics import metrics
from gis_app.http.access import DISTRICT, allow, public

bp = Blueprint("ops", __name__, template_folder="templates")
ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics"})
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@public
def healthz() -> Response:
    """The process is alive and answers (nothing else is checked: a restart would not help)."""
    response = jsonify({"status": "alive"})
    response.headers.update(NO_STORE)
    return response


def current_readiness() -> health.Readiness:
    """The checks, now (the replica's lag as last read: at most 2 s old)."""
    state = current_app.extensions["ops_health"]
    result = health.Readiness(
        [
            *health.check_database(state["engine"], state["heads"]),
            health.check_photo_store(current_app.config["PHOTO_DIR"]),
        ]
    )
    router = replica.router()
    if router is not None:
        reading = router.lag()
        ok = reading.seconds is not None and reading.seconds <= router.max_lag
        reason = reading.error or (
            "" if ok else f"副本落后 {reading.seconds:.1f} 秒，超过 {router.max_lag:g} 秒：读主库"
        )
        check = health.Check("replica", ok, reason, required=False)
        check.lag_s = reading.seconds
        result.checks.append(check)
        if reading.seconds is not None:
            metrics().replica_lag.set(reading.seconds)
    gauge = metrics().readiness
    for check in result.checks:
        gauge.labels(check.name).set(1 if check.ok else 0)
    return result


@bp.get("/readyz")
@public
def readyz() -> tuple[Response, int]:
    """Ready to serve: 200, or 503 with the reasons (docs/operations/monitoring.md)."""
    result = current_readiness()
    response = jsonify(result.as_json())
    response.headers.update(NO_STORE)
    return response, 200 if result.ready else 503


@bp.get("/ops/status")
@allow(*DISTRICT)
def status() -> str:
    """The office's view: the checks of /readyz and the replica's lag."""
    router = replica.router()
    return render_template(
        "ops/status.html",
        result=current_readiness(),
        replica_bound=router.max_lag if router else None,
        labels=CHECK_LABELS,
    )


CHECK_LABELS = {
    "database": "数据库",
    "migrations": "数据库结构版本",
    "photos": "照片存储",
    "replica": "只读副本",
}


def _may_scrape() -> tuple[bool, int, str]:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True, 200, ""
        return False, 401, "需要 Authorization: Bearer <GIS_APP_METRICS_TOKEN>"
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if local:
        return True, 200, ""
    return False, 403, "未设置 GIS_APP_METRICS_TOKEN 时只允许本机读取 /metrics"


@bp.get("/metrics", endpoint="metrics")
@public
def metrics_view() -> Response | tuple[Response, int]:
    """The Prometheus metrics: with the configured token, or from this machine only."""
    allowed, status, reason = _may_scrape()
    if not allowed:
        return jsonify({"error": reason, "field": "Authorization"}), status
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(metrics().exposition(), content_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


def _answer_first() -> Any:
    """Answer the ops endpoints before the session and token checks run."""
    if request.endpoint in ENDPOINTS:
        return current_app.view_functions[request.endpoint]()
    return None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    engine = app.extensions["gis_db"].engine
    app.extensions["ops_health"] = {
        "engine": health.probe_engine(engine),
        "heads": health.code_heads(),
    }
    # before every other before_request function but the request id's and the metrics' clock
    # (ops.register sets those up after this one, each in front)
    app.before_request_funcs.setdefault(None, []).insert(0, _answer_first)
