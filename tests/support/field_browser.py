"""Helpers of the field browser tests (photos on weak networks, offline work): a phone context
(390 × 844, touch, GPS granted) that fails on console errors and outside requests, and a large
JPEG with EXIF evidence. The app on a local port: `tests.support.browser.serve`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from io import BytesIO
from typing import Any

from PIL import ExifTags, Image

from tests.support.browser import Tab
from tests.support.workflow import dms

PHONE = {"width": 390, "height": 844}


@contextmanager
def phone_tab(chromium: Any, gps: tuple[float, float], **extra: Any) -> Iterator[Tab]:
    """A new phone context and page; `extra` goes to new_context (e.g. service_workers)."""
    context = chromium.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation={"longitude": gps[0], "latitude": gps[1], "accuracy": 8},
        permissions=["geolocation"],
        **extra,
    )
    page = context.new_page()
    found = Tab(page)
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"
    )
    page.on(
        "console",
        lambda m: (
            found.errors.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: found.errors.append(f"page error: {e}"))
    page.on(
        "requestfailed",  # what the browser cancels when the page navigates away is no failure
        lambda r: (
            found.errors.append(f"request failed: {r.url} ({r.failure})")
            if r.failure != "net::ERR_ABORTED"
            else None
        ),
    )
    try:
        yield found
    finally:
        context.close()


def large_jpeg(
    size: tuple[int, int] = (4000, 3000),
    taken: datetime | None = None,
    lonlat: tuple[float, float] | None = None,
    quality: int = 95,
) -> bytes:
    """A camera-sized JPEG (a gradient with fine noise, so it is megabytes large) with its
    EXIF time and GPS as a phone writes them."""
    w, h = size
    noise = Image.effect_noise((w, h), 40).convert("L")
    gradient = Image.linear_gradient("L").resize((w, h))
    img = Image.merge("RGB", (noise, gradient, gradient.transpose(Image.Transpose.ROTATE_180)))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    if taken is not None:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        sub[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
        sub[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    if lonlat is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[1] = "N"
        gps[2] = dms(lonlat[1])
        gps[3] = "E"
        gps[4] = dms(lonlat[0])
    out = BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()
