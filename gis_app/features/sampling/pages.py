"""Spot checks (抽查) as Chinese pages under /sampling: the office's draw form, batches, map,
audit, report, quality ranking and inspectors' pool; an inspector's tasks; the published
results. Registered under the feature's blueprint `sampling` (`sampling.pages.*`)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from gis_app.core import codes
from gis_app.core.errors import AppError, NotFound
from gis_app.features.maps import service as map_data
from gis_app.features.photos.service import limits_for, store_for
from gis_app.features.sampling import design, gbt2828, inspectors, service
from gis_app.features.sampling.allocation import ALLOCATIONS
from gis_app.features.sampling.frame import FrameSpec, frame_counts
from gis_app.features.sampling.maps import RESULT_LABELS, batch_map, result_colour
from gis_app.features.sampling.permissions import OFFICE, PUBLISHED, WORKERS
from gis_app.features.sampling.report import XLSX, content_disposition
from gis_app.http.access import OPEN_DATA, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session
from gis_app.http.security import csp_nonce
from layers.site_map import render_map, render_page

bp = Blueprint("pages", __name__, url_prefix="/sampling")
#: the form fields of a draw that describe the frame (the others say how to draw)
FRAME_FIELDS = ("street", "status", "disposition", "flag", "closed_from", "closed_to")


def _district() -> str:
    return current_app.config["DISTRICT_CODE"]


def _form_defaults() -> dict[str, Any]:
    return {"size_mode": "gbt2828", "level": "II", "method": "lpm", "allocation": "proportional"}


def _render_index(form: dict[str, Any], error: AppError | None = None, status: int = 200) -> Any:
    actor = current_actor()
    streets = frame_counts(session(), FrameSpec(), _district(), actor)
    body = render_template(
        "sampling/index.html",
        form=form,
        error=error,
        streets=streets,
        levels=gbt2828.LEVELS,
        methods=design.METHODS,
        size_modes=design.SIZE_MODES,
        allocations=ALLOCATIONS,
        batches=service.list_batches(session(), _district(), actor),
    )
    return body, status


@bp.get("")
@allow(*WORKERS, "bureau_media")
def index() -> Any:
    """The office's draw form and batches; an inspector's tasks; the media centre's list of
    published results."""
    actor = current_actor()
    if actor.role == "inspector":
        return render_template(
            "sampling/tasks.html",
            batches=service.list_batches(session(), _district(), actor),
        )
    if actor.role in OPEN_DATA:
        return render_template(
            "sampling/published.html", batches=service.published_batches(session(), _district())
        )
    return _render_index(_form_defaults())


def _draw_request(data: dict[str, Any]) -> service.DrawRequest:
    return service.DrawRequest(
        size_mode=str(data.get("size_mode") or "gbt2828").strip(),
        size_value=data.get("n"),
        level=data.get("level"),
        method=data.get("method"),
        allocation=data.get("allocation"),
        seed=data.get("seed"),
        title=str(data.get("title") or ""),
    )


@bp.post("")
@allow(*OFFICE)
def draw() -> Any:
    form = request.form
    data = {k: form.get(k, "") for k in ("size_mode", "n", "level", "method", "allocation")}
    data.update(seed=form.get("seed", ""), title=form.get("title", ""))
    frame_args = {key: form.getlist(key) for key in FRAME_FIELDS}
    try:
        spec = FrameSpec.from_object({k: v for k, v in frame_args.items() if v})
        batch = service.create_batch(
            session(), spec, _draw_request(data), current_actor(), _district()
        )
    except AppError as exc:
        discard()
        shown = {**data, **frame_args}
        shown.update({k: form.get(k, "") for k in ("closed_from", "closed_to")})
        return _render_index(shown, exc, exc.status)
    return redirect(url_for("sampling.pages.batch", batch_id=batch.id), 303)


def _batch_map(sites: list[dict[str, Any]]) -> Any:
    """The folium map of these sampled sites over the street boundaries (no personal data)."""
    return batch_map(
        sites,
        map_data.outlines(session(), _district()).streets,
        url_for("static", filename="vendor/leaflet/leaflet.js"),
        url_for("static", filename="vendor/leaflet/leaflet.css"),
    )


@bp.get("/batches/<int:batch_id>")
@allow(*WORKERS)
def batch(batch_id: int) -> str:
    return _batch_page(batch_id)[0]


def _batch_page(batch_id: int, error: AppError | None = None, error_site: int = 0) -> Any:
    doc = service.batch_document(session(), batch_id, current_actor())
    mapped = [s for s in doc["sites"] if s["lon"] is not None]
    parts = render_map(_batch_map(mapped), csp_nonce())
    if not current_actor().is_district:
        body = render_template(
            "sampling/my_batch.html",
            doc=doc,
            parts=parts,
            result_labels=RESULT_LABELS,
            result_colour=result_colour,
            error=error,
            error_site=error_site,
            form=request.form,
        )
        return body, error.status if error else 200
    pool = inspectors.list_inspectors(session(), _district())
    body = render_template(
        "sampling/batch.html",
        doc=doc,
        parts=parts,
        result_labels=RESULT_LABELS,
        result_colour=result_colour,
        active_inspectors=sum(1 for p in pool if p["active"]),
        error=error,
        error_site=error_site,
        form=request.form,
    )
    return body, error.status if error else 200


@bp.get("/batches/<int:batch_id>/map")
@allow(*WORKERS)
def batch_map_page(batch_id: int) -> Response:
    """The batch's map as a page of its own (full screen, printable)."""
    actor = current_actor()
    service.get_batch(session(), batch_id, actor=actor)
    sites = service.batch_sites(session(), batch_id, actor)
    html = render_page(_batch_map(sites), csp_nonce())
    return Response(html, mimetype="text/html")


@bp.post("/batches/<int:batch_id>/assign")
@allow(*OFFICE)
def assign(batch_id: int) -> WerkzeugResponse:
    service.assign_inspectors(
        session(),
        batch_id,
        current_actor(),
        request.form.get("cap", "20"),
        request.form.get("seed"),
    )
    return redirect(url_for("sampling.pages.batch", batch_id=batch_id) + "#sites", 303)


@bp.post("/batches/<int:batch_id>/sites/<int:site_id>/result")
@allow(*WORKERS)
def result(batch_id: int, site_id: int) -> Any:
    uploads = [(f.read(), f.filename) for f in request.files.getlist("photos") if f.filename]
    fields = {k: request.form.get(k, "") for k in ("result", "notes")}
    try:
        service.record_result_with_photos(
            session(),
            store_for(current_app.config),
            limits_for(current_app.config),
            batch_id,
            site_id,
            current_actor(),
            fields,
            uploads,
        )
    except AppError as exc:
        discard()
        if current_actor().is_district and exc.status in (403, 404):
            raise
        return _batch_page(batch_id, exc, site_id)
    return redirect(url_for("sampling.pages.batch", batch_id=batch_id) + f"#site-{site_id}", 303)


@bp.get("/batches/<int:batch_id>/sites/<int:site_id>")
@allow(*WORKERS)
def check_site(batch_id: int, site_id: int) -> str:
    """The sampled site, read-only, for the inspector who checks it: data, photo pair,
    history, and the result form with photos."""
    checked = service.checked_site(session(), batch_id, site_id, current_actor())
    return render_template(
        "sampling/check_site.html",
        batch_id=batch_id,
        c=checked,
        s=checked.site,
        codes=codes,
        result_labels=RESULT_LABELS,
    )


@bp.get("/batches/<int:batch_id>/sites/<int:site_id>/photos/<int:photo_id>/<variant>")
@allow(*WORKERS)
def check_photo(batch_id: int, site_id: int, photo_id: int, variant: str) -> Response:
    """A photo of the sampled site (thumb or file) for its inspector, whatever the street."""
    if variant not in ("thumb", "file"):
        raise NotFound("没有这种照片文件", "variant")
    photo = service.checked_photo(session(), batch_id, site_id, photo_id, current_actor())
    store = store_for(current_app.config)
    if variant == "thumb":
        path, media = store.thumbnail(photo.sha256), "image/jpeg"
    else:
        path, media = store.original(photo.sha256, photo.media_type), photo.media_type
    if not path.exists():
        raise NotFound("照片文件缺失（存储目录中找不到），请联系管理员", "id")
    response = send_file(path, mimetype=media, conditional=True, max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/batches/<int:batch_id>/report.xlsx")
@allow(*OFFICE)
def report(batch_id: int) -> Response:
    batch, data = service.report_xlsx(session(), batch_id, current_actor())
    return Response(
        data, mimetype=XLSX, headers={"Content-Disposition": content_disposition(batch.id)}
    )


@bp.get("/batches/<int:batch_id>/public")
@allow(*PUBLISHED)
def public(batch_id: int) -> str:
    return render_template("sampling/public.html", doc=service.public_summary(session(), batch_id))


@bp.get("/batches/<int:batch_id>/audit")
@allow(*OFFICE)
def audit(batch_id: int) -> str:
    return render_template("sampling/audit.html", audit=service.audit_batch(session(), batch_id))


@bp.get("/quality")
@allow(*OFFICE)
def quality() -> str:
    raw = request.args.get("batch", "")
    batch_id = int(raw) if raw.isdecimal() else None
    return render_template(
        "sampling/quality.html",
        quality=service.quality_by_street(session(), _district(), batch_id),
    )


@bp.get("/inspectors")
@allow(*OFFICE)
def inspector_pool() -> str:
    return render_template(
        "sampling/inspectors.html",
        pool=inspectors.list_inspectors(session(), _district()),
        streets=frame_counts(session(), FrameSpec(), _district(), current_actor()),
    )


@bp.post("/inspectors")
@allow(*OFFICE)
def add_inspector() -> WerkzeugResponse:
    inspectors.add_inspector(
        session(),
        request.form.get("name"),
        request.form.get("street"),
        current_actor(),
        _district(),
        request.form.get("username"),
    )
    return redirect(url_for("sampling.pages.inspector_pool"), 303)


@bp.post("/inspectors/<int:inspector_id>/active")
@allow(*OFFICE)
def toggle_inspector(inspector_id: int) -> WerkzeugResponse:
    active = request.form.get("active") == "1"
    inspectors.set_active(session(), inspector_id, active, current_actor(), _district())
    return redirect(url_for("sampling.pages.inspector_pool"), 303)
