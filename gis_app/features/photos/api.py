"""Photos in the JSON API: a site's photos, uploads (idempotent with `Idempotency-Key`), one
photo's record."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, jsonify, request

from gis_app.core import idempotency
from gis_app.core.errors import ValidationError
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.features.photos import service as photos
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session

bp = Blueprint("photos_api", __name__, url_prefix="/api/v1")


@bp.get("/sites/<int:site_id>/photos")
@allow(*SITE_STAFF)
def list_photos(site_id: int) -> Response:
    require_site_reader(current_actor())
    return jsonify(photos.photos_by_kind(session(), site_id, current_actor()))


@bp.post("/sites/<int:site_id>/photos")
@allow(*SITE_STAFF)
def post_photo(site_id: int) -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("请上传照片（表单字段 file）", "file")
    step_raw = (request.form.get("step_id") or "").strip()
    try:
        step_id = int(step_raw) if step_raw else None
    except ValueError:
        raise ValidationError(f"步骤编号须是整数：{step_raw!r}", "step_id") from None
    kind = (request.form.get("kind") or "").strip()
    data = upload.read()
    actor = current_actor()
    key = idempotency.check_key(request.headers.get(idempotency.HEADER))
    if key is not None:
        print_ = idempotency.fingerprint(
            "POST", request.path, kind, str(step_id or ""), hashlib.sha256(data).digest()
        )
        replay = idempotency.claim(session(), actor, key, print_)
        if replay is not None:
            session().rollback()
            response = Response(replay.body, status=replay.status_code, mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            return response
    photo, created = photos.add_photo(
        session(),
        photos.store_for(current_app.config),
        photos.limits_for(current_app.config),
        site_id,
        actor,
        data,
        upload.filename,
        kind,
        step_id,
        commit=key is None,
    )
    response = jsonify(photos.photo_dict(session(), photo))
    response.status_code = 201 if created else 200
    if key is not None:
        idempotency.remember(
            session(),
            actor,
            key,
            print_,
            ("POST", request.path),
            (response.status_code, response.get_data(as_text=True)),
            photo.district_code,
        )
        session().commit()  # the photo, its event and the stored answer: one transaction
    return response


@bp.get("/photos/<int:photo_id>")
@allow(*SITE_STAFF)
def get_photo(photo_id: int) -> Response:
    photo = photos.get_photo(session(), photo_id, current_actor())
    return jsonify(photos.photo_dict(session(), photo))
