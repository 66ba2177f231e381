"""Prometheus metrics of the app, read at `/metrics` (the text format of prometheus_client).

- `gis_app_http_requests_total{method,route,status}` and
  `gis_app_http_request_duration_seconds{method,route}` (histogram): every request, by its URL
  rule (`/sites/<int:site_id>`, never the raw path: bounded label values; `<unmatched>` for a 404
  of no route). The duration ends when the view has answered and the transaction committed (a
  streamed export's body is sent after it).
- `gis_app_db_pool_connections{state}`: the database pool of this process (`checked_out`,
  `idle`, `overflow`) and `gis_app_db_pool_size`.
- `gis_app_exports_total{layer,format}`, `gis_app_imports_total{outcome}`: exports served
  and ledger imports (`imported`, `dry_run`, `refused`).
- `gis_app_offline_sync_total{outcome}`: write requests carrying an `Idempotency-Key` (what the
  field app's offline queue sends when it syncs): `applied` the first time, `replayed` when a
  retry is answered from the stored answer, `refused` (4xx/5xx). `count_offline_sync()` is the
  hook for other senders.
- `gis_app_readiness{check}`: 1/0 per check of the last `/readyz`;
  `gis_app_replica_lag_seconds`: the replica's lag then (GIS_APP_REPLICA_DATABASE_URL).

Under gunicorn every worker process has its own counters: set `PROMETHEUS_MULTIPROC_DIR` to
an empty folder writable by the app (systemd unit: `RuntimeDirectory`), and `/metrics` adds up
the workers' files (prometheus_client's multiprocess mode; the pool gauges then are the
answering worker's).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: the endpoints that are exports: (layer from the URL or fixed, format)
EXPORT_ENDPOINTS = {
    "exports.download": None,  # /exports/<name>.<fmt>
    "dashboard.export_ledger": ("ledger", "xlsx"),
    "dashboard.export_monthly": ("monthly", "xlsx"),
    "dashboard.export_ranking": ("ranking", "xlsx"),
}
IMPORT_ENDPOINTS = frozenset({"api.import_sites"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PoolCollector(Collector):
    """The app's database pool, read when scraped."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        db = self.app.extensions.get("gis_db")
        pool = getattr(getattr(db, "engine", None), "pool", None)
        if pool is None or not hasattr(pool, "checkedout"):
            return
        state = GaugeMetricFamily(
            "gis_app_db_pool_connections",
            "connections of this process's database pool, by state",
            labels=["state"],
        )
        state.add_metric(["checked_out"], pool.checkedout())
        state.add_metric(["idle"], pool.checkedin())
        state.add_metric(["overflow"], max(pool.overflow(), 0))
        yield state
        yield GaugeMetricFamily(
            "gis_app_db_pool_size", "configured pool size (GIS_APP_DB_POOL_SIZE)", pool.size()
        )


class Metrics:
    """The app's metrics, in a registry of its own (one per app object)."""

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "gis_app_http_requests",
            "HTTP requests answered, by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "gis_app_http_request_duration_seconds",
            "time to answer a request, by route",
            ["method", "route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.exports = Counter(
            "gis_app_exports",
            "exports served, by layer and format",
            ["layer", "format"],
            registry=r,
        )
        self.imports = Counter(
            "gis_app_imports", "ledger imports, by outcome", ["outcome"], registry=r
        )
        self.offline_sync = Counter(
            "gis_app_offline_sync",
            "write requests with an Idempotency-Key (the offline queue syncing), by outcome",
            ["outcome"],
            registry=r,
        )
        self.readiness = Gauge(
            "gis_app_readiness",
            "1 when the check passed at the last /readyz",
            ["check"],
            registry=r,
        )
        self.replica_lag = Gauge(
            "gis_app_replica_lag_seconds", "replay lag of the replica at the last /readyz",
            registry=r,
        )  # fmt: skip
        self.pool = PoolCollector(app)
        r.register(self.pool)

    def exposition(self) -> bytes:
        folder = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
        if folder:
            from prometheus_client import multiprocess

            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged, path=folder)
            merged.register(self.pool)
            return generate_latest(merged)
        return generate_latest(self.registry)


def metrics() -> Metrics:
    return current_app.extensions["ops_metrics"]


def count_offline_sync(outcome: str) -> None:
    """One offline-queued write reaching the server (`applied`, `replayed`, `refused`)."""
    metrics().offline_sync.labels(outcome).inc()


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _record(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    m = metrics()
    route = request.url_rule.rule if request.url_rule else "<unmatched>"
    status = response.status_code
    m.requests.labels(request.method, route, str(status)).inc()
    m.latency.labels(request.method, route).observe(time.perf_counter() - started)
    endpoint = request.endpoint or ""
    if endpoint in EXPORT_ENDPOINTS and status < 400:
        fixed = EXPORT_ENDPOINTS[endpoint]
        args = request.view_args or {}
        layer, fmt = fixed or (str(args.get("name")), str(args.get("fmt")))
        m.exports.labels(layer, fmt).inc()
    if endpoint in IMPORT_ENDPOINTS and request.method == "POST":
        outcome = "refused" if status >= 400 else ("imported" if status == 201 else "dry_run")
        m.imports.labels(outcome).inc()
    if request.method in UNSAFE and request.headers.get(IDEMPOTENCY_HEADER):
        if status >= 400:
            count_offline_sync("refused")
        elif response.headers.get("Idempotent-Replayed") == "true":
            count_offline_sync("replayed")
        else:
            count_offline_sync("applied")
    return response


def init_app(app: Flask) -> None:
    app.extensions["ops_metrics"] = Metrics(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _record)
