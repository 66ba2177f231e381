"""A corpus of hostile upload files, generated in code (no binary blobs in git).

`corpus()` gives (name, filename, bytes, verdict): "refuse" for what must never be stored,
"accept" for the oddities that are genuinely sound photos (CMYK, 16-bit, wrong extension,
absurd EXIF values: kept, with warnings).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class Hostile:
    name: str
    filename: str
    data: bytes
    verdict: str  # "refuse" | "accept"


def _img(fmt: str = "JPEG", mode: str = "RGB", size: tuple[int, int] = (32, 24), **kw) -> bytes:
    colour = {"RGB": (200, 30, 30), "CMYK": (0, 200, 200, 0), "L": 128, "I;16": 40000}.get(
        mode, 100
    )
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **kw)
    return out.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def _png(width: int, height: int, raw: bytes = b"", extra: bytes = b"") -> bytes:
    """A PNG whose header claims width × height (8-bit grey), with `raw` as its image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + extra
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _png_bomb() -> bytes:
    """20,000 × 20,000 grey pixels (400 MB decoded) in a few hundred kilobytes."""
    row = b"\x00" * 20_001
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(2000)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")
    )


def _jpeg_with_size(width: int, height: int) -> bytes:
    """A real JPEG whose frame header is patched to claim width × height."""
    data = bytearray(_img("JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _webp_flood() -> bytes:
    """A WebP whose extended header (VP8X) claims a 16,384 × 16,384 canvas."""
    small = _img("WEBP", lossless=True)
    inner = small[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + inner
    return b"RIFF" + struct.pack("<I", len(body)) + body


def zip_bytes(name: str = "evil.txt", content: bytes = b"payload") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, content)
    return out.getvalue()


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def _exif_absurd() -> bytes:
    img = Image.new("RGB", (32, 24), (10, 120, 10))
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "9999:99:99 99:99:99"  # DateTimeOriginal
    sub[0x9011] = "+99:99"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "Q", (999.0, 0.0, 0.0), "Z", (4000.0, 99.0, 0.0)
    exif[0x0112] = 99  # Orientation
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _jpeg_comment(text: bytes) -> bytes:
    data = _img("JPEG")
    segment = b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text
    return data[:2] + segment + data[2:]


def corpus() -> list[Hostile]:
    jpeg = _img("JPEG")
    png = _img("PNG")
    webp = _img("WEBP")
    html = "<!doctype html><html><body><script>alert('违建')</script></body></html>".encode()
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script></svg>"
    )
    refuse = [
        ("pixel flood PNG 100000×100000", "flood.png", _png(100_000, 100_000)),
        ("PNG decompression bomb 20000×20000", "bomb.png", _png_bomb()),
        ("pixel flood JPEG 65000×65000", "flood.jpg", _jpeg_with_size(65_000, 65_000)),
        ("pixel flood WebP canvas 16384×16384", "flood.webp", _webp_flood()),
        ("one-pixel-high band 70,000,000×1", "band.png", _png(70_000_000, 1)),
        ("zero-size PNG", "zero.png", _png(0, 0)),
        ("truncated JPEG", "half.jpg", jpeg[: len(jpeg) // 2]),
        ("truncated PNG", "half.png", png[: len(png) - 30]),
        ("truncated WebP", "half.webp", webp[: len(webp) // 2]),
        ("JPEG with only start and end markers", "hollow.jpg", b"\xff\xd8\xff\xd9"),
        ("PNG with a wrong checksum", "crc.png", png[:-5] + bytes([png[-5] ^ 0xFF]) + png[-4:]),
        ("polyglot JPEG + ZIP", "poly.jpg", jpeg + zip_bytes()),
        ("polyglot PNG + ZIP", "poly.png", png + zip_bytes()),
        ("polyglot WebP + ZIP", "poly.webp", webp + zip_bytes()),
        (
            "PNG with HTML in a text chunk",
            "page.png",
            _png(4, 4, b"\x00" * 20, _chunk(b"tEXt", b"Comment\x00" + html)),
        ),
        ("PNG with HTML after its end", "tail.png", png + html),
        ("JPEG with a script in its comment", "comment.jpg", _jpeg_comment(b"<script>x</script>")),
        ("JPEG with PHP in its comment", "shell.jpg", _jpeg_comment(b"<?php system($_GET[c]);")),
        (
            "GIF + JavaScript polyglot",
            "gifjs.gif",
            b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1);//;",
        ),
        ("a ZIP named .jpg", "archive.jpg", zip_bytes()),
        ("empty file", "empty.jpg", b""),
        ("SVG with a script", "vector.svg", svg),
        ("SVG named .png", "vector.png", svg),
        ("HTML named .png", "page.png", html),
        ("PDF named .jpg", "doc.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
        ("Windows program named .jpg", "setup.jpg", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00"),
        ("animated GIF", "anim.gif", _animated("GIF")),
        ("animated PNG", "anim.png", _animated("PNG")),
        ("animated WebP", "anim.webp", _animated("WEBP")),
        ("BMP image", "old.bmp", _img("BMP")),
        ("TIFF image", "scan.tif", _img("TIFF")),
        ("plain text named .jpg", "note.jpg", "这不是一张照片".encode()),
    ]
    accept = [
        ("CMYK JPEG", "cmyk.jpg", _img("JPEG", "CMYK")),
        ("16-bit greyscale PNG", "deep.png", _img("PNG", "I;16")),
        ("PNG named .jpg (content decides)", "really-a-png.jpg", png),
        ("JPEG with absurd EXIF values", "exif.jpg", _exif_absurd()),
    ]
    return [Hostile(n, f, d, "refuse") for n, f, d in refuse] + [
        Hostile(n, f, d, "accept") for n, f, d in accept
    ]
