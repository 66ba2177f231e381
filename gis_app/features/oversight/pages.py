"""通报 on the pages: the list (per street), the issue form from the lagging list, the
printable A4 notice with the street's reply form, and the .docx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from gis_app.core import clock
from gis_app.core.errors import AppError
from gis_app.features.oversight import service as notices
from gis_app.features.oversight.documents import notice_docx
from gis_app.features.streets import service as streets
from gis_app.http.access import DISTRICT, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

bp = Blueprint("oversight", __name__, template_folder="templates")
FLASH = "workflow"
#: the reply due date the form proposes
DEFAULT_REPLY_DAYS = 10


@bp.get("/notices")
@allow(*SITE_STAFF)
def notice_list() -> str:
    street = (request.args.get("street") or "").strip() or None
    rows = notices.list_notices(session(), current_actor(), street)
    return render_template(
        "oversight/notices.html",
        rows=rows,
        street=street,
        choices=streets.street_choices(session()) if current_actor().is_district else [],
    )


@bp.get("/notices/new")
@allow(*DISTRICT)
def notice_form(error: AppError | None = None) -> str:
    today = clock.today()
    form = request.form if request.method == "POST" else None
    return render_template(
        "oversight/notice_form.html",
        candidates=notices.candidates(session(), today),
        reply_due=(form.get("reply_due") if form else None)
        or (today + timedelta(days=DEFAULT_REPLY_DAYS)).isoformat(),
        form=form,
        error=error,
    )


@bp.post("/notices")
@allow(*DISTRICT)
def issue_notice() -> Any:
    codes = request.form.getlist("street")
    named = [{"street": c, "reason": request.form.get(f"reason_{c}", "")} for c in codes]
    try:
        notice = notices.issue(
            session(),
            current_actor(),
            request.form.get("title"),
            request.form.get("reply_due"),
            named,
            request.form.get("body", ""),
        )
    except AppError as exc:
        discard()
        return notice_form(exc), exc.status
    flash(f"已签发通报 {notice.number}", FLASH)
    return redirect(url_for("oversight.notice_page", notice_id=notice.id))


@bp.get("/notices/<int:notice_id>")
@allow(*SITE_STAFF)
def notice_page(notice_id: int, error: AppError | None = None) -> str:
    view = notices.notice_view(session(), notice_id, current_actor())
    return render_template(
        "oversight/notice.html",
        n=view,
        error=error,
        reply_states=notices.REPLY_STATES,
        may_reply=current_actor().role == "street_officer",
    )


@bp.post("/notices/<int:notice_id>/reply")
@allow(*SITE_STAFF)
def reply_notice(notice_id: int) -> Any:
    try:
        row = notices.reply(session(), notice_id, current_actor(), request.form.get("measures"))
    except AppError as exc:
        discard()
        if exc.status in (403, 404):
            raise
        return notice_page(notice_id, exc), exc.status
    flash("整改措施已报送" + ("（已超过回复期限，记为逾期回复）" if row.late else ""), FLASH)
    return redirect(url_for("oversight.notice_page", notice_id=notice_id))


@bp.get("/notices/<int:notice_id>.docx")
@allow(*SITE_STAFF)
def notice_document(notice_id: int) -> Response:
    view = notices.notice_view(session(), notice_id, current_actor())
    data = notice_docx(view, current_app.config["DISTRICT_NAME"])
    response = Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=notice-{view['id']}.docx; filename*=UTF-8''notice-{view['id']}.docx"
    )
    return response
