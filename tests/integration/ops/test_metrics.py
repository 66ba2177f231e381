"""/metrics scraped like Prometheus does: requests by route and status, latency histograms,
the database pool, exports, imports and offline syncs (Idempotency-Key); only with the token,
or from the machine itself when no token is set."""

from __future__ import annotations

import io
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes


def scrape(client, **kw) -> dict[tuple[str, tuple], float]:
    r = client.get("/metrics", **kw)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(r.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_exports_imports_and_offline_syncs_are_counted(client, auth):
    office = auth.headers("指标.区级", "district_officer")
    street = auth.headers("指标.街道", "street_officer", DZG)
    before = scrape(client)

    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    export = client.get("/exports/streets.geojson", headers=office)
    assert export.status_code == 200
    created = client.post("/api/v1/sites", json=site_payload(code="M-0001"), headers=street)
    assert created.status_code == 201, created.get_json()
    site_id = created.get_json()["id"]
    upload = {"kind": "before"}
    key = {"Idempotency-Key": "metrics-test-key-1"}
    for _ in range(2):
        r = client.post(
            f"/api/v1/sites/{site_id}/photos",
            data={**upload, "file": (io.BytesIO(image_bytes()), "p.jpg")},
            headers={**street, **key},
        )
        assert r.status_code == 201, r.get_json()
    csv = "编号,地址\n".encode()
    imported = client.post(
        "/api/v1/sites/import?dry_run=1",
        data={"file": (io.BytesIO(csv), "sites.csv")},
        headers=office,
    )

    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("gis_app_http_requests_total", method="GET", route="/healthz", status="200") == 1
    assert grew("gis_app_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert (
        grew(
            "gis_app_http_requests_total",
            method="POST",
            route="/api/v1/sites/<int:site_id>/photos",
            status="201",
        )
        == 2
    )
    assert grew("gis_app_http_request_duration_seconds_count", method="GET", route="/healthz") == 1
    assert (
        grew(
            "gis_app_http_request_duration_seconds_bucket",
            method="GET",
            route="/healthz",
            le="+Inf",
        )
        == 1
    )
    assert grew("gis_app_exports_total", layer="streets", format="geojson") == 1
    outcome = "refused" if imported.status_code >= 400 else "dry_run"
    assert grew("gis_app_imports_total", outcome=outcome) == 1
    assert grew("gis_app_offline_sync_total", outcome="applied") == 1
    assert grew("gis_app_offline_sync_total", outcome="replayed") == 1
    assert value(after, "gis_app_db_pool_size") >= 1
    assert ("gis_app_db_pool_connections", (("state", "checked_out"),)) in after


def test_readiness_gauge_follows_the_last_probe(make_app, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    client = make_app(PHOTO_DIR=str(blocker / "photos")).test_client()
    assert client.get("/readyz").status_code == 503
    samples = scrape(client)
    assert value(samples, "gis_app_readiness", check="photos") == 0
    assert value(samples, "gis_app_readiness", check="database") == 1


def test_without_a_token_only_this_machine_reads_metrics(make_app):
    client = make_app().test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert far.status_code == 403
    assert "GIS_APP_METRICS_TOKEN" in far.get_json()["error"]


def test_with_a_token_it_is_required_even_locally(make_app):
    client = make_app(METRICS_TOKEN="s3cret-scrape").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get(
        "/metrics",
        headers={"Authorization": "Bearer s3cret-scrape"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert ok.status_code == 200
    assert re.search(r"^gis_app_http_requests_total\{", ok.get_data(as_text=True), re.M)


WORKER_SCRIPT = """
import sys
from gis_app import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "APP_DATABASE_URL": sys.argv[2], "TESTING": True})
client = app.test_client()
for _ in range(int(sys.argv[3])):
    assert client.get("/healthz").status_code == 200
if len(sys.argv) > 4:
    sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


@pytest.mark.slow
def test_several_worker_processes_add_up_their_counters(database_url, tmp_path):
    """PROMETHEUS_MULTIPROC_DIR (gunicorn's workers): /metrics of any process counts all."""
    import os
    import subprocess
    import sys

    from gis_app.settings import app_database_url

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "GIS_APP_LOG_FORMAT": "text"}
    args = [database_url, app_database_url(database_url)]
    for n in ("3", "4"):
        done = subprocess.run(
            [sys.executable, "-c", WORKER_SCRIPT, *args, n], env=env, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    last = subprocess.run(
        [sys.executable, "-c", WORKER_SCRIPT, *args, "2", "scrape"], env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert last.returncode == 0, last.stderr
    samples = {}
    for family in text_string_to_metric_families(last.stdout):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    healthz = value(
        samples, "gis_app_http_requests_total", method="GET", route="/healthz", status="200"
    )
    assert healthz == 3 + 4 + 2
    assert value(samples, "gis_app_db_pool_size") >= 1
