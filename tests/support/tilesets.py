"""Small tile sets the basemap tests build themselves: MBTiles (SQLite, TMS rows) and
PMTiles v3 (header, one varint root directory, tile data), raster PNG or vector tiles."""

from __future__ import annotations

import gzip
import json
import math
import sqlite3
import struct
from io import BytesIO
from pathlib import Path

from PIL import Image

from gis_app.core.basemap import zxy_to_tileid


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def png(colour: tuple[int, int, int]) -> bytes:
    out = BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, "PNG")
    return out.getvalue()


def vector_tile(name: str) -> bytes:
    """Bytes standing for a Mapbox Vector Tile (gzip-compressed, as tile sets ship them)."""
    return gzip.compress(b"\x1a\x0c\x0a\x05roads" + name.encode())


def write_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], fmt: str) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer,"
        " tile_data blob)"
    )
    meta = {"name": f"测试底图 {fmt}", "format": fmt, "bounds": "117.2,39.08,117.3,39.17"}
    if fmt == "pbf":
        meta["json"] = json.dumps({"vector_layers": [{"id": "roads", "fields": {}}]})
    db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    db.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],  # XYZ -> TMS
    )
    db.commit()
    db.close()
    return path


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def write_pmtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], tile_type: int) -> Path:
    """tile_type: 1 vector (gzip tiles), 2 PNG. The root directory gzip-compressed."""
    entries = sorted((zxy_to_tileid(*zxy), data) for zxy, data in tiles.items())
    blob, offsets = b"", []
    for _, data in entries:
        offsets.append(len(blob))
        blob += data
    directory = _varint(len(entries))
    last = 0
    for tile_id, _ in entries:
        directory += _varint(tile_id - last)
        last = tile_id
    directory += b"".join(_varint(1) for _ in entries)
    directory += b"".join(_varint(len(d)) for _, d in entries)
    directory += b"".join(_varint(o + 1) for o in offsets)
    root = gzip.compress(directory)
    meta = gzip.compress(json.dumps({"name": "测试底图 pmtiles"}).encode())
    zooms = [z for z, _, _ in tiles]
    header = b"PMTiles" + bytes([3])
    root_off = 127
    meta_off = root_off + len(root)
    data_off = meta_off + len(meta)
    header += struct.pack("<7Q", root_off, len(root), meta_off, len(meta), data_off, 0, data_off)
    header += struct.pack("<QQQQ", len(blob), len(entries), len(entries), len(entries))
    header += struct.pack(
        "<BBBBBB", 1, 2, 2 if tile_type == 1 else 1, tile_type, min(zooms), max(zooms)
    )
    header += struct.pack("<4i", 1172000000, 390800000, 1173000000, 391700000)
    header += struct.pack("<Bii", min(zooms), 1172600000, 391000000)
    assert len(header) == 127, len(header)
    path.write_bytes(header + root + meta + blob)
    return path
