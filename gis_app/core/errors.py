"""One exception tree for the app, one JSON shape, one status table.

Services raise these; the handlers in `web/errors.py` render them as JSON
`{"error", "field", "message", ...}` for the API and as a Chinese page for browsers.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "field": self.field, "message": self.message}
        body.update(self.details)
        return body


class BadRequest(AppError):
    """The request cannot be read at all (malformed JSON, wrong content type)."""

    status = 400
    code = "bad_request"


class ValidationError(AppError):
    """A field's value is missing or not acceptable."""

    status = 422
    code = "invalid"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Unauthorized(AppError):
    """Nobody is logged in (or the token is not valid)."""

    status = 401
    code = "unauthorized"


class TooManyAttempts(AppError):
    """Too many failed logins: wait (`retry_after` seconds)."""

    status = 429
    code = "too_many_attempts"


class Forbidden(AppError):
    """The acting user's role may not do this."""

    status = 403
    code = "forbidden"


class Conflict(AppError):
    """Stale version, duplicate code, forbidden state change."""

    status = 409
    code = "conflict"


class ImportRejected(AppError):
    """A file import refused as a whole; `errors` lists every bad row."""

    status = 422
    code = "import_rejected"

    def __init__(self, message: str, errors: list[dict[str, Any]], **details: Any) -> None:
        super().__init__(message, None, errors=errors, **details)
        self.errors = errors
