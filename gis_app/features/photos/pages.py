"""Photos on the pages: the upload form of a site's workflow panel, and the photo files
(original and thumbnail) for those who may see the site."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, request, send_file

from gis_app.core import codes
from gis_app.core.errors import Forbidden, NotFound, ValidationError
from gis_app.features.ledger.permissions import can_see_sites
from gis_app.features.photos import service as photos
from gis_app.features.photos.models import Photo
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.forms import SITE_FLASH, site_form

bp = Blueprint("photos", __name__, template_folder="templates")


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
            photos.store_for(current_app.config),
            photos.limits_for(current_app.config),
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
            flash(f"注意：{warning['message']}", SITE_FLASH + "-warning")
        return text

    return site_form(site_id, run)


def _photo_for_viewer(photo_id: int) -> Photo:
    actor = current_actor()
    if not can_see_sites(actor):
        raise Forbidden("无权查看该照片", "role")
    return photos.get_photo(session(), photo_id, actor)  # another street's photo: 404


def _send(path: Any, media_type: str, etag: str) -> Response:
    if not path.exists():
        raise NotFound("照片文件缺失（存储目录中找不到），请联系管理员", "id")
    accel = current_app.config["PHOTO_ACCEL_REDIRECT"]
    if accel:  # nginx sends the file from its internal location (docs/operations/deployment.md)
        relative = path.relative_to(photos.store_for(current_app.config).root).as_posix()
        response = Response(b"", mimetype=media_type)
        response.headers["X-Accel-Redirect"] = accel.rstrip("/") + "/" + relative
        response.headers["Cache-Control"] = PHOTO_CACHE
        return response
    response = send_file(path, mimetype=media_type, conditional=True, etag=etag, max_age=0)
    # a photo of a site (people, addresses) stays in no browser cache after logout
    response.headers["Cache-Control"] = PHOTO_CACHE
    response.headers.pop("Expires", None)
    return response


PHOTO_CACHE = "private, no-store"


@bp.get("/photos/<int:photo_id>/file")
@allow(*SITE_STAFF)
def photo_file(photo_id: int) -> Response:
    photo = _photo_for_viewer(photo_id)
    return _send(
        photos.store_for(current_app.config).original(photo.sha256, photo.media_type),
        photo.media_type,
        photo.sha256,
    )


@bp.get("/photos/<int:photo_id>/thumb")
@allow(*SITE_STAFF)
def photo_thumb(photo_id: int) -> Response:
    photo = _photo_for_viewer(photo_id)
    return _send(
        photos.store_for(current_app.config).thumbnail(photo.sha256),
        "image/jpeg",
        photo.sha256 + "-t",
    )
