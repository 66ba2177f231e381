"""One exception tree for the app, one JSON shape, one status table.

Services raise these; the handlers in `web/errors.py` render them as JSON
`{"error", "field", "message", ...}` for the API and as a Chinese page for browsers. The
message names fields in Chinese (core/labels.readable: people read it, on the pages and the
phone's queue); `field` keeps the field's name for programs.
"""

from __future__ import annotations

from typing import Any

from gis_app.core.labels import readable

#: the longest message an error carries: a value echoed in it is cut to an excerpt, so that a
#: huge input (an entity expanded to megabytes, a 10,000-character cell) is not sent back
MAX_MESSAGE = 300
#: an import lists at most this many bad rows (and says how many there are)
MAX_LISTED_ERRORS = 1000


def excerpt(value: object, limit: int = 40) -> str:
    """A short excerpt of an echoed value: its first `limit` characters, then "…"."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, **details: Any) -> None:
        message = readable(excerpt(message, MAX_MESSAGE))  # field names in Chinese
        super().__init__(message)
        self.message = message
        self.field = excerpt(field, 64) if field is not None else None
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
        listed = [
            {**e, "message": excerpt(e.get("message", ""), MAX_MESSAGE)}
            for e in errors[:MAX_LISTED_ERRORS]
        ]
        if len(errors) > MAX_LISTED_ERRORS:
            details["errors_total"] = len(errors)
            message += f"（共 {len(errors)} 处错误，只列出前 {MAX_LISTED_ERRORS} 处）"
        super().__init__(message, None, errors=listed, **details)
        self.errors = listed
