"""The load test's users (locust): agencies' machines on the API and office staff in browsers.

Run by bench/load_bench.py (which prepares the database, the accounts and a token, starts
gunicorn and writes the figures); by hand:

    GIS_LOAD_CONFIG=load.json locust -f bench/locustfile.py --headless -u 50 -r 10 -t 30s \
        --host http://127.0.0.1:8000

`GIS_LOAD_CONFIG` names a JSON file: {"token": bearer token of a district officer,
"logins": [{"username", "password", "street"}], "site_ids": [...], "street_sites": {street
code: [ids]}, "extent": [minlon, minlat, maxlon, maxlat], "summary": path for the figures}.

Two kinds of user (3 : 1):
* ApiUser — `Authorization: Bearer`: the list API (pages of 100), bbox queries (a random
  window of about 1 km), a site's detail, the GeoJSON export of a street, and now and then
  (1 in 14 tasks) an inspection photo upload (multipart, a fresh small JPEG each time);
* BrowserUser — logs in through the form (the district office or a street office), then the
  map page (一张图), a site's page, the list and bbox calls the pages make, and now and then a
  photo upload with the session cookie and its X-CSRF-Token.
Each user waits 1–3 s between tasks (a person reading, a machine polling).

Every response is checked (status, and the body looks like what the endpoint returns); a 5xx
is recorded as "server error <status>". At the end the figures (per endpoint, the reads
together, everything together) go to the summary file.

`python bench/locustfile.py --check HOST` runs every task of both users once against a running
app and exits 1 on any failure (tests/integration/test_load_script.py).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

CONFIG: dict[str, Any] = {}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def config() -> dict[str, Any]:
    if not CONFIG:
        path = os.environ.get("GIS_LOAD_CONFIG")
        if not path:
            raise SystemExit("GIS_LOAD_CONFIG (the JSON file of bench/load_bench.py) is not set")
        CONFIG.update(json.loads(Path(path).read_text(encoding="utf-8")))
    return CONFIG


def jpeg() -> bytes:
    """A small, valid, never repeated JPEG (so that every upload stores a new photo)."""
    from PIL import Image

    img = Image.new("RGB", (80, 60), tuple(random.randrange(256) for _ in range(3)))
    for _ in range(6):
        img.putpixel(
            (random.randrange(80), random.randrange(60)),
            tuple(random.randrange(256) for _ in range(3)),
        )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def bbox_window() -> str:
    """A window of about 1 km × 1 km somewhere in the district."""
    minx, miny, maxx, maxy = config()["extent"]
    w, h = 0.012, 0.009
    x = random.uniform(minx, max(minx, maxx - w))
    y = random.uniform(miny, max(miny, maxy - h))
    return f"{x:.5f},{y:.5f},{x + w:.5f},{y + h:.5f}"


def check(response: Any, expect: tuple[int, ...] = (200,), contains: str | None = None) -> None:
    """Mark the response failed unless it has an expected status (and text)."""
    status = response.status_code
    if status >= 500:
        response.failure(f"server error {status}")
    elif status not in expect:
        response.failure(f"unexpected status {status}: {response.text[:120]!r}")
    elif contains is not None and contains not in response.text[:4000]:
        response.failure(f"unexpected body: {response.text[:120]!r}")
    else:
        response.success()


class SiteUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    sites: tuple[int, ...] = ()

    def site(self) -> int:
        return random.choice(self.sites)

    def list_sites(self) -> None:
        offset = random.randrange(0, max(1, len(config()["site_ids"]) - 100), 100)
        with self.client.get(
            f"/api/v1/sites?limit=100&offset={offset}",
            name="/api/v1/sites?limit=100",
            catch_response=True,
        ) as r:
            check(r, contains="FeatureCollection")

    def bbox(self) -> None:
        with self.client.get(
            f"/api/v1/sites?bbox={bbox_window()}&limit=500",
            name="/api/v1/sites?bbox=",
            catch_response=True,
        ) as r:
            check(r, contains="FeatureCollection")

    def upload(self, headers: dict[str, str] | None = None) -> None:
        with self.client.post(
            f"/api/v1/sites/{self.site()}/photos",
            files={"file": ("load.jpg", jpeg(), "image/jpeg")},
            data={"kind": "inspection"},
            headers=headers or {},
            name="/api/v1/sites/{id}/photos",
            catch_response=True,
        ) as r:
            check(r, expect=(200, 201), contains="sha256")


class ApiUser(SiteUser):
    """An agency's or a district system's machine with a district officer's bearer token."""

    weight = 3

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {config()['token']}"
        self.sites = tuple(config()["site_ids"])

    @task(4)
    def api_list(self) -> None:
        self.list_sites()

    @task(4)
    def api_bbox(self) -> None:
        self.bbox()

    @task(4)
    def api_detail(self) -> None:
        with self.client.get(
            f"/api/v1/sites/{self.site()}", name="/api/v1/sites/{id}", catch_response=True
        ) as r:
            check(r, contains='"Feature"')

    @task(1)
    def api_export(self) -> None:
        street = random.choice(list(config()["street_sites"]))
        with self.client.get(
            f"/api/v1/exports/sites.geojson?street={street}",
            name="/api/v1/exports/sites.geojson?street=",
            catch_response=True,
        ) as r:
            check(r, contains="FeatureCollection")

    @task(1)
    def api_upload(self) -> None:
        self.upload()


class BrowserUser(SiteUser):
    """Office staff in a browser: the district office or one street's office, logged in."""

    weight = 1
    csrf = ""

    def on_start(self) -> None:
        account = random.choice(config()["logins"])
        street = account.get("street")
        self.sites = tuple(config()["street_sites"][street] if street else config()["site_ids"])
        form = self.client.get("/login", name="/login")
        token = CSRF.search(form.text)
        with self.client.post(
            "/login",
            data={
                "username": account["username"],
                "password": account["password"],
                "csrf_token": token.group(1) if token else "",
            },
            name="/login",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            check(r, expect=(302, 303))

    @task(3)
    def map_page(self) -> None:
        with self.client.get(
            "/map",
            name="/map",
            headers={"Accept-Encoding": "gzip"},
            allow_redirects=False,  # to the login page: a failure
            catch_response=True,
        ) as r:
            check(r, contains="<html")
            found = CSRF.search(r.text)
            if found:
                self.csrf = found.group(1)

    @task(3)
    def site_page(self) -> None:
        with self.client.get(
            f"/sites/{self.site()}",
            name="/sites/{id}",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            check(r, contains="<html")
            found = CSRF.search(r.text)
            if found:
                self.csrf = found.group(1)

    @task(2)
    def page_list(self) -> None:
        self.list_sites()

    @task(2)
    def page_bbox(self) -> None:
        self.bbox()

    @task(1)
    def page_upload(self) -> None:
        if not self.csrf:
            self.site_page()
        self.upload({"X-CSRF-Token": self.csrf})


# ---------------------------------------------------------------- the figures


def _entry(e: Any) -> dict[str, Any]:
    return {
        "method": e.method,
        "name": e.name,
        "requests": e.num_requests,
        "failures": e.num_failures,
        "rps": round(e.total_rps, 2),
        "p50": e.get_response_time_percentile(0.5),
        "p95": e.get_response_time_percentile(0.95),
        "p99": e.get_response_time_percentile(0.99),
        "max": round(e.max_response_time or 0),
    }


@events.quitting.add_listener
def _write_summary(environment: Any, **_kw: Any) -> None:
    """Per endpoint, the reads (every GET but the login form) together, and all together;
    server errors per endpoint from the failures recorded as "server error"."""
    from locust.stats import StatsEntry

    path = config().get("summary")
    if not path or environment.stats is None:
        return
    stats = environment.stats
    entries = sorted(stats.entries.values(), key=lambda e: (e.method != "GET", e.name))
    reads = StatsEntry(stats, "reads (every GET)", "GET")
    for e in entries:
        if e.method == "GET" and e.name != "/login":
            reads.extend(e)
    server: dict[str, int] = {}
    for err in stats.errors.values():
        if "server error" in str(err.error):
            server[err.name] = server.get(err.name, 0) + err.occurrences
    rows = [_entry(e) | {"server_errors": server.get(e.name, 0)} for e in entries]
    out = {
        "endpoints": rows,
        "reads": _entry(reads)
        | {"server_errors": sum(r["server_errors"] for r in rows if r["method"] == "GET")},
        "total": _entry(stats.total) | {"server_errors": sum(server.values())},
        "errors": [
            {"name": e.name, "error": str(e.error), "occurrences": e.occurrences}
            for e in stats.errors.values()
        ],
    }
    Path(path).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


# ---------------------------------------------------------------- each task once


def check_tasks(host: str) -> int:
    """Every task of both users once, in order, against `host`; 1 if any request failed."""
    from locust.env import Environment

    env = Environment(user_classes=[ApiUser, BrowserUser], host=host, events=events)
    failures: list[str] = []
    done: list[str] = []

    def on_request(request_type: str, name: str, exception: Any = None, **_kw: Any) -> None:
        done.append(f"{request_type} {name}")
        if exception is not None:
            failures.append(f"{request_type} {name}: {exception}")

    env.events.request.add_listener(on_request)
    started = time.perf_counter()
    for cls in (ApiUser, BrowserUser):
        cls.host = host
        user = cls(env)
        user.on_start()
        for fn in dict.fromkeys(cls.tasks):  # each task once (weights repeat them)
            fn(user)
    print(json.dumps({"requests": done, "failures": failures}, ensure_ascii=False))
    print(f"{len(done)} requests in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 1 if failures or not done else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check_tasks(sys.argv[2]))
    print("usage: python bench/locustfile.py --check HOST (or run it with locust -f)")
    sys.exit(2)
