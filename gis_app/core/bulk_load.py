"""Bulk loading with PostgreSQL's COPY: many rows in one statement, streamed, not row by row.

Rows are written as COPY's text format (tab-separated, ``\\N`` for NULL) into a file-like
stream that psycopg2's ``copy_expert`` reads chunk by chunk, so a million rows never sit in
memory as one string. Geometry travels as EWKT (``SRID=4326;POINT(lon lat)``), which the
geometry column's input function parses; floats are written with ``repr`` (shortest text
that reads back as the same double), so a point loaded here is bit-identical to one made with
``ST_MakePoint`` from the same floats.

The COPY runs on the session's own connection, inside its transaction: a caller that rolls
back (a failed load, a test) leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

# the columns of `sites` a load writes, in order (everything else takes its default)
SITE_COLUMNS: tuple[str, ...] = (
    "district_code",
    "code",
    "street_id",
    "address",
    "community",
    "kind",
    "area_m2",
    "person_name",
    "person_contact",
    "disposition",
    "flag_central_inspection",
    "flag_hardship",
    "flag_renovation",
    "flag_obstruction",
    "committed_deadline",
    "current_deadline",
    "status",
    "source",
    "note",
    "geom",
    "version",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
)

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    # most values need no escape: four scans in C are cheaper than translate()
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _json(value: Any) -> str:
    return _text(json.dumps(value, ensure_ascii=False))


_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _text,
    bool: lambda v: "t" if v else "f",
    int: str,
    float: repr,  # the shortest text that reads back as the same double
    Decimal: str,
    date: date.isoformat,
    datetime: datetime.isoformat,
    dict: _json,  # json / jsonb
    list: _json,
    type(None): lambda _v: "\\N",
}


def copy_value(value: Any) -> str:
    """One value in COPY's text format."""
    fmt = _FORMATS.get(type(value))
    if fmt is None:
        raise TypeError(f"no COPY text format for {type(value).__name__}: {value!r}")
    return fmt(value)


def point_ewkt(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon!r} {lat!r})"


class _LineStream:
    """A read()-able stream over lines made on demand (what copy_expert reads from)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        want = size if size and size > 0 else 1 << 20
        parts, have = [self._buffer], len(self._buffer)
        for line in self._lines:
            data = line.encode("utf-8")
            parts.append(data)
            have += len(data)
            if have >= want:
                break
        data = b"".join(parts)
        self._buffer = data[want:]
        return data[:want]

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - not used by COPY FROM
        return self.read(size)


def copy_rows(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    progress: Callable[[int], None] | None = None,
    every: int = 100_000,
) -> int:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for row in rows:
            count += 1
            if progress is not None and count % every == 0:
                progress(count)
            yield "\t".join(copy_value(v) for v in row) + "\n"

    cols = ", ".join(columns)
    with session.connection().connection.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN", _LineStream(lines()), size=1 << 18)
    return count


def copy_dicts(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> int:
    """COPY dicts (one key per column) into ``table``."""
    return copy_rows(session, table, columns, (tuple(r[c] for c in columns) for r in rows))


def site_row(
    site: dict[str, Any], district_code: str, street_id: int, actor: str
) -> tuple[Any, ...]:
    """A generated site (gis_app.demo.sites_generator's dict) as a row of SITE_COLUMNS."""
    created = site["created_at"]
    return (
        district_code,
        site["code"],
        street_id,
        site["address"],
        site["community"],
        site["kind"],
        site["area_m2"],
        site["person_name"],
        site["person_contact"],
        site["disposition"],
        site["flag_central_inspection"],
        site["flag_hardship"],
        site["flag_renovation"],
        site["flag_obstruction"],
        site["committed_deadline"],
        site["current_deadline"],
        site["status"],
        site["source"],
        site["note"],
        point_ewkt(site["lon"], site["lat"]),
        1,
        actor,
        actor,
        created,
        created,
    )


def copy_sites(
    session: Session,
    sites: Iterable[dict[str, Any]],
    street_ids: dict[str, int],
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """COPY generated sites into `sites` (district code from the street code's first 6 digits);
    ids follow the order of ``sites``."""
    rows = (site_row(s, s["street_code"][:6], street_ids[s["street_code"]], actor) for s in sites)
    return copy_rows(session, "sites", SITE_COLUMNS, rows, progress)
