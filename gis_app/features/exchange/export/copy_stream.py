"""Stream one text column of a query out of PostgreSQL with COPY, in bounded memory.

A named cursor (the usual way to read a large result in batches) makes PostgreSQL plan the
query without parallel workers; `COPY (query) TO STDOUT` does not, and sends the rows as
they are produced. psycopg2's `copy_expert` pushes the data into a file object, so a thread
runs it and hands ~1 MB chunks to the reader through a small queue: at most a few chunks are
held at once, and a reader that stops early (a client that hung up) cancels the COPY.

The rows come back one per line, unescaped: CSV format with a quote and a delimiter character
that the texts never hold raw (PostgreSQL's JSON escapes every control character; the .xlsx
rows leave out the characters XML forbids and write line breaks as character references:
export/xlsx.py), so each line is the value exactly as PostgreSQL built it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

CHUNK_BYTES = 1 << 20
QUEUE_CHUNKS = 4
_DONE = object()


class _Cancelled(Exception):
    """The reader stopped: end the COPY."""


class _ChunkWriter:
    """The file object copy_expert writes to: gathers rows into chunks for the queue."""

    def __init__(self, out: queue.Queue, cancelled: threading.Event) -> None:
        self.out = out
        self.cancelled = cancelled
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes | str) -> int:
        if self.cancelled.is_set():
            raise _Cancelled
        raw = data.encode() if isinstance(data, str) else bytes(data)
        self.parts.append(raw)
        self.size += len(raw)
        if self.size >= CHUNK_BYTES:
            self.flush()
        return len(raw)

    def flush(self) -> None:
        if self.parts:
            self._put(b"".join(self.parts))
            self.parts, self.size = [], 0

    def _put(self, item: object) -> None:
        while True:  # give up once the reader has gone
            if self.cancelled.is_set():
                raise _Cancelled
            try:
                self.out.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def copy_sql(session: Session, query: Select) -> str:
    """The query as one SQL text with its parameters bound by psycopg2 itself."""
    connection = session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )  # IN (…) lists expanded into one parameter each
    params = compiled.construct_params()
    for name, processor in (compiled._bind_processors or {}).items():
        if name in params and params[name] is not None:
            params[name] = processor(params[name])
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cur:
        sql = cur.mogrify(str(compiled), params)
    return sql.decode() if isinstance(sql, bytes) else sql


def copy_lines(session: Session, query: Select) -> Iterator[bytes]:
    """Chunks of the query's single text column, one value per line ("\\n"-terminated)."""
    sql = copy_sql(session, query)
    raw: Any = session.connection().connection.dbapi_connection
    out: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    cancelled = threading.Event()
    failure: list[BaseException] = []

    def produce() -> None:
        writer = _ChunkWriter(out, cancelled)
        try:
            with raw.cursor() as cur:
                cur.copy_expert(
                    f"COPY ({sql}) TO STDOUT (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')",
                    writer,
                )
            writer.flush()
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the reader, raised there
            failure.append(exc)
        finally:
            with contextlib.suppress(_Cancelled):  # the reader has gone: nobody waits
                writer._put(_DONE)

    worker = threading.Thread(target=produce, name="copy-stream", daemon=True)
    worker.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                break
            yield item  # type: ignore[misc]
    finally:
        cancelled.set()
        worker.join()
    if failure:
        raise failure[0]
