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


def local_next(default: str) -> str:
    """The form's `next` when it is a path of this site, else `default`."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def site_form(site_id: int, action: Callable[[], str]) -> Any:
    """Run a form action on a site: flash its message and go back (`next`, else the site's
    workflow page); when refused, roll back and show the workflow page with the reason."""
    try:
        message = action()
    except AppError as exc:
        discard()
        return render_template(SITE_FORM_PAGE, site_id=site_id, error=exc), exc.status
    flash(message, SITE_FLASH)
    return redirect(local_next(url_for("workflow.site_page", site_id=site_id)))
