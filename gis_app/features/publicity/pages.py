"""The pages: the media centre's coverage (and the public list of the published ones), the
streets' publicity work, and the office's table of it per street and month."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select

from gis_app.core import clock, codes
from gis_app.core.errors import AppError, NotFound
from gis_app.features.photos.service import limits_for, store_for
from gis_app.features.publicity import service
from gis_app.features.publicity.scope import as_public
from gis_app.features.streets.models import Street
from gis_app.http.access import DISTRICT, SITE_STAFF, STREET, allow, public
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

bp = Blueprint("publicity", __name__, template_folder="templates")
COVERAGE_READERS = (*SITE_STAFF, "bureau_media")
coverage, work = service.coverage, service.work


def _streets() -> list[tuple[str, str]]:
    return [
        tuple(r) for r in session().execute(select(Street.code, Street.name).order_by(Street.code))
    ]


def _refused(exc: AppError, page: Any) -> Any:
    """A refused form: 403/404 as such; anything else the page again, with the reason and
    the input kept, nothing written."""
    discard()
    if exc.status in (403, 404):
        raise exc
    return page(exc), exc.status


# ---------------------------------------------------------------- coverage


def _coverage_form() -> dict[str, Any]:
    form = request.form
    return {
        "kind": form.get("kind"),
        "published_on": form.get("published_on"),
        "outlet": form.get("outlet"),
        "title": form.get("title"),
        "url": form.get("url"),
        "summary": form.get("summary", ""),
        "published": form.get("published") or "0",
        "sites": form.get("sites", ""),
        "streets": form.getlist("streets"),
    }


@bp.get("/coverage")
@allow(*COVERAGE_READERS)
def coverage_list(error: AppError | None = None) -> str:
    actor = current_actor()
    street = request.args.get("street") if actor.is_district else None
    return render_template(
        "publicity/coverage_list.html",
        rows=coverage.listing(session(), actor, street=street or None),
        streets=_streets(),
        street=street or "",
        kinds=codes.COVERAGE_KINDS,
        form=_coverage_form() if error else {"published_on": clock.today().isoformat()},
        error=error,
    )


@bp.post("/coverage")
@allow("bureau_media")
def coverage_create() -> Any:
    try:
        record = coverage.create(session(), current_actor(), _coverage_form())
    except AppError as exc:
        return _refused(exc, coverage_list)
    flash(f"媒体报道已登记：{record.title}", "workflow")
    return redirect(url_for("publicity.coverage_detail", coverage_id=record.id))


@bp.get("/coverage/<int:coverage_id>")
@allow(*COVERAGE_READERS)
def coverage_detail(coverage_id: int, error: AppError | None = None) -> str:
    doc = coverage.one(session(), current_actor(), coverage_id)
    form = _coverage_form() if error else {**doc, "sites": " ".join(doc["sites"])}
    return render_template(
        "publicity/coverage.html",
        doc=doc,
        streets=_streets(),
        kinds=codes.COVERAGE_KINDS,
        form=form,
        error=error,
    )


@bp.post("/coverage/<int:coverage_id>")
@allow("bureau_media")
def coverage_update(coverage_id: int) -> Any:
    try:
        coverage.update(session(), current_actor(), coverage_id, _coverage_form())
    except AppError as exc:
        return _refused(exc, lambda e: coverage_detail(coverage_id, e))
    flash("媒体报道已修改", "workflow")
    return redirect(url_for("publicity.coverage_detail", coverage_id=coverage_id))


@bp.get("/public/coverage")
@public
def public_coverage() -> str:
    with as_public():
        rows = coverage.public(session())
    return render_template("publicity/public_coverage.html", rows=rows)


# ---------------------------------------------------------------- publicity work


def _work_form() -> dict[str, Any]:
    form = request.form
    return {
        k: form.get(k) for k in ("kind", "content", "place", "done_on", "quantity", "lon", "lat")
    }


def _upload() -> service.Upload | None:
    file = request.files.get("photo")
    if file is None or not file.filename:
        return None
    return service.Upload(file.read(), file.filename)


@bp.get("/publicity")
@allow(*SITE_STAFF)
def publicity_list(error: AppError | None = None) -> str:
    actor = current_actor()
    args = request.args
    street = args.get("street") if actor.is_district else None
    month, kind = args.get("month") or None, args.get("kind") or None
    try:
        rows = work.listing(session(), actor, street or None, month, kind)
    except AppError as exc:
        if exc.status != 422:
            raise
        error, rows = exc, []
    return render_template(
        "publicity/publicity_list.html",
        rows=rows,
        streets=_streets(),
        filters={"street": street or "", "month": month or "", "kind": kind or ""},
        kinds=codes.PUBLICITY_KINDS,
        units=codes.PUBLICITY_UNITS,
        form=_work_form() if error and request.method == "POST" else {},
        error=error,
    )


@bp.post("/publicity")
@allow(*STREET)
def publicity_create() -> Any:
    config = current_app.config
    try:
        record = work.create(
            session(),
            current_actor(),
            _work_form(),
            store_for(config),
            limits_for(config),
            _upload(),
        )
    except AppError as exc:
        return _refused(exc, publicity_list)
    flash("宣传工作已登记", "workflow")
    return redirect(url_for("publicity.publicity_detail", publicity_id=record.id))


@bp.get("/publicity/<int:publicity_id>")
@allow(*SITE_STAFF)
def publicity_detail(publicity_id: int, error: AppError | None = None) -> str:
    doc = work.one(session(), current_actor(), publicity_id)
    return render_template(
        "publicity/publicity.html",
        doc=doc,
        kinds=codes.PUBLICITY_KINDS,
        units=codes.PUBLICITY_UNITS,
        form=_work_form() if error else doc,
        error=error,
    )


@bp.post("/publicity/<int:publicity_id>")
@allow(*STREET)
def publicity_update(publicity_id: int) -> Any:
    config = current_app.config
    try:
        work.update(
            session(),
            current_actor(),
            publicity_id,
            _work_form(),
            store_for(config),
            limits_for(config),
            _upload(),
        )
    except AppError as exc:
        return _refused(exc, lambda e: publicity_detail(publicity_id, e))
    flash("宣传工作记录已修改", "workflow")
    return redirect(url_for("publicity.publicity_detail", publicity_id=publicity_id))


def _photo(publicity_id: int, thumb: bool) -> Response:
    path, media_type = work.photo_file(
        session(), current_actor(), publicity_id, store_for(current_app.config), thumb
    )
    if not path.exists():
        raise NotFound("照片文件不在照片存储中", "publicity_id")
    response = send_file(path, mimetype=media_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/publicity/<int:publicity_id>/photo")
@allow(*SITE_STAFF)
def publicity_photo(publicity_id: int) -> Response:
    return _photo(publicity_id, thumb=False)


@bp.get("/publicity/<int:publicity_id>/thumb")
@allow(*SITE_STAFF)
def publicity_thumb(publicity_id: int) -> Response:
    return _photo(publicity_id, thumb=True)


@bp.get("/publicity/monthly")
@allow(*DISTRICT)
def publicity_monthly() -> Any:
    try:
        month = work.parse_month(request.args.get("month"))
    except AppError as exc:
        month = clock.today().strftime("%Y-%m")
        return _monthly_page(month, exc), exc.status
    return _monthly_page(month, None)


def _monthly_page(month: str, error: AppError | None) -> str:
    actor = current_actor()
    return render_template(
        "publicity/monthly.html",
        doc=service.monthly.table(session(), actor, month),
        year=service.monthly.year_overview(session(), actor, int(month[:4])),
        error=error,
    )


@bp.get("/publicity/monthly.csv")
@allow(*DISTRICT)
def publicity_monthly_csv() -> Response:
    month = work.parse_month(request.args.get("month"))
    data = service.monthly.as_csv(service.monthly.table(session(), current_actor(), month))
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="publicity-{month}.csv"'},
    )
