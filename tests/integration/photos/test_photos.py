"""Photo uploads: real images only, stored once by hash, EXIF evidence and its warnings."""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import UTC, datetime
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select

from gis_app.core.errors import Conflict, NotFound, ValidationError
from gis_app.features.ledger.models import SiteEvent
from gis_app.features.photos.image_check import PhotoTooLarge, inspect_image
from gis_app.features.photos.models import Photo
from gis_app.features.photos.service import PhotoLimits, add_photo, photo_dict
from tests.support.workflow import (
    DZG_INSPECTOR,
    DZG_OFFICER,
    LIMITS,
    OFFICE,
    POLICE,
    SITE_LONLAT,
    ZSM_OFFICER,
    image_bytes,
    make_site,
    store_in,
)


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Photo))


def _upload(session, tmp_path, site, data, kind="before", actor=DZG_OFFICER, limits=LIMITS):
    return add_photo(session, store_in(tmp_path), limits, site.id, actor, data, "x.jpg", kind)


@pytest.mark.parametrize(
    ("fmt", "media"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_jpeg_png_webp_accepted_and_stored_with_thumbnail(db_session, tmp_path, fmt, media):
    site = make_site(db_session)
    data = image_bytes(fmt=fmt, size=(800, 600))
    photo, created = _upload(db_session, tmp_path, site, data)
    assert created and photo.media_type == media and (photo.width, photo.height) == (800, 600)
    sha = hashlib.sha256(data).hexdigest()
    assert photo.sha256 == sha
    store = store_in(tmp_path)
    assert store.original(sha, media).read_bytes() == data
    with Image.open(store.thumbnail(sha)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 360
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(SiteEvent)
            .where(SiteEvent.site_id == site.id, SiteEvent.action == "photo")
        )
        == 1
    )


def test_format_comes_from_content_not_name(db_session, tmp_path):
    site = make_site(db_session)
    png = image_bytes(fmt="PNG")
    photo, _ = add_photo(
        db_session, store_in(tmp_path), LIMITS, site.id, DZG_OFFICER, png, "现场.jpg", "before"
    )
    assert photo.media_type == "image/png" and photo.original_name == "现场.jpg"


def test_png_with_transparency_gets_a_white_thumbnail(db_session, tmp_path):
    site = make_site(db_session)
    data = image_bytes(fmt="PNG", mode="RGBA", colour=(0, 0, 0))
    photo, _ = _upload(db_session, tmp_path, site, data)
    with Image.open(store_in(tmp_path).thumbnail(photo.sha256)) as thumb:
        assert thumb.mode == "RGB"


def test_same_photo_twice_is_stored_once(db_session, tmp_path):
    site = make_site(db_session)
    data = image_bytes()
    first, created = _upload(db_session, tmp_path, site, data)
    again, created_again = _upload(db_session, tmp_path, site, data)
    assert created and not created_again and again.id == first.id
    assert _count(db_session) == 1
    files = list((tmp_path / "photos" / "originals").rglob("*.jpg"))
    assert len(files) == 1
    # the same file as an after photo is a different piece of evidence, but one file on disk
    from gis_app.features.workflow import service as workflow

    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    other, created_other = _upload(db_session, tmp_path, site, data, kind="after")
    assert created_other and other.id != first.id
    assert len(list((tmp_path / "photos" / "originals").rglob("*.jpg"))) == 1


def test_not_an_image(db_session, tmp_path):
    site = make_site(db_session)
    for data in (b"%PDF-1.4 not a photo", "文本".encode() * 50, b"GIF89a" + b"\0" * 50):
        with pytest.raises(ValidationError, match="JPEG、PNG 或 WebP") as err:
            _upload(db_session, tmp_path, site, data)
        assert err.value.field == "file" and err.value.status == 422
    gif = BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    with pytest.raises(ValidationError, match="JPEG、PNG 或 WebP"):
        _upload(db_session, tmp_path, site, gif.getvalue())
    assert _count(db_session) == 0


def test_corrupt_images(db_session, tmp_path):
    site = make_site(db_session)
    good = image_bytes(size=(300, 200))
    truncated = good[: len(good) // 2]
    with pytest.raises(ValidationError, match="损坏") as err:
        _upload(db_session, tmp_path, site, truncated)
    assert err.value.field == "file"
    png = bytearray(image_bytes(fmt="PNG", size=(300, 200)))
    png[60:80] = b"\xff" * 20  # damage the compressed data: the CRC no longer matches
    with pytest.raises(ValidationError, match="损坏"):
        _upload(db_session, tmp_path, site, bytes(png))
    assert _count(db_session) == 0
    assert not (tmp_path / "photos" / "originals").exists()


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims an enormous size: a decompression bomb's calling card."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(3000, 3000), (100_000, 100_000)])
def test_decompression_bomb_refused(db_session, tmp_path, size):
    site = make_site(db_session)
    with pytest.raises(ValidationError, match="像素过多") as err:
        _upload(db_session, tmp_path, site, _png_header_only(*size))
    assert err.value.field == "file"
    assert _count(db_session) == 0


def test_oversized_and_empty_files(db_session, tmp_path):
    site = make_site(db_session)
    small = PhotoLimits(max_bytes=2000, max_pixels=LIMITS.max_pixels)
    big = image_bytes(size=(400, 400), colour=(10, 200, 30))
    noisy = Image.effect_noise((300, 300), 80).convert("RGB")
    out = BytesIO()
    noisy.save(out, "JPEG", quality=95)
    big = out.getvalue()
    assert len(big) > 2000
    with pytest.raises(PhotoTooLarge, match="照片过大") as err:
        _upload(db_session, tmp_path, site, big, limits=small)
    assert err.value.status == 413 and err.value.field == "file"
    with pytest.raises(ValidationError, match="空的"):
        _upload(db_session, tmp_path, site, b"")
    assert _count(db_session) == 0


def test_exif_time_and_gps_kept_as_evidence(db_session, tmp_path):
    site = make_site(db_session)
    data = image_bytes(taken="2026:06:14 09:30:05", offset="+08:00", lonlat=SITE_LONLAT)
    photo, _ = _upload(db_session, tmp_path, site, data)
    assert photo.taken_at == datetime(2026, 6, 14, 1, 30, 5, tzinfo=UTC)
    assert photo.warnings == []
    info = photo_dict(db_session, photo)
    assert info["gps"] == pytest.approx(list(SITE_LONLAT), abs=1e-6)
    assert info["gps_distance_m"] < 1
    assert info["taken_at_local"] == "2026-06-14 09:30:05"


def test_exif_time_without_offset_is_beijing_time():
    facts = inspect_image(image_bytes(taken="2026:01:31 23:59:59"), 10_000_000)
    assert facts.taken_at == datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC)


def test_gps_far_from_the_site_warns(db_session, tmp_path):
    site = make_site(db_session)
    lon, lat = SITE_LONLAT
    far = (lon + 0.0030, lat)  # about 260 m east at 39°N
    photo, _ = _upload(db_session, tmp_path, site, image_bytes(lonlat=far))
    assert [w["code"] for w in photo.warnings] == ["gps_far"]
    assert "超过 200 米" in photo.warnings[0]["message"]
    assert 240 < photo.gps_distance_m < 280
    near = (lon + 0.0020, lat)  # about 173 m: no warning
    photo2, _ = _upload(db_session, tmp_path, site, image_bytes((1, 1, 1), lonlat=near))
    assert photo2.warnings == []


def test_after_photo_taken_before_registration_warns(db_session, tmp_path):
    site = make_site(db_session)  # registered at the frozen now, 2026-06-15 10:00 +08
    from gis_app.features.workflow import service as workflow

    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    old = image_bytes(taken="2026:06:01 08:00:00")
    photo, _ = _upload(db_session, tmp_path, site, old, kind="after")
    assert [w["code"] for w in photo.warnings] == ["taken_before_registration"]
    assert "早于点位建档时间" in photo.warnings[0]["message"]
    # a before photo may well be older than the registration
    before, _ = _upload(db_session, tmp_path, site, old, kind="before")
    assert before.warnings == []
    fresh = image_bytes((3, 3, 3), taken="2026:06:15 10:30:00")
    photo3, _ = _upload(db_session, tmp_path, site, fresh, kind="after")
    assert photo3.warnings == []


def test_kind_status_and_role_rules(db_session, tmp_path):
    site = make_site(db_session)
    with pytest.raises(ValidationError) as err:
        _upload(db_session, tmp_path, site, image_bytes(), kind="selfie")
    assert err.value.field == "kind"
    with pytest.raises(Conflict, match="不能上传整改后照片"):
        _upload(db_session, tmp_path, site, image_bytes(), kind="after")
    for actor in (ZSM_OFFICER, POLICE):  # another street's site, a site outside police's view
        with pytest.raises(NotFound):
            _upload(db_session, tmp_path, site, image_bytes(), actor=actor)
    # inspectors of the street and the district office may upload
    _upload(db_session, tmp_path, site, image_bytes((1, 0, 0)), actor=DZG_INSPECTOR)
    _upload(db_session, tmp_path, site, image_bytes((0, 1, 0)), actor=OFFICE, kind="inspection")
    assert _count(db_session) == 2
