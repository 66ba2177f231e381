"""Tiles that are cached and still correct: ETags from the versions of the map's squares, and
a bounded in-process cache of tile bytes keyed by those ETags.

Migrations 0080/0081 keep `tile_versions`: for every zoom-14 square, a row with a new number
for each statement that changed a site in it (or a step of a site's plan: a late step makes it
overdue), appended without locks; the row (-1, -1) changes with the streets. A tile covers a
range of squares (those under it and its buffer), so the sum of the versions in that range
changes exactly when a committed change touches a site the tile may show. The ETag hashes
that version with everything else the tile's bytes depend on: the tile address, the filter, the
day (overdue moves with the calendar), the actor's scope (a street role sees its own street)
and the tile format. The same ETag then
always means the same bytes, so

* a browser that has the tile asks with If-None-Match and gets 304 at the cost of one index
  lookup (tiles are sent `no-cache`: always revalidated, never stale after an edit);
* the bytes themselves can be kept in memory under their ETag (TileCache): no stale entry can
  be served, old ones simply age out of the LRU.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.maps import tiles

VERSION_ZOOM = 14  # the grid of tile_versions (migration 0080)
# bump when what a tile holds changes for the same data (its SQL, its properties)
TILE_FORMAT = "sites-mvt-4"

_VERSION_SQL = text(
    "SELECT coalesce(sum(version), 0) FROM tile_versions"
    " WHERE (x BETWEEN :x0 AND :x1 AND y BETWEEN :y0 AND :y1) OR (x = -1 AND y = -1)"
)


def _cell(lon: float, lat: float) -> tuple[int, int]:
    n = 2**VERSION_ZOOM
    lat = max(-85.0511, min(85.0511, lat))
    cx = math.floor((lon + 180.0) / 360.0 * n)
    cy = math.floor((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return max(0, min(n - 1, cx)), max(0, min(n - 1, cy))


def cell_range(z: int, x: int, y: int) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1): the zoom-14 squares under tile z/x/y and its buffer, bounds included."""
    tiles.check_tile(z, x, y)
    west, south, east, north = tiles.tile_bounds(z, x, y, tiles.BUFFER / tiles.EXTENT)
    x0, y0 = _cell(west, north)
    x1, y1 = _cell(east, south)
    return x0, x1, y0, y1


def tile_version(session: Session, z: int, x: int, y: int) -> int:
    """The sum of the versions of the squares tile z/x/y covers (and of the streets): any
    committed change under the tile changes it (migration 0081: versions are appended)."""
    x0, x1, y0, y1 = cell_range(z, x, y)
    return int(session.execute(_VERSION_SQL, {"x0": x0, "x1": x1, "y0": y0, "y1": y1}).scalar())


def tile_etag(
    version: int, flt: SiteFilter, today: date, z: int, x: int, y: int, actor: Actor | None
) -> str:
    """The tile's entity tag: the same for the same bytes, another after any change to them."""
    scope = "*" if actor is None else f"{actor.role}:{actor.street_code or ''}"
    key = "|".join(
        (TILE_FORMAT, f"{z}/{x}/{y}", str(version), today.isoformat(), scope, flt.model_dump_json())
    )
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class TileCache:
    """Tile bytes by ETag, least recently used first out, at most `max_bytes` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            data = self._items.get(etag)
            if data is None:
                self.misses += 1
                return None
            self._items.move_to_end(etag)
            self.hits += 1
            return data

    def put(self, etag: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            if etag in self._items:
                return
            self._items[etag] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0
