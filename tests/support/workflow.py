"""Helpers of the workflow tests: actors, sites, and real images with chosen EXIF."""

from __future__ import annotations

import itertools
from datetime import datetime
from io import BytesIO
from typing import Any

from PIL import ExifTags, Image

from gis_app.core.actor import Actor
from gis_app.features.ledger.service import create_site
from gis_app.features.photos.service import PhotoLimits, PhotoStore
from tests.support.sites import site_payload

DZG = "120102002"  # 大直沽: site_payload's point lies in it
ZSM = "120102003"  # 中山门
SITE_LONLAT = (117.2381, 39.1100)

OFFICE = Actor("区办王", "district_officer")
OTHER_OFFICE = Actor("区办刘", "district_officer")
DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
DZG_INSPECTOR = Actor("大直沽队员", "inspector", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)
HOUSING = Actor("住建委", "bureau_housing")
CIVIL = Actor("民政局", "bureau_civil")
POLICE = Actor("公安", "bureau_police")

LIMITS = PhotoLimits(max_bytes=2 * 1024 * 1024, max_pixels=4_000_000)


_codes = itertools.count(1)


def make_site(session, actor: Actor = OFFICE, **overrides: Any):
    """A site registered through the service; a `status` past 已建档 (which no one may register)
    is then set directly, as a fixture of a site the workflow has moved there."""
    overrides.setdefault("code", f"WF-{next(_codes):04d}")
    status = overrides.pop("status", None)
    site = create_site(session, site_payload(**overrides), actor)
    if status is not None:
        site.status = status
        session.flush()
    return site


def dms(value: float) -> tuple[float, float, float]:
    deg = int(value)
    minutes_full = (value - deg) * 60
    minutes = int(minutes_full)
    return (float(deg), float(minutes), round((minutes_full - minutes) * 60, 4))


def image_bytes(
    colour: tuple[int, int, int] = (180, 40, 40),
    size: tuple[int, int] = (64, 48),
    fmt: str = "JPEG",
    taken: datetime | str | None = None,
    offset: str | None = None,
    lonlat: tuple[float, float] | None = None,
    mode: str = "RGB",
) -> bytes:
    """A real image; `taken` and `lonlat` go into its EXIF as a phone would write them."""
    img = Image.new(mode, size, colour if mode == "RGB" else (*colour, 128))
    exif = Image.Exif()
    if taken is not None:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        text = taken if isinstance(taken, str) else taken.strftime("%Y:%m:%d %H:%M:%S")
        sub[ExifTags.Base.DateTimeOriginal] = text
        if offset:
            sub[ExifTags.Base.OffsetTimeOriginal] = offset
    if lonlat is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lon, lat = lonlat
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = dms(abs(lat))
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = dms(abs(lon))
    out = BytesIO()
    img.save(out, fmt, exif=exif)
    return out.getvalue()


def store_in(tmp_path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos")
