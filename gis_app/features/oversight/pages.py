"""通报 on the pages: the list (per street), the issue form from the lagging list, the
printable A4 notice with the street's reply form, and the .docx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
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


def init_app(app: Flask) -> None:
    @app.context_processor
    def oversight_helpers() -> dict[str, Any]:
        def street_oversight(code: str) -> dict[str, Any]:
            """A street's open corrections and 通报 awaiting its reply (its dashboard)."""
            actor = current_actor()
            return {
                "corrections": notices.open_corrections(session(), actor, code),
                "notices": [
                    r
                    for r in notices.awaiting_replies(session(), actor)
                    if r["street_code"] == code
                ],
            }

        return {"street_oversight": street_oversight}


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


# ---------------------------------------------------------------- 专项督查

FORM_ROWS = 6


@bp.get("/inspections")
@allow(*SITE_STAFF)
def inspection_list() -> str:
    return render_template(
        "oversight/inspections.html", rows=notices.list_inspections(session(), current_actor())
    )


@bp.get("/inspections/new")
@allow(*DISTRICT)
def inspection_form(error: AppError | None = None) -> str:
    return render_template(
        "oversight/inspection_form.html",
        choices=streets.street_choices(session()),
        form=request.form if request.method == "POST" else None,
        rows=FORM_ROWS,
        error=error,
    )


@bp.post("/inspections")
@allow(*DISTRICT)
def create_inspection() -> Any:
    form = request.form
    findings = [
        {
            "site": site,
            "finding": finding,
            "correction": correction,
            "due_date": due,
        }
        for site, finding, correction, due in zip(
            form.getlist("site"),
            form.getlist("finding"),
            form.getlist("correction"),
            form.getlist("due_date"),
            strict=False,
        )
        if site.strip() or finding.strip() or correction.strip()
    ]
    try:
        ins = notices.create_inspection(
            session(),
            current_actor(),
            form.get("held_on"),
            form.get("title"),
            form.getlist("street"),
            findings,
            form.get("note", ""),
        )
    except AppError as exc:
        discard()
        return inspection_form(exc), exc.status
    flash(f"已记录专项督查（{ins.held_on}）", FLASH)
    return redirect(url_for("oversight.inspection_page", inspection_id=ins.id))


@bp.get("/inspections/<int:inspection_id>")
@allow(*SITE_STAFF)
def inspection_page(inspection_id: int, error: AppError | None = None) -> str:
    return render_template(
        "oversight/inspection.html",
        ins=notices.inspection_view(session(), inspection_id, current_actor()),
        may_answer=current_actor().role == "street_officer",
        error=error,
    )


def _finding_action(finding_id: int, run: Any) -> Any:
    inspection_id = int(request.form.get("inspection_id") or 0)
    try:
        message = run()
    except AppError as exc:
        discard()
        if exc.status in (403, 404) or not inspection_id:
            raise
        return inspection_page(inspection_id, exc), exc.status
    flash(message, FLASH)
    if not inspection_id:
        return redirect(url_for("oversight.inspection_list"))
    return redirect(url_for("oversight.inspection_page", inspection_id=inspection_id))


@bp.post("/inspection-findings/<int:finding_id>/answer")
@allow(*SITE_STAFF)
def answer_correction(finding_id: int) -> Any:
    def run() -> str:
        notices.answer_correction(
            session(), finding_id, current_actor(), request.form.get("answer")
        )
        return "整改情况已答复，等待区领导小组办公室审核"

    return _finding_action(finding_id, run)


@bp.post("/inspection-findings/<int:finding_id>/review")
@allow(*DISTRICT)
def review_correction(finding_id: int) -> Any:
    def run() -> str:
        done = notices.review_correction(
            session(),
            finding_id,
            current_actor(),
            request.form.get("decision"),
            request.form.get("comment", ""),
        )
        return "整改已审核通过" if done.status == "closed" else "整改已退回街道"

    return _finding_action(finding_id, run)


# ---------------------------------------------------------------- 例会, 追责

TASK_ROLES = (*SITE_STAFF, "bureau_housing", "bureau_civil", "bureau_police")


@bp.get("/meetings")
@allow(*DISTRICT)
def meeting_list(error: AppError | None = None) -> str:
    return render_template(
        "oversight/meetings.html",
        rows=notices.list_meetings(session(), current_actor()),
        choices=streets.street_choices(session()),
        bureaus=notices.BUREAU_OWNERS,
        form=request.form if request.method == "POST" else None,
        rows_n=FORM_ROWS,
        error=error,
    )


@bp.post("/meetings")
@allow(*DISTRICT)
def record_meeting() -> Any:
    form = request.form
    reports = [
        {"street": code, "summary": form.get(f"report_{code}", "")}
        for code, _ in streets.street_choices(session())
        if form.get(f"report_{code}", "").strip()
    ]
    tasks = [
        {"owner": owner, "task": task, "due_date": due}
        for owner, task, due in zip(
            form.getlist("owner"), form.getlist("task"), form.getlist("due_date"), strict=False
        )
        if task.strip()
    ]
    try:
        meeting = notices.record_meeting(
            session(),
            current_actor(),
            form.get("held_on"),
            form.get("title"),
            form.get("attendees"),
            reports,
            form.get("decisions", ""),
            tasks,
        )
    except AppError as exc:
        discard()
        return meeting_list(exc), exc.status
    flash("例会记录已保存", FLASH)
    return redirect(url_for("oversight.meeting_page", meeting_id=meeting.id))


@bp.get("/meetings/<int:meeting_id>")
@allow(*DISTRICT)
def meeting_page(meeting_id: int) -> str:
    return render_template(
        "oversight/meeting.html", m=notices.meeting_view(session(), meeting_id, current_actor())
    )


@bp.get("/meeting-tasks")
@allow(*TASK_ROLES)
def task_list(error: AppError | None = None) -> str:
    return render_template(
        "oversight/tasks.html",
        rows=notices.meeting_tasks(session(), current_actor()),
        error=error,
    )


@bp.post("/meeting-tasks/<int:task_id>/done")
@allow(*TASK_ROLES)
def complete_task(task_id: int) -> Any:
    try:
        notices.complete_task(session(), task_id, current_actor(), request.form.get("note"))
    except AppError as exc:
        discard()
        if exc.status in (403, 404):
            raise
        return task_list(exc), exc.status
    flash("任务已办结", FLASH)
    return redirect(url_for("oversight.task_list"))


@bp.get("/escalations")
@allow(*DISTRICT)
def escalation_list(error: AppError | None = None) -> str:
    return render_template(
        "oversight/escalations.html",
        rows=notices.list_escalations(session(), current_actor()),
        choices=streets.street_choices(session()),
        form=request.form if request.method == "POST" else None,
        error=error,
    )


@bp.post("/escalations")
@allow(*DISTRICT)
def create_escalation() -> Any:
    form = request.form
    try:
        notices.escalate(
            session(),
            current_actor(),
            form.get("street") or None,
            form.get("person", ""),
            form.get("escalated_to"),
            form.get("grounds"),
            form.get("notice_ids", ""),
            form.get("finding_ids", ""),
            form.get("site_codes", ""),
        )
    except AppError as exc:
        discard()
        return escalation_list(exc), exc.status
    flash("追责移交已记录", FLASH)
    return redirect(url_for("oversight.escalation_list"))


@bp.post("/escalations/<int:escalation_id>/decision")
@allow(*DISTRICT)
def decide_escalation(escalation_id: int) -> Any:
    try:
        notices.decide_escalation(
            session(), escalation_id, current_actor(), request.form.get("decision")
        )
    except AppError as exc:
        discard()
        if exc.status == 404:
            raise
        return escalation_list(exc), exc.status
    flash("处理决定已记录", FLASH)
    return redirect(url_for("oversight.escalation_list"))
