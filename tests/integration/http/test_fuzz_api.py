"""The JSON API fuzzed from its own OpenAPI document (schemathesis): every operation the
document lists, with valid and invalid generated requests, through a real served app, as a
district officer and as a street officer (bearer tokens). No answer may be a server error or
take longer than the per-request timeout; the status code, content type and body must be what
the document declares.

Counts (requests sent, failures) are printed at the end: `pytest -s` shows them.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.features.ledger.service import create_site
from tests.support.accounts import Accounts
from tests.support.live import serve_app
from tests.support.sites import site_payload
from tests.support.workflow import DZG

pytestmark = pytest.mark.slow

#: generated requests per operation: (mode, token, examples)
PLAN = (
    (GenerationMode.POSITIVE, "district", 32),
    (GenerationMode.NEGATIVE, "district", 20),
    (GenerationMode.POSITIVE, "street", 10),
)
#: no request may take longer than this (seconds)
TIMEOUT = 20
#: operations that write files of every format: fewer examples (GDAL writes are slow)
SLOW_PREFIXES = ("/exports/",)
#: the minimum the run must reach
MIN_REQUESTS = 3000
#: the code of a site of another street than the street token's
OTHER_STREET_CODE = "FZ-ZSM-0"
#: what every string of a request gets in the hostile run: a lone surrogate (JSON "\\udc80"),
#: NUL, CR/LF, other control characters, bidi and zero-width characters, a formula
HOSTILE = (
    "\udc80",
    "\ud800x",
    "\x00",
    "\r\nX-Injected: 1",
    "\x01\x1b\x7f\x08",
    "\u202e\u200b\ufeff",
    "=HYPERLINK(1)",
)


class Counting:
    """WSGI middleware counting requests and server errors."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.requests = 0
        self.server_errors: Counter[str] = Counter()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        def counting_start(status: str, headers: list, exc_info: Any = None) -> Any:
            with self.lock:
                self.requests += 1
                if status.startswith("5"):
                    self.server_errors[f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"] += 1
            return start_response(status, headers, exc_info)

        return self.app(environ, counting_start)


@pytest.fixture(scope="module")
def served(database_url, engine, demo_streets):
    """A served app with a few committed sites and two tokens; cleared afterwards."""
    counter: dict[str, Counting] = {}

    def wrap(app: Any) -> Counting:
        counter["c"] = Counting(app)
        return counter["c"]

    with engine.begin() as conn:
        accounts = Accounts(conn)
        tokens = {
            "district": accounts.token("fuzz.office", "district_officer"),
            "street": accounts.token("fuzz.dazhigu", "street_officer", DZG),
        }
    with Session(engine) as s, s.begin():
        office = Actor("fuzz.office", "district_officer")
        for i in range(8):
            create_site(s, site_payload(code=f"FZ-{i:03d}", lon=117.2381 + i * 1e-4), office)
        # a site of another street (中山门): its code is what the street's requests collide with
        create_site(s, site_payload(code=OTHER_STREET_CODE, lon=117.2620, lat=39.1010), office)
    with serve_app(database_url, engine, wrap) as url:
        yield url, tokens, counter["c"]


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def test_fuzz_every_operation_of_the_openapi_document(served):
    url, tokens, counter = served
    doc = requests.get(
        f"{url}/api/v1/openapi.json",
        headers={"Authorization": f"Bearer {tokens['district']}"},
        timeout=TIMEOUT,
    ).json()
    schema = schemathesis.openapi.from_dict(doc)
    checks = _checks()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 45
    sent = 0
    for operation in operations:
        slow = operation.path.startswith(SLOW_PREFIXES)
        for mode, who, examples in PLAN:
            sent += _fuzz(
                operation,
                mode,
                who,
                tokens[who],
                max(2, examples // 6) if slow else examples,
                f"{url}/api/v1",
                checks,
                failures,
            )

    print(
        f"\nfuzz: {len(operations)} operations, {sent} generated requests, "
        f"{counter.requests} served, server errors {sum(counter.server_errors.values())}"
        f" {dict(counter.server_errors)}"
    )
    assert not counter.server_errors, counter.server_errors
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures))[:60])
    assert counter.requests >= MIN_REQUESTS


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    who: str,
    token: str,
    examples: int,
    base_url: str,
    checks: list[Any],
    failures: list[str],
) -> int:
    """Send `examples` generated requests for one operation; failures are appended."""
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=TIMEOUT)
        except requests.Timeout:
            failures.append(f"{operation.label} [{who}] hung: {case.as_curl_command()}")
            return
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except BaseExceptionGroup as group:  # schemathesis' FailureGroup: the run goes on
            first = [" ".join(str(f).split())[:300] for f in group.exceptions]
            failures.append(
                f"{operation.label} [{who}, {mode.value}] {response.status_code}: "
                + " | ".join(first)
            )

    run()
    return sent


def _hostile(value: Any, extra: str) -> Any:
    """Every string of a JSON value (keys' values, list items) with `extra` appended; every
    `code` set to another street's code."""
    if isinstance(value, dict):
        return {
            k: OTHER_STREET_CODE if k == "code" and extra == "collide" else _hostile(v, extra)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hostile(v, extra) for v in value]
    if isinstance(value, str) and extra != "collide":
        return value + extra
    return value


def _has_string(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_string(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_string(v) for v in value)
    return isinstance(value, str)


def test_fuzz_hostile_strings_and_colliding_codes(served):
    """Valid generated requests of every operation, then each again with every string made
    hostile (HOSTILE) and every code set to another street's: no server error; a body string
    no text can hold (a lone surrogate, NUL) is a 422 naming its field."""
    url, tokens, counter = served
    doc = requests.get(
        f"{url}/api/v1/openapi.json",
        headers={"Authorization": f"Bearer {tokens['district']}"},
        timeout=TIMEOUT,
    ).json()
    schema = schemathesis.openapi.from_dict(doc)
    before_requests = counter.requests
    before_errors = sum(counter.server_errors.values())
    wrong: list[str] = []
    sent = 0
    for operation in (result.ok() for result in schema.get_all_operations()):
        if operation.path.startswith(SLOW_PREFIXES):
            continue
        for who in ("district", "street"):
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            cases: list[Any] = []

            @settings(
                max_examples=3,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
            def collect(case: Any) -> None:
                cases.append(case)  # noqa: B023 (run at once, in this iteration)

            collect()
            for case in cases:
                body, query = case.body, case.query
                path = f"{url}/api/v1{case.formatted_path}"
                json_body = isinstance(body, dict | list) and "json" in (case.media_type or "")
                for extra in (*HOSTILE, "collide"):
                    params = query
                    if isinstance(query, dict) and extra not in ("\udc80", "\ud800x"):
                        params = _hostile(query, extra)  # a URL holds no lone surrogate
                    kwargs: dict[str, Any] = {"params": params, "headers": dict(headers)}
                    if json_body:
                        # json.dumps escapes a lone surrogate as \udc80: valid JSON text
                        kwargs["data"] = json.dumps(_hostile(body, extra)).encode()
                        kwargs["headers"]["Content-Type"] = case.media_type
                    elif body is not None:
                        continue  # multipart bodies: the generated run covers them
                    try:
                        response = requests.request(case.method, path, timeout=TIMEOUT, **kwargs)
                    except requests.Timeout:
                        wrong.append(f"{operation.label} [{who}] hung on {extra!r}")
                        continue
                    sent += 1
                    surrogate = extra in ("\udc80", "\ud800x", "\x00")
                    if response.status_code >= 500:
                        wrong.append(f"{operation.label} [{who}] {extra!r}: {response.status_code}")
                    elif (
                        surrogate
                        and json_body
                        and isinstance(body, dict)
                        and _has_string(body)
                        and response.status_code not in (401, 403, 404, 405, 422)
                    ):  # refused by access before the body is read, or the 422 naming it
                        wrong.append(
                            f"{operation.label} [{who}] {extra!r} in the body: "
                            f"{response.status_code}, not 422 (nor a refusal by access)"
                        )
    errors = sum(counter.server_errors.values()) - before_errors
    print(
        f"\nhostile fuzz: {sent} requests ({counter.requests - before_requests} served), "
        f"server errors {errors} {dict(counter.server_errors)}"
    )
    assert not wrong, "\n".join(wrong[:60])
    assert errors == 0
    assert sent >= 500


def test_the_document_lists_every_route_of_the_api(app):
    """The document is generated from the routes: every /api/v1 route and method has a
    declared operation and is in the document (so the fuzzer reaches it), the document has
    no operation without a route, and every operation declares the errors any request can
    get."""
    from gis_app.http.openapi import PREFIX, api_document
    from gis_app.http.schemas import operation_of

    with app.test_request_context():
        doc = api_document(app, "http://localhost/api/v1")
    routes, undeclared = set(), []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len(PREFIX) :]) or "/"
        if operation_of(app.view_functions[rule.endpoint]) is None:
            undeclared.append(rule.endpoint)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.add(f"{method} {path}")
    documented = {f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item}
    assert not undeclared
    assert routes - documented == set()
    assert documented - routes == set()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert {"401", "403", "503"} <= set(op["responses"]), f"{method} {path}"
            if op.get("requestBody"):
                assert {"400", "413", "422"} <= set(op["responses"]), f"{method} {path}"
