"""An offline basemap for districts without internet: an MBTiles or PMTiles (v3) file — raster
(PNG, JPEG, WebP) or vector (Mapbox Vector Tiles) — imported once into the app's data folder
and served by the app at /basemap/tiles/{z}/{x}/{y}.{ext}.

Stored as one file per tile under `<DATA_DIR>/basemap/tiles/z/x/y.ext` (XYZ numbering, as
Leaflet asks) with `basemap.json` describing it; a new import replaces the old one whole
(written beside it, then swapped). Tiles are kept as the file holds them: a gzip-compressed
vector tile is served with `Content-Encoding: gzip`. Pure Python: sqlite3 for MBTiles, a
reader of the PMTiles v3 layout (header, varint directories, Hilbert tile ids) for PMTiles.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gis_app.core.errors import ValidationError

FORMATS = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp",
           "pbf": "application/vnd.mapbox-vector-tile"}  # fmt: skip
PMTILES_TYPES = {1: "pbf", 2: "png", 3: "jpg", 4: "webp"}
MAX_ZOOM = 22
GZIP = b"\x1f\x8b"


@dataclass
class Basemap:
    name: str
    format: str  # png, jpg, webp or pbf
    kind: str  # raster or vector
    minzoom: int
    maxzoom: int
    bounds: list[float] = field(default_factory=list)  # west, south, east, north
    tiles: int = 0
    source: str = ""
    vector_layers: list[Any] = field(default_factory=list)

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


def _kind(fmt: str) -> str:
    return "vector" if fmt == "pbf" else "raster"


# ---------------------------------------------------------------- MBTiles


def read_mbtiles(path: Path) -> tuple[Basemap, Iterator[tuple[int, int, int, bytes]]]:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
    except sqlite3.DatabaseError as exc:
        raise ValidationError(f"不是可读的 MBTiles 文件：{exc}", "file") from None
    fmt = {"jpeg": "jpg"}.get(str(meta.get("format", "")).lower(), str(meta.get("format", "")))
    if fmt not in FORMATS:
        raise ValidationError(f"MBTiles 的瓦片格式不受支持：{fmt or '（未注明）'}", "file")
    zooms = db.execute("SELECT min(zoom_level), max(zoom_level), count(*) FROM tiles").fetchone()
    bounds = [float(v) for v in str(meta.get("bounds", "")).split(",") if v.strip()]
    layers: list[Any] = []
    if meta.get("json"):
        try:
            layers = json.loads(meta["json"]).get("vector_layers", [])
        except (ValueError, AttributeError):
            layers = []
    info = Basemap(
        name=str(meta.get("name") or path.stem),
        format=fmt,
        kind=_kind(fmt),
        minzoom=int(zooms[0] or 0),
        maxzoom=int(zooms[1] or 0),
        bounds=bounds if len(bounds) == 4 else [],
        tiles=int(zooms[2] or 0),
        source=path.name,
        vector_layers=layers,
    )

    def tiles() -> Iterator[tuple[int, int, int, bytes]]:
        rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
        for z, x, tms_y, data in rows:
            yield int(z), int(x), (1 << int(z)) - 1 - int(tms_y), bytes(data)  # TMS -> XYZ
        db.close()

    return info, tiles()


# ---------------------------------------------------------------- PMTiles v3


def zxy_to_tileid(z: int, x: int, y: int) -> int:
    """The PMTiles tile id: the tiles of lower zooms first, then the Hilbert curve."""
    acc = ((1 << (2 * z)) - 1) // 3
    n = 1 << z
    d, s = 0, n // 2
    while s > 0:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        d += s * s * ((3 * rx) ^ ry)
        x, y = _rotate(n, x, y, rx, ry)
        s //= 2
    return acc + d


def tileid_to_zxy(tile_id: int) -> tuple[int, int, int]:
    acc, z = 0, 0
    while acc + (1 << (2 * z)) <= tile_id:
        acc += 1 << (2 * z)
        z += 1
    t, x, y, s = tile_id - acc, 0, 0, 1
    while s < (1 << z):
        rx = 1 & (t // 2)
        ry = 1 & (t ^ rx)
        x, y = _rotate(s, x, y, rx, ry)
        x, y = x + s * rx, y + s * ry
        t //= 4
        s *= 2
    return z, x, y


def _rotate(n: int, x: int, y: int, rx: int, ry: int) -> tuple[int, int]:
    if ry == 0:
        if rx == 1:
            x, y = n - 1 - x, n - 1 - y
        x, y = y, x
    return x, y


def _varints(data: bytes) -> Iterator[int]:
    value, shift = 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            yield value
            value, shift = 0, 0


def _directory(data: bytes) -> list[tuple[int, int, int, int]]:
    """(tile_id, run_length, offset, length) of a decoded PMTiles directory."""
    numbers = _varints(data)
    n = next(numbers)
    ids, last = [], 0
    for _ in range(n):
        last += next(numbers)
        ids.append(last)
    runs = [next(numbers) for _ in range(n)]
    lengths = [next(numbers) for _ in range(n)]
    offsets: list[int] = []
    for i in range(n):
        raw = next(numbers)
        offsets.append(offsets[-1] + lengths[i - 1] if raw == 0 and i > 0 else raw - 1)
    return list(zip(ids, runs, offsets, lengths, strict=True))


def _decompress(data: bytes, compression: int) -> bytes:
    if compression in (0, 1):
        return data
    if compression == 2:
        return gzip.decompress(data)
    raise ValidationError("PMTiles 的目录使用了不支持的压缩方式（仅支持不压缩或 gzip）", "file")


def read_pmtiles(path: Path) -> tuple[Basemap, Iterator[tuple[int, int, int, bytes]]]:
    blob = path.read_bytes()
    if len(blob) < 127 or blob[:7] != b"PMTiles" or blob[7] != 3:
        raise ValidationError("不是 PMTiles 第 3 版文件", "file")
    root_off, root_len, meta_off, meta_len, leaf_off, _leaf_len, data_off = struct.unpack_from(
        "<7Q", blob, 8
    )
    addressed = struct.unpack_from("<Q", blob, 72)[0]
    internal, _tile_compression, tile_type, minzoom, maxzoom = struct.unpack_from("<5B", blob, 97)
    west, south, east, north = (v / 1e7 for v in struct.unpack_from("<4i", blob, 102))
    fmt = PMTILES_TYPES.get(tile_type)
    if fmt is None:
        raise ValidationError(f"PMTiles 的瓦片类型不受支持：{tile_type}", "file")
    meta: dict[str, Any] = {}
    if meta_len:
        try:
            meta = json.loads(_decompress(blob[meta_off : meta_off + meta_len], internal))
        except ValueError:
            meta = {}
    info = Basemap(
        name=str(meta.get("name") or path.stem),
        format=fmt,
        kind=_kind(fmt),
        minzoom=minzoom,
        maxzoom=maxzoom,
        bounds=[west, south, east, north],
        tiles=int(addressed),
        source=path.name,
        vector_layers=list(meta.get("vector_layers") or []),
    )

    def walk(offset: int, length: int) -> Iterator[tuple[int, int, int, bytes]]:
        for tile_id, run, off, size in _directory(
            _decompress(blob[offset : offset + length], internal)
        ):
            if run == 0:
                yield from walk(leaf_off + off, size)
                continue
            data = blob[data_off + off : data_off + off + size]
            for k in range(run):
                yield (*tileid_to_zxy(tile_id + k), data)

    return info, walk(root_off, root_len)


# ---------------------------------------------------------------- the store


def read(path: Path) -> tuple[Basemap, Iterator[tuple[int, int, int, bytes]]]:
    """The basemap in FILE (MBTiles or PMTiles, told by content) and its tiles."""
    if not path.is_file():
        raise ValidationError(f"找不到文件：{path}", "file")
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(b"PMTiles"):
        return read_pmtiles(path)
    if head.startswith(b"SQLite format 3"):
        return read_mbtiles(path)
    raise ValidationError("文件既不是 MBTiles（SQLite）也不是 PMTiles", "file")


def import_file(path: Path, root: Path) -> Basemap:
    """Import FILE as the basemap under `root` (replacing the one there), every tile checked
    to lie within the zooms a map uses."""
    info, tiles = read(path)
    fresh = root.with_name(root.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    count = 0
    for z, x, y, data in tiles:
        if not (0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
            raise ValidationError(f"瓦片编号超出范围：{z}/{x}/{y}", "file")
        target = fresh / "tiles" / str(z) / str(x) / f"{y}.{info.format}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        count += 1
    if count == 0:
        raise ValidationError("文件中没有瓦片", "file")
    info.tiles = count
    fresh.mkdir(parents=True, exist_ok=True)
    (fresh / "basemap.json").write_text(json.dumps(asdict(info), ensure_ascii=False), "utf-8")
    old = root.with_name(root.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if root.exists():
        root.rename(old)
    fresh.rename(root)
    shutil.rmtree(old, ignore_errors=True)
    return info


def current(root: Path) -> Basemap | None:
    """The imported basemap, if any."""
    described = root / "basemap.json"
    if not described.exists():
        return None
    return Basemap(**json.loads(described.read_text("utf-8")))


def tile(root: Path, z: int, x: int, y: int) -> tuple[bytes, Basemap] | None:
    info = current(root)
    if info is None:
        return None
    path = root / "tiles" / str(z) / str(x) / f"{y}.{info.format}"
    return (path.read_bytes(), info) if path.is_file() else None


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP


def tiles_over(
    root: Path, bounds: tuple[float, float, float, float], zooms: range, limit: int = 3000
) -> list[tuple[int, int, int]]:
    """The stored tiles covering `bounds` (west, south, east, north; WGS84) at `zooms`, the
    lower zooms first, at most `limit` (what a phone takes along for an area)."""
    import math

    info = current(root)
    if info is None:
        return []
    west, south, east, north = bounds
    found: list[tuple[int, int, int]] = []
    for z in zooms:
        if not info.minzoom <= z <= info.maxzoom:
            continue
        n = 1 << z

        def column(lon: float, n: int = n) -> int:
            return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

        def row(lat: float, n: int = n) -> int:
            rad = math.radians(max(-85.05, min(85.05, lat)))
            return min(n - 1, max(0, int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)))

        for x in range(column(west), column(east) + 1):
            for y in range(row(north), row(south) + 1):
                if (root / "tiles" / str(z) / str(x) / f"{y}.{info.format}").is_file():
                    found.append((z, x, y))
                    if len(found) >= limit:
                        return found
    return found
