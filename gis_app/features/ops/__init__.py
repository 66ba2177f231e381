"""Running the app as a service: `/healthz` and `/readyz` for a load balancer, Prometheus
metrics at `/metrics`, structured JSON logs with a request id (`X-Request-ID`) that also names
the request's database connection (`application_name`), and the deployment files (nginx,
systemd) under `deploy/`. docs/operations/monitoring.md describes them."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.ops import logs, metrics, replica, web

    # each puts its hooks in front of the others': the request id first, then the metrics'
    # clock, then the ops endpoints' answer; after the request, the access log line comes last
    web.init_app(app)
    metrics.init_app(app)
    logs.init_app(app)
    replica.init_app(app)  # after authentication: appended, not in front
