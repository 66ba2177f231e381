"""HTML pages and form actions of the rectification workflow (Chinese UI).

Every form posts here; the service does the work in one transaction. On success the browser
goes back where it came from (`next`) with a message; on a refusal the workflow page is shown
again with the reason, under the status the API would give (403, 409, 422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

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

from gis_app import clock, codes
from gis_app.db import session
from gis_app.errors import AppError, Forbidden, NotFound, ValidationError
from gis_app.models import ExtensionRequest, Photo, Site, SiteStep
from gis_app.services import extensions, photos, steps, workflow
from gis_app.services.permissions import can_see_sites, sees_site
from gis_app.services.site_workflow import workflow_summary
from gis_app.services.sites import get_site
from gis_app.web.access import SITE_STAFF, allow
from gis_app.web.actor import current_actor

bp = Blueprint("workflow", __name__)
FLASH = "workflow"


def photo_store() -> photos.PhotoStore:
    return photos.PhotoStore(current_app.config["PHOTO_DIR"])


def photo_limits() -> photos.PhotoLimits:
    return photos.PhotoLimits(
        max_bytes=int(current_app.config["PHOTO_MAX_MB"] * 1024 * 1024),
        max_pixels=int(current_app.config["PHOTO_MAX_PIXELS"]),
    )


def plan_from_form() -> list[dict[str, str]]:
    """Rows of step_title / step_date; rows left blank are skipped."""
    titles = request.form.getlist("step_title")
    dates = request.form.getlist("step_date")
    rows = []
    for i in range(max(len(titles), len(dates))):
        title = titles[i].strip() if i < len(titles) else ""
        due = dates[i].strip() if i < len(dates) else ""
        if title or due:
            rows.append({"title": title, "due_date": due})
    return rows


def _next_url(site_id: int) -> str:
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("workflow.site_page", site_id=site_id)


def _act(site_id: int, action: Callable[[], str]) -> Any:
    """Run a form action: flash and redirect on success, the page with the reason if refused."""
    try:
        message = action()
    except AppError as exc:
        session().rollback()
        return render_site_page(site_id, error=exc), exc.status
    flash(message, FLASH)
    return redirect(_next_url(site_id))


def _visible_site(site_id: int | None, message: str) -> int:
    """The site of a step or request, if the actor may see it; else 404 for the thing itself."""
    site = session().get(Site, site_id) if site_id else None
    if site is None or not sees_site(session(), site, current_actor()):
        raise NotFound(message, "id")
    return site.id


def render_site_page(site_id: int, error: AppError | None = None) -> str:
    site = get_site(session(), site_id, actor=current_actor())
    return render_template(
        "site/workflow.html",
        site={"id": site.id, "code": site.code, "address": site.address},
        error=error,
    )


@bp.get("/sites/<int:site_id>/workflow")
@allow(*SITE_STAFF)
def site_page(site_id: int) -> str:
    return render_site_page(site_id)


@bp.post("/sites/<int:site_id>/transition")
@allow(*SITE_STAFF)
def transition(site_id: int) -> Any:
    target = (request.form.get("to") or "").strip()

    def run() -> str:
        site = workflow.transition(
            session(),
            site_id,
            current_actor(),
            target,
            request.form.get("reason", ""),
            request.form.get("version") or None,
        )
        return f"点位 {site.code} 已变为「{codes.STATUSES[site.status]}」"

    return _act(site_id, run)


@bp.post("/sites/<int:site_id>/reopen")
@allow(*SITE_STAFF)
def reopen(site_id: int) -> Any:
    def run() -> str:
        site = workflow.reopen(
            session(),
            site_id,
            current_actor(),
            request.form.get("reason", ""),
            (request.form.get("cause") or "").strip(),
        )
        return f"点位 {site.code} 已重新打开，回到「治理中」"

    return _act(site_id, run)


@bp.get("/sites/<int:site_id>/acceptance")
@allow(*SITE_STAFF)
def acceptance(site_id: int) -> str:
    """The newest before and after photos side by side; opening it is what allows closing."""
    actor = current_actor()
    view = workflow.record_acceptance_view(session(), site_id, actor)
    data = workflow_summary(session(), site_id, actor, clock.today())
    return render_template("site/acceptance.html", wf=data, view=view)


@bp.post("/sites/<int:site_id>/close")
@allow(*SITE_STAFF)
def close(site_id: int) -> Any:
    def run() -> str:
        site = workflow.close(
            session(),
            site_id,
            current_actor(),
            request.form.get("comment", ""),
            request.form.get("version") or None,
        )
        return f"点位 {site.code} 验收通过，已销账"

    return _act(site_id, run)


@bp.post("/sites/<int:site_id>/photos")
@allow(*SITE_STAFF)
def upload_photo(site_id: int) -> Any:
    def run() -> str:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationError("请选择要上传的照片", "file")
        step_raw = (request.form.get("step_id") or "").strip()
        try:
            step_id = int(step_raw) if step_raw else None
        except ValueError:
            raise ValidationError(f"步骤编号须是整数：{step_raw!r}", "step_id") from None
        photo, created = photos.add_photo(
            session(),
            photo_store(),
            photo_limits(),
            site_id,
            current_actor(),
            upload.read(),
            upload.filename,
            (request.form.get("kind") or "").strip(),
            step_id,
        )
        label = codes.PHOTO_KINDS[photo.kind]
        text = f"已上传{label}照片" if created else f"这张{label}照片已上传过，未重复保存"
        for warning in photo.warnings:
            flash(f"注意：{warning['message']}", FLASH + "-warning")
        return text

    return _act(site_id, run)


def _photo_for_viewer(photo_id: int) -> Photo:
    actor = current_actor()
    if not can_see_sites(actor):
        raise Forbidden("无权查看该照片", "role")
    return photos.get_photo(session(), photo_id, actor)  # another street's photo: 404


def _send(path: Any, media_type: str, etag: str) -> Response:
    if not path.exists():
        raise NotFound("照片文件缺失（存储目录中找不到），请联系管理员", "id")
    response = send_file(path, mimetype=media_type, conditional=True, etag=etag, max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/photos/<int:photo_id>/file")
@allow(*SITE_STAFF)
def photo_file(photo_id: int) -> Response:
    photo = _photo_for_viewer(photo_id)
    return _send(
        photo_store().original(photo.sha256, photo.media_type), photo.media_type, photo.sha256
    )


@bp.get("/photos/<int:photo_id>/thumb")
@allow(*SITE_STAFF)
def photo_thumb(photo_id: int) -> Response:
    photo = _photo_for_viewer(photo_id)
    return _send(photo_store().thumbnail(photo.sha256), "image/jpeg", photo.sha256 + "-t")


@bp.post("/sites/<int:site_id>/plan")
@allow(*SITE_STAFF)
def set_plan(site_id: int) -> Any:
    def run() -> str:
        site = steps.set_plan(
            session(), site_id, current_actor(), plan_from_form(), request.form.get("reason", "")
        )
        return f"治理方案已保存，当前期限 {site.current_deadline}"

    return _act(site_id, run)


@bp.post("/steps/<int:step_id>/complete")
@allow(*SITE_STAFF)
def complete_step(step_id: int) -> Any:
    step = session().get(SiteStep, step_id) if 0 < step_id < 2**63 else None
    site_id = _visible_site(step.site_id if step else None, f"没有编号为 {step_id} 的治理步骤")

    def run() -> str:
        done = steps.complete_step(
            session(),
            step_id,
            current_actor(),
            request.form.get("note", ""),
            request.form.get("photo_id") or None,
        )
        return f"步骤「{done.title}」已完成"

    return _act(site_id, run)


@bp.post("/sites/<int:site_id>/extensions")
@allow(*SITE_STAFF)
def request_extension(site_id: int) -> Any:
    def run() -> str:
        req = extensions.request_extension(
            session(),
            site_id,
            current_actor(),
            request.form.get("new_deadline"),
            request.form.get("reason"),
            plan_from_form(),
        )
        return f"延期申请已提交（申请延至 {req.new_deadline}），等待区领导小组办公室审批"

    return _act(site_id, run)


@bp.post("/extensions/<int:request_id>/decide")
@allow(*SITE_STAFF)
def decide_extension(request_id: int) -> Any:
    req = session().get(ExtensionRequest, request_id) if 0 < request_id < 2**63 else None
    site_id = _visible_site(req.site_id if req else None, f"没有编号为 {request_id} 的延期申请")

    def run() -> str:
        done = extensions.decide(
            session(),
            request_id,
            current_actor(),
            (request.form.get("decision") or "").strip(),
            request.form.get("comment", ""),
        )
        return f"延期申请已{codes.EXTENSION_STATUSES[done.status]}"

    return _act(site_id, run)


@bp.get("/extensions")
@allow(*SITE_STAFF)
def extension_list() -> str:
    status = (request.args.get("status") or "pending").strip()
    if status == "all":
        status = ""
    rows = extensions.list_requests(session(), current_actor(), status or None)
    return render_template(
        "workflow/extensions.html", rows=rows, status=status, statuses=codes.EXTENSION_STATUSES
    )
