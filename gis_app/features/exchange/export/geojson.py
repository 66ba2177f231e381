"""GeoJSON (RFC 7946) streamed feature by feature: PostgreSQL builds each feature's text.

Longitude-latitude order, polygons with counter-clockwise exterior rings, no `crs` member;
the feature id is the site id (streets: the street code). Memory stays constant: one batch of
feature texts at a time (read through COPY: export/copy_stream.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.features.exchange.export import copy_stream
from gis_app.features.exchange.export.fields import ExportField, Lang
from gis_app.features.exchange.export.source import LayerSource, Progress, local_time


def geojson_chunks(
    session: Session,
    src: LayerSource,
    fields: Sequence[ExportField],
    lang: Lang,
    progress: Progress = None,
) -> Iterator[bytes]:
    """The FeatureCollection as byte chunks (about a megabyte each)."""
    head = {
        "type": "FeatureCollection",
        "name": src.layer,
        "timeStamp": clock.now().isoformat(timespec="seconds"),
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n').encode()
    query = src.features(fields, lang)
    done = 0
    local_time(session)
    for lines in copy_stream.copy_lines(session, query):
        # one feature per line; JSON text has no raw line break
        text = lines.rstrip(b"\n").replace(b"\n", b",\n")
        yield (b",\n" if done else b"") + text
        done += lines.count(b"\n")
        if progress is not None:
            progress(done)
    yield b"\n]}\n"
