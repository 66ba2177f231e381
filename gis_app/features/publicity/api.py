"""Coverage and publicity work in the JSON API under /api/v1: the media centre records its
reports, the published ones are open to anyone; a street records its publicity work, the
office reads it per street and month."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from gis_app.features.photos.service import limits_for, store_for
from gis_app.features.publicity import service
from gis_app.features.publicity.schemas import (
    CoverageIn,
    CoverageList,
    CoverageOut,
    MonthQuery,
    PublicCoverageList,
    PublicityIn,
    PublicityList,
    PublicityMonth,
    PublicityOut,
    PublicityPhotoForm,
    PublicityQuery,
)
from gis_app.features.publicity.scope import as_public
from gis_app.http.access import DISTRICT, SITE_STAFF, STREET, allow, public
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("publicity_api", __name__, url_prefix="/api/v1")
TAGS = ("publicity",)
COVERAGE_READERS = (*SITE_STAFF, "bureau_media")
coverage, work = service.coverage, service.work


def _created(doc: dict) -> Response:
    response = jsonify(doc)
    response.status_code = 201
    return response


@bp.get("/coverage")
@allow(*COVERAGE_READERS)
@operation(
    "媒体报道（区级和融媒体中心全部；街道只见关联本街道的）",
    "listCoverage",
    tags=TAGS,
    replies=[Reply(200, "媒体报道", CoverageList)],
)
def list_coverage() -> Response:
    return jsonify({"coverage": coverage.listing(session(), current_actor())})


@bp.post("/coverage")
@allow("bureau_media")
@operation(
    "登记媒体报道（区融媒体中心）",
    "createCoverage",
    tags=TAGS,
    body=CoverageIn,
    replies=[Reply(201, "已登记", CoverageOut)],
)
def create_coverage(body: CoverageIn) -> Response:
    record = coverage.create(session(), current_actor(), body.model_dump())
    return _created(coverage.one(session(), current_actor(), record.id))


@bp.get("/coverage/<int:coverage_id>")
@allow(*COVERAGE_READERS)
@operation("一条媒体报道", "getCoverage", tags=TAGS, replies=[Reply(200, "媒体报道", CoverageOut)])
def get_coverage(coverage_id: int) -> Response:
    return jsonify(coverage.one(session(), current_actor(), coverage_id))


@bp.put("/coverage/<int:coverage_id>")
@allow("bureau_media")
@operation(
    "修改媒体报道（区融媒体中心；各项重新给出）",
    "updateCoverage",
    tags=TAGS,
    body=CoverageIn,
    replies=[Reply(200, "修改后的报道", CoverageOut)],
)
def update_coverage(coverage_id: int, body: CoverageIn) -> Response:
    coverage.update(session(), current_actor(), coverage_id, body.model_dump())
    return jsonify(coverage.one(session(), current_actor(), coverage_id))


@bp.get("/public/coverage")
@public
@operation(
    "公开的媒体报道（无需登录；不含个人信息）",
    "listPublicCoverage",
    tags=TAGS,
    replies=[Reply(200, "公开的媒体报道", PublicCoverageList)],
)
def public_coverage() -> Response:
    with as_public():
        rows = coverage.public(session())
    return jsonify({"coverage": rows})


@bp.get("/publicity")
@allow(*SITE_STAFF)
@operation(
    "宣传工作记录（区级全部；街道只见本街道的）",
    "listPublicity",
    tags=TAGS,
    query=PublicityQuery,
    replies=[Reply(200, "宣传工作", PublicityList)],
)
def list_publicity(query: PublicityQuery) -> Response:
    rows = work.listing(session(), current_actor(), query.street, query.month, query.kind)
    return jsonify({"publicity": rows})


@bp.post("/publicity")
@allow(*STREET)
@operation(
    "登记宣传工作（街道；照片另行上传）",
    "createPublicity",
    tags=TAGS,
    body=PublicityIn,
    replies=[Reply(201, "已登记", PublicityOut)],
)
def create_publicity(body: PublicityIn) -> Response:
    config = current_app.config
    record = work.create(
        session(), current_actor(), body.model_dump(), store_for(config), limits_for(config)
    )
    return _created(work.one(session(), current_actor(), record.id))


@bp.get("/publicity/<int:publicity_id>")
@allow(*SITE_STAFF)
@operation(
    "一条宣传工作记录", "getPublicity", tags=TAGS, replies=[Reply(200, "宣传工作", PublicityOut)]
)
def get_publicity(publicity_id: int) -> Response:
    return jsonify(work.one(session(), current_actor(), publicity_id))


@bp.put("/publicity/<int:publicity_id>")
@allow(*STREET)
@operation(
    "修改宣传工作记录（本街道；各项重新给出）",
    "updatePublicity",
    tags=TAGS,
    body=PublicityIn,
    replies=[Reply(200, "修改后的记录", PublicityOut)],
)
def update_publicity(publicity_id: int, body: PublicityIn) -> Response:
    config = current_app.config
    work.update(
        session(),
        current_actor(),
        publicity_id,
        body.model_dump(),
        store_for(config),
        limits_for(config),
    )
    return jsonify(work.one(session(), current_actor(), publicity_id))


@bp.post("/publicity/<int:publicity_id>/photo")
@allow(*STREET)
@operation(
    "上传宣传照片（JPEG/PNG/WebP；替换已有照片）",
    "uploadPublicityPhoto",
    tags=TAGS,
    form=PublicityPhotoForm,
    replies=[Reply(200, "附照片的记录", PublicityOut)],
)
def upload_publicity_photo(publicity_id: int, form: PublicityPhotoForm) -> Response:
    config = current_app.config
    work.set_photo(
        session(),
        current_actor(),
        publicity_id,
        store_for(config),
        limits_for(config),
        service.Upload(form.file.read(), form.file.filename),
    )
    return jsonify(work.one(session(), current_actor(), publicity_id))


@bp.get("/publicity/monthly")
@allow(*DISTRICT)
@operation(
    "各街道宣传工作月统计（区级）",
    "publicityMonthly",
    tags=TAGS,
    query=MonthQuery,
    replies=[Reply(200, "按街道和宣传形式统计", PublicityMonth)],
)
def publicity_monthly(query: MonthQuery) -> Response:
    month = work.parse_month(query.month)
    return jsonify(service.monthly.table(session(), current_actor(), month))
