"""The other bureaus' pages: civil affairs, housing (with its "works done" action), police."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gis_app.core.errors import AppError
from gis_app.features.bureaus import service as bureaus
from gis_app.http.access import DISTRICT, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

bp = Blueprint("bureau", __name__, url_prefix="/bureau", template_folder="templates")


@bp.get("/civil-affairs")
@allow(*DISTRICT, "bureau_civil")
def civil_affairs(error: AppError | None = None) -> str:
    rows = bureaus.civil_affairs(session(), current_actor())
    relief: dict[int, list[dict]] = {}
    for r in bureaus.relief_records(session(), current_actor()):
        relief.setdefault(r["site_id"], []).append(r)
    return render_template("bureau/civil.html", rows=rows, relief=relief, error=error)


@bp.post("/civil-affairs/<int:site_id>/relief")
@allow("bureau_civil")
def record_relief(site_id: int) -> Any:
    try:
        bureaus.record_relief(
            session(),
            site_id,
            current_actor(),
            request.form.get("what"),
            request.form.get("given_on"),
        )
    except AppError as exc:
        discard()
        if exc.status in (403, 404):
            raise
        return civil_affairs(exc), exc.status
    flash("救助记录已登记", "workflow")
    return redirect(url_for("bureau.civil_affairs"))


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


POLICE_PAGE_ROLES = (*SITE_STAFF, "bureau_police")


@bp.get("/police/requests")
@allow(*POLICE_PAGE_ROLES)
def police_requests(error: AppError | None = None) -> str:
    return render_template(
        "bureau/police_requests.html",
        rows=bureaus.police_requests(session(), current_actor()),
        error=error,
    )


def _police_action(run: Any, message: str) -> Any:
    try:
        run()
    except AppError as exc:
        discard()
        if exc.status in (403, 404):
            raise
        return police_requests(exc), exc.status
    flash(message, "workflow")
    return redirect(url_for("bureau.police_requests"))


@bp.post("/police/requests")
@allow(*SITE_STAFF)
def request_police() -> Any:
    form = request.form
    return _police_action(
        lambda: bureaus.request_police_by_code(
            session(), form.get("site"), current_actor(), form.get("wanted_on"), form.get("reason")
        ),
        "协助申请已提交，等待公安河东分局受理",
    )


@bp.post("/police/requests/<int:police_request_id>/answer")
@allow(*POLICE_PAGE_ROLES)
def answer_police(police_request_id: int) -> Any:
    form = request.form
    return _police_action(
        lambda: bureaus.answer_police(
            session(), police_request_id, current_actor(), form.get("decision"), form.get("note")
        ),
        "已答复协助申请",
    )


@bp.post("/police/requests/<int:police_request_id>/outcome")
@allow(*POLICE_PAGE_ROLES)
def police_outcome(police_request_id: int) -> Any:
    form = request.form
    return _police_action(
        lambda: bureaus.police_outcome(
            session(),
            police_request_id,
            current_actor(),
            form.get("outcome"),
            form.get("violent") == "1",
            form.get("case_number", ""),
        ),
        "处置结果已记录",
    )
