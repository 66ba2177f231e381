"""Form actions of the pages: do the work, then go back with a message, or show the page
again with the reason under the status the API would give (403, 404, 409, 422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for

from gis_app.core.errors import AppError
from gis_app.http.database import discard

#: the page a site's form actions fall back to (the workflow feature's template)
SITE_FORM_PAGE = "site/workflow.html"
#: flash category of the site's forms (shown by the page they return to)
SITE_FLASH = "workflow"


def local_path(raw: str | None, default: str) -> str:
    """`raw` when it is a path of this site (no scheme, no host, no control character or
    backslash: a CR/LF would split the Location header), else `default`."""
    target = raw or ""
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not parts.scheme
        and not parts.netloc
        and "\\" not in target
        and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)
    ):
        return target
    return default


def local_next(default: str) -> str:
    """The form's `next` when it is a path of this site, else `default`."""
    return local_path(request.form.get("next"), default)


def site_form(site_id: int, action: Callable[[], str]) -> Any:
    """Run a form action on a site: flash its message and go back (`next`, else the site's
    workflow page); when refused, roll back and show the workflow page with the reason.
    Where to go is read before the action runs: nothing in `next` can fail after it."""
    target = local_next(url_for("workflow.site_page", site_id=site_id))
    try:
        message = action()
    except AppError as exc:
        discard()
        return render_template(SITE_FORM_PAGE, site_id=site_id, error=exc), exc.status
    flash(message, SITE_FLASH)
    return redirect(target)
