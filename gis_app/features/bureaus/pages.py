"""The other bureaus' pages: civil affairs, housing (with its "works done" action), police."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gis_app.core.errors import AppError
from gis_app.features.bureaus import service as bureaus
from gis_app.http.access import DISTRICT, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

bp = Blueprint("bureau", __name__, url_prefix="/bureau", template_folder="templates")


@bp.get("/civil-affairs")
@allow(*DISTRICT, "bureau_civil")
def civil_affairs() -> str:
    rows = bureaus.civil_affairs(session(), current_actor())
    return render_template("bureau/civil.html", rows=rows)


@bp.get("/housing")
@allow(*DISTRICT, "bureau_housing")
def housing(error: AppError | None = None) -> str:
    rows = bureaus.housing(session(), current_actor())
    return render_template("bureau/housing.html", rows=rows, error=error)


@bp.post("/housing/<int:site_id>/done")
@allow(*DISTRICT, "bureau_housing")
def housing_done(site_id: int) -> Any:
    try:
        work = bureaus.mark_renovation_done(
            session(),
            site_id,
            current_actor(),
            request.form.get("done_on") or None,
            request.form.get("note", ""),
        )
    except AppError as exc:
        discard()
        if exc.status == 403:
            raise
        return housing(exc), exc.status
    flash(f"已标记改造工程完工（{work.done_on}）", "workflow")
    return redirect(url_for("bureau.housing"))


@bp.get("/police")
@allow(*DISTRICT, "bureau_police")
def police() -> str:
    rows = bureaus.police(session(), current_actor())
    return render_template("bureau/police.html", rows=rows)
