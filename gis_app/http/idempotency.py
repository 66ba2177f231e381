"""`@idempotent`: a request retried with the same `Idempotency-Key` header by the same user
is answered from the stored first answer and not carried out a second time.

The answer is stored in the same transaction as the change it answers for (both are there
or neither); requests with the same key wait on each other (`gis_app.core.idempotency`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, make_response, request

from gis_app.core import idempotency
from gis_app.http.actor import current_actor
from gis_app.http.database import session

F = TypeVar("F", bound=Callable[..., Any])


def request_fingerprint() -> str:
    """What identifies this request: method, path, and its body (a JSON body by its content,
    a form by its fields and the SHA-256 of each file, whatever the multipart boundary)."""
    parts: list[bytes | str] = []
    if request.is_json:
        body = request.get_json(silent=True)
        parts.append(json.dumps(body, sort_keys=True, ensure_ascii=False))
    elif request.files or request.form:
        for name, value in sorted(request.form.items(multi=True)):
            parts.append(f"{name}={value}")
        for name, upload in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            data = upload.stream.read()
            upload.stream.seek(0)
            parts.append(f"{name}:{hashlib.sha256(data).hexdigest()}")
    else:
        parts.append(request.get_data())
    return idempotency.fingerprint(request.method, request.path, *parts)


def _district_of_request() -> str:
    actor = current_actor()
    street = actor.street_code or ""
    return street[:6] if len(street) >= 6 else str(current_app.config["DISTRICT_CODE"])


def idempotent(view: F) -> F:
    """Let the view's request be retried safely with an `Idempotency-Key` header."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = idempotency.check_key(request.headers.get(idempotency.HEADER))
        if key is None:
            return view(*args, **kwargs)
        actor = current_actor()
        print_ = request_fingerprint()
        replay = idempotency.claim(session(), actor, key, print_)
        if replay is not None:
            response = Response(replay.body, status=replay.status_code, mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400:
            idempotency.remember(
                session(),
                actor,
                key,
                print_,
                (request.method, request.path),
                (response.status_code, response.get_data(as_text=True)),
                _district_of_request(),
            )
        return response

    return wrapper  # type: ignore[return-value]
