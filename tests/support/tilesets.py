"""Small tile sets the basemap tests build themselves: MBTiles (SQLite, TMS rows) and
PMTiles v3 (header, one varint root directory, tile data), raster PNG or vector tiles (real
Mapbox Vector Tiles written by a small protobuf encoder here)."""

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


# ---------------------------------------------------------------- Mapbox Vector Tiles

Ring = list[tuple[int, int]]
Feature = tuple[int, list[Ring], dict[str, str]]  # geometry type (1, 2, 3), rings, properties


def _field(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _bytes(number: int, data: bytes) -> bytes:
    return _field(number, 2) + _varint(len(data)) + data


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 31)


def _geometry(kind: int, rings: list[Ring]) -> list[int]:
    """MoveTo, LineTo and (for polygons) ClosePath commands with zigzag deltas."""
    out: list[int] = []
    x = y = 0
    for ring in rings:
        points = ring[:-1] if kind == 3 and ring[0] == ring[-1] else ring
        for i, (px, py) in enumerate(points):
            if i == 0:
                out.append(1 | 1 << 3)
            elif i == 1:
                out.append(2 | (len(points) - 1) << 3)
            out += [_zigzag(px - x), _zigzag(py - y)]
            x, y = px, py
        if kind == 3:
            out.append(7 | 1 << 3)
    return out


def mvt(layers: dict[str, list[Feature]], extent: int = 4096) -> bytes:
    """A Mapbox Vector Tile (spec 2.1) of these layers, coordinates in tile units."""
    tile = b""
    for name, features in layers.items():
        keys: list[str] = []
        values: list[str] = []
        body = _field(15, 0) + _varint(2) + _bytes(1, name.encode())
        for i, (kind, rings, props) in enumerate(features, start=1):
            tags = []
            for key, value in props.items():
                if key not in keys:
                    keys.append(key)
                if value not in values:
                    values.append(value)
                tags += [keys.index(key), values.index(value)]
            feature = _field(1, 0) + _varint(i)
            feature += _bytes(2, b"".join(_varint(t) for t in tags))
            feature += _field(3, 0) + _varint(kind)
            feature += _bytes(4, b"".join(_varint(c) for c in _geometry(kind, rings)))
            body += _bytes(2, feature)
        body += b"".join(_bytes(3, k.encode()) for k in keys)
        body += b"".join(_bytes(4, _bytes(1, v.encode())) for v in values)
        body += _field(5, 0) + _varint(extent)
        tile += _bytes(3, body)
    return tile


def write_mbtiles(
    path: Path,
    tiles: dict[tuple[int, int, int], bytes],
    fmt: str,
    bounds: str = "117.2,39.08,117.3,39.17",
) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer,"
        " tile_data blob)"
    )
    meta = {"name": f"测试底图 {fmt}", "format": fmt, "bounds": bounds}
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


def _zooms(zooms: list[int]) -> tuple[int, int]:
    return min(zooms), max(zooms)


def write_pmtiles(
    path: Path,
    tiles: dict[tuple[int, int, int], bytes],
    tile_type: int,
    gzip_tiles: bool = True,
) -> Path:
    """tile_type: 1 vector (gzip tiles, or plain with `gzip_tiles=False`), 2 PNG. The root
    directory gzip-compressed."""
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
        "<BBBBBB",
        1,
        2,
        2 if tile_type == 1 and gzip_tiles else 1,
        tile_type,
        min(zooms),
        max(zooms),
    )
    header += struct.pack("<4i", 1172000000, 390800000, 1173000000, 391700000)
    header += struct.pack("<Bii", min(zooms), 1172600000, 391000000)
    assert len(header) == 127, len(header)
    path.write_bytes(header + root + meta + blob)
    return path
