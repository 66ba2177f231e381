"""Tables for spreadsheets and desks without GIS: CSV (streamed); the .xlsx is export/xlsx.py.

Sites carry their point as `lon`/`lat` (经度/纬度) columns; streets carry a point inside the
polygon there, and the CSV has the polygon itself as a `WKT` column (GDAL and QGIS read it as
the geometry). Headers are the English names, or the Chinese ones with lang=zh.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from sqlalchemy.orm import Session

from gis_app.core import cells
from gis_app.features.exchange.export.fields import LAT, LON, ExportField, Lang
from gis_app.features.exchange.export.source import (
    CSV_STYLE,
    LayerSource,
    Progress,
    iter_batches,
)

BOM = "\ufeff"  # Excel reads UTF-8 CSV as Chinese text only with it
WKT = "WKT"


def table_columns(src: LayerSource, fields: Sequence[ExportField]) -> list[ExportField]:
    """The columns after the fields: the point (lon, lat)."""
    return [*fields, LON, LAT]


def csv_chunks(
    session: Session,
    src: LayerSource,
    fields: Sequence[ExportField],
    lang: Lang,
    progress: Progress = None,
) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark, one batch of rows per chunk."""
    with_wkt = src.layer == "streets"
    columns = table_columns(src, fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(cells.row([c.title(lang) for c in columns] + ([WKT] if with_wkt else [])))
    yield (BOM + buffer.getvalue()).encode()
    done = 0
    geometry = "lonlat+wkt" if with_wkt else "lonlat"
    # PostgreSQL writes every value as text already; csv only quotes and joins
    for batch in iter_batches(session, src.rows(fields, lang, CSV_STYLE, geometry)):
        buffer.seek(0)
        buffer.truncate()
        # text that a spreadsheet would run as a formula gets its apostrophe (core.cells)
        writer.writerows(cells.row(r) for r in batch)
        yield buffer.getvalue().encode()
        done += len(batch)
        if progress is not None:
            progress(done)
