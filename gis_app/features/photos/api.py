"""Photos in the JSON API: a site's photos, uploads (idempotent with `Idempotency-Key`), one
photo's record."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, current_app, jsonify
from pydantic import BeforeValidator, WithJsonSchema

from gis_app.core import codes, idempotency
from gis_app.core.errors import ValidationError
from gis_app.core.schemas import Schema
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.features.photos import service as photos
from gis_app.features.photos.schemas import PhotoRecord, SitePhotos
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.idempotency import idempotent
from gis_app.http.schemas import Reply, Upload, operation

bp = Blueprint("photos_api", __name__, url_prefix="/api/v1")
TAGS = ("photos",)


def _step_id(raw: Any) -> int | None:
    text = str(raw).strip() if raw is not None else ""
    try:
        return int(text) if text else None
    except ValueError:
        raise ValidationError(f"步骤编号须是整数：{text!r}", "step_id") from None


@bp.get("/sites/<int:site_id>/photos")
@allow(*SITE_STAFF)
@operation(
    "点位照片",
    "listPhotos",
    tags=TAGS,
    replies=[Reply(200, "整改前、整改后、巡查照片", SitePhotos)],
)
def list_photos(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(photos.photos_by_kind(session(), site_id, current_actor()))


class PhotoForm(Schema):
    """A photo of a site: the file (JPEG, PNG or WebP), its kind, and the plan step it shows."""

    file: Upload
    kind: Annotated[
        str,
        WithJsonSchema(
            {"type": "string", "enum": list(codes.PHOTO_KINDS), "description": "照片类别"}
        ),
    ]
    step_id: Annotated[
        int | None,
        BeforeValidator(_step_id),
        WithJsonSchema({"type": "integer", "minimum": 1, "description": "所证明的治理步骤"}),
    ] = None


@bp.post("/sites/<int:site_id>/photos")
@allow(*SITE_STAFF)
@operation(
    "上传照片（JPEG/PNG/WebP；同一照片重复上传返回已有记录 200）",
    "uploadPhoto",
    tags=TAGS,
    form=PhotoForm,
    errors=[409],
    headers={
        idempotency.HEADER: {
            "schema": {"type": "string", "maxLength": 255},
            "description": "幂等键：同一键重试只保存一次，返回第一次的答复",
        }
    },
    replies=[
        Reply(201, "已保存", PhotoRecord),
        Reply(200, "同一照片已上传过（或同一幂等键的重试）：返回已有记录", PhotoRecord),
    ],
)
@idempotent
def post_photo(site_id: int, form: PhotoForm) -> Response:
    photo, created = photos.add_photo(
        session(),
        photos.store_for(current_app.config),
        photos.limits_for(current_app.config),
        site_id,
        current_actor(),
        form.file.read(),
        form.file.filename,
        form.kind.strip(),
        form.step_id,
    )
    response = jsonify(photos.photo_dict(session(), photo))
    response.status_code = 201 if created else 200
    return response


@bp.get("/photos/<int:photo_id>")
@allow(*SITE_STAFF)
@operation(
    "照片信息（EXIF 时间、GPS、警示）",
    "getPhoto",
    tags=TAGS,
    replies=[Reply(200, "照片", PhotoRecord)],
)
def get_photo(photo_id: int) -> Response:
    photo = photos.get_photo(session(), photo_id, current_actor())
    return jsonify(photos.photo_dict(session(), photo))
