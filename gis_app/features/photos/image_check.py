"""Check that an upload is a real JPEG, PNG or WebP image and read its EXIF evidence.

The format is taken from the content, never from the file name. Corrupt or truncated files,
other formats (GIF, SVG, HTML, ZIP, PDF…), decompression bombs (more pixels than the configured
cap, checked from the header before anything is decoded), animated images (a later frame could
hide another picture behind the thumbnail) and polyglots (an archive, a page or a script
hidden after the image's end or in its metadata) are refused with a Chinese message naming
the field `file`. Accepted as sound: CMYK and 16-bit images, absurd EXIF values (flagged as
warnings), a photo whose file name has the wrong extension (the stored name comes from the
content hash, never from the user's name). Pure functions: no database, no Flask.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from gis_app.core.clock import LOCAL_TZ
from gis_app.core.errors import AppError, ValidationError

# Pillow format name -> (media type, file extension)
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
THUMB_SIZE = 360
_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
#: markup or script anywhere in a photo: a page hidden in a comment, a text chunk or EXIF
_MARKUP = re.compile(rb"<(?:script|html|svg|iframe|body|\?php)\b|javascript:", re.IGNORECASE)
#: what may not follow an image's end: archives, documents, executables, markup
_TRAILER_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf", b"%PDF",
                       b"\x7fELF", b"MZ", b"\x1f\x8b", b"<")  # fmt: skip


class PhotoTooLarge(AppError):
    """The file is bigger than the configured photo size."""

    status = 413
    code = "too_large"


@dataclass
class ImageFacts:
    format: str
    media_type: str
    extension: str
    width: int
    height: int
    taken_at: datetime | None = None
    lonlat: tuple[float, float] | None = None
    exif_notes: list[str] = field(default_factory=list)
    thumbnail: bytes = b""


def check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise ValidationError("上传的文件是空的", "file")
    if len(data) > max_bytes:
        raise PhotoTooLarge(
            f"照片过大：{len(data) / 1048576:.1f} MB，上限 {max_bytes / 1048576:g} MB", "file"
        )


def inspect_image(data: bytes, max_pixels: int) -> ImageFacts:
    """Open, verify and fully decode the image; refuse anything that is not a sound photo."""
    if max_pixels != Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own bomb check uses the same cap
    allowed = list(FORMATS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=allowed) as probe:
                multi_picture_jpeg = probe.format == "MPO"  # a preview or depth map inside
                fmt = "JPEG" if multi_picture_jpeg else probe.format or ""
                width, height = probe.size
                _check_pixels(width, height, max_pixels)
                probe.verify()
            with Image.open(BytesIO(data), formats=allowed) as img:
                if not multi_picture_jpeg and getattr(img, "n_frames", 1) > 1:
                    raise ValidationError("不接受动图（多帧图片）：请上传一张静态照片", "file")
                img.load()
                facts = ImageFacts(fmt, *FORMATS[fmt], width=width, height=height)
                _read_exif(img, facts)
                facts.thumbnail = _thumbnail(img)
    except UnidentifiedImageError:
        raise ValidationError(
            "不是可识别的图片：只接受 JPEG、PNG 或 WebP 格式的照片", "file"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            f"图片像素过多（超过 {max_pixels:,} 像素），疑似解压炸弹，已拒收", "file"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, KeyError, IndexError) as exc:
        raise ValidationError(f"图片文件已损坏或不完整，无法读取（{exc}）", "file") from None
    check_no_hidden_content(data, facts.format)
    return facts


def image_end(data: bytes, fmt: str) -> int | None:
    """Where the image stream of a JPEG, PNG or WebP file ends (None: cannot tell)."""
    if fmt == "PNG":
        for kind, _start, stop in _png_chunks(data):
            if kind == b"IEND":
                return stop + 4  # the chunk's CRC
        return None
    if fmt == "WEBP":
        return 8 + int.from_bytes(data[4:8], "little")
    if fmt == "JPEG":
        for marker, _start, stop in _jpeg_segments(data):
            if marker == 0xD9:
                return stop
        return None
    return None


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each PNG chunk, up to IEND."""
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        yield kind, pos + 8, pos + 8 + length
        pos += 12 + length
        if kind == b"IEND":
            return


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, payload start, payload end) of each JPEG marker segment, stepping over their
    payloads (so an embedded EXIF thumbnail's own end marker does not count) and over the
    entropy-coded scans; the end marker (0xD9) last, at the end of the image. Stops where
    the structure breaks."""
    pos = 2
    n = len(data)
    while pos + 2 <= n:  # the end marker is the last 2 bytes: a segment needs 4
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            yield marker, pos + 2, pos + 2
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if pos + 4 > n:
            return
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos + 4, pos + 2 + length
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while pos + 1 < n:
                if data[pos] == 0xFF and data[pos + 1] != 0 and not 0xD0 <= data[pos + 1] <= 0xD7:
                    break
                pos += 1


def check_no_hidden_content(data: bytes, fmt: str) -> None:
    """Refuse polyglots: markup in the image's metadata (JPEG APPn/COM segments, PNG and WebP
    chunks other than the pixel data) or after the image's end, or an archive, document,
    executable or page after the end. The compressed pixel data is not searched: it is close
    to random, and a 20 MB photo would contain "<svg" by chance about once in 30. (Other
    trailing bytes, such as the video a phone's "motion photo" appends, are kept.) Photos are
    served as images with `nosniff`, so this is a second wall, not the first."""
    end = image_end(data, fmt)
    trailer = data[end:] if end is not None else b""
    # the structure cannot be followed (no end found): search everything. After the end, the
    # head of what follows (a page hidden there starts at once; a phone's appended video or a
    # second JPEG is compressed data again, searched no further)
    searched = data if end is None else b"".join([*_metadata_payloads(data, fmt), trailer[:4096]])
    if _MARKUP.search(searched):
        raise ValidationError(
            "图片中夹带网页或脚本代码（疑似伪装文件），已拒收：请上传相机或手机拍摄的原始照片",
            "file",
        )
    tail = data[-65_558:] if end is None else trailer
    if trailer.lstrip(b"\x00\r\n\t ").startswith(_TRAILER_SIGNATURES) or b"PK\x05\x06" in tail:
        raise ValidationError(
            "图片文件末尾附带了压缩包、文档或程序（疑似伪装文件），已拒收：请上传原始照片",
            "file",
        )


#: WebP chunks holding pixels (everything else — EXIF, XMP, ICC… — is metadata)
_WEBP_PIXELS = (b"VP8 ", b"VP8L", b"ALPH", b"ANMF")


def _metadata_payloads(data: bytes, fmt: str) -> list[bytes]:
    """The parts of an image file that are not compressed pixels."""
    if fmt == "PNG":
        return [data[a:b] for kind, a, b in _png_chunks(data) if kind != b"IDAT"]
    if fmt == "JPEG":  # APPn (EXIF, XMP…) and comments
        return [
            data[a:b]
            for marker, a, b in _jpeg_segments(data)
            if 0xE0 <= marker <= 0xEF or marker == 0xFE
        ]
    parts: list[bytes] = []
    if fmt == "WEBP":
        pos = 12
        while pos + 8 <= len(data):
            kind = data[pos : pos + 4]
            length = int.from_bytes(data[pos + 4 : pos + 8], "little")
            if kind not in _WEBP_PIXELS:
                parts.append(data[pos + 8 : pos + 8 + length])
            pos += 8 + length + (length & 1)
    return parts


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ValidationError("图片尺寸无效", "file")
    if width * height > max_pixels:
        raise ValidationError(
            f"图片像素过多（{width}×{height}，上限 {max_pixels:,} 像素），疑似解压炸弹，已拒收",
            "file",
        )


def _thumbnail(img: Image.Image) -> bytes:
    small = ImageOps.exif_transpose(img) or img
    small = small.copy()
    small.thumbnail((THUMB_SIZE, THUMB_SIZE))
    if small.mode in ("RGBA", "LA", "P"):
        small = small.convert("RGBA")
        canvas = Image.new("RGB", small.size, (255, 255, 255))
        canvas.paste(small, mask=small.getchannel("A"))
        small = canvas
    elif small.mode != "RGB":
        small = small.convert("RGB")
    out = BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()


def _read_exif(img: Image.Image, facts: ImageFacts) -> None:
    try:
        exif = img.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # broken EXIF must not refuse a sound picture
        facts.exif_notes.append("EXIF 信息无法读取")
        return
    raw_time = (
        sub.get(ExifTags.Base.DateTimeOriginal)
        or sub.get(ExifTags.Base.DateTimeDigitized)
        or exif.get(ExifTags.Base.DateTime)
    )
    offset = sub.get(ExifTags.Base.OffsetTimeOriginal) or sub.get(ExifTags.Base.OffsetTime)
    if raw_time:
        facts.taken_at = parse_exif_time(raw_time, offset)
        if facts.taken_at is None:
            facts.exif_notes.append(f"EXIF 拍摄时间无法解读：{str(raw_time)[:40]!r}")
    if gps:
        facts.lonlat = parse_exif_gps(gps)
        if facts.lonlat is None:
            facts.exif_notes.append("EXIF GPS 位置无法解读")


def parse_exif_time(raw: Any, offset: Any = None) -> datetime | None:
    """'YYYY:MM:DD HH:MM:SS' with an optional '+08:00' offset (else Asia/Shanghai)."""
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    m = _EXIF_TIME.match(str(raw).strip())
    if not m:
        return None
    try:
        local = datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None
    tz: Any = LOCAL_TZ
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    om = _EXIF_OFFSET.match(str(offset or "").strip())
    if om:
        minutes = int(om[2]) * 60 + int(om[3])
        tz = timezone(timedelta(minutes=-minutes if om[1] == "-" else minutes))
    return local.replace(tzinfo=tz).astimezone(UTC)


def _degrees(value: Any) -> float | None:
    try:
        parts = [float(v) for v in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if len(parts) != 3 or any(math.isnan(p) or p < 0 for p in parts):
        return None
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def parse_exif_gps(gps: Any) -> tuple[float, float] | None:
    """(lon, lat) in degrees from an EXIF GPS IFD, or None when absent or impossible."""
    lat = _degrees(gps.get(2)) if gps.get(2) is not None else None
    lon = _degrees(gps.get(4)) if gps.get(4) is not None else None
    if lat is None or lon is None:
        return None
    lat_ref = str(gps.get(1) or "N").strip().upper()[:1]
    lon_ref = str(gps.get(3) or "E").strip().upper()[:1]
    lat = -lat if lat_ref == "S" else lat
    lon = -lon if lon_ref == "W" else lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lon, 7), round(lat, 7)
