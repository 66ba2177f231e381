"""Tables for spreadsheets and desks without GIS: CSV (streamed) and .xlsx (written row by row).

Sites carry their point as `lon`/`lat` (经度/纬度) columns; streets carry a point inside the
polygon there, and the CSV has the polygon itself as a `WKT` column (GDAL and QGIS read it as
the geometry). Headers are the English names, or the Chinese ones with lang=zh.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_app.core import cells
from gis_app.features.exchange.export.fields import LAT, LON, ExportField, Lang
from gis_app.features.exchange.export.source import (
    CSV_STYLE,
    LayerSource,
    Progress,
    RowStyle,
    iter_batches,
)

BOM = "\ufeff"  # Excel reads UTF-8 CSV as Chinese text only with it
WKT = "WKT"
XLSX_DATETIME = "yyyy-mm-dd hh:mm:ss"


def table_columns(src: LayerSource, fields: Sequence[ExportField]) -> list[ExportField]:
    """The columns after the fields: the point (lon, lat)."""
    return [*fields, LON, LAT]


def xlsx_style(lang: Lang) -> RowStyle:
    """Excel cells: Beijing wall-clock times, floats; booleans as 是/否 in Chinese."""
    return RowStyle(times="local", booleans="text" if lang == "zh" else "raw", numbers="float")


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


def write_xlsx(
    session: Session,
    src: LayerSource,
    fields: Sequence[ExportField],
    lang: Lang,
    path: Path,
    progress: Progress = None,
) -> None:
    """An .xlsx with the features (first sheet) and the field descriptions (second sheet).

    openpyxl's write-only mode writes each row out as it comes: memory stays flat.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from gis_app.features.exchange.export.fields import LAYER_TITLES

    book = Workbook(write_only=True)
    sheet = book.create_sheet(LAYER_TITLES[src.layer] if lang == "zh" else src.layer)
    columns = table_columns(src, fields)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = cells.neutralise(WriteOnlyCell(sheet, column.title(lang)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # dates get openpyxl's date format by themselves; date-times need hh for GDAL to see them
    times = [i for i, c in enumerate(columns) if c.type == "datetime"]
    done = 0
    query = src.rows(fields, lang, xlsx_style(lang), "lonlat")
    for batch in iter_batches(session, query):
        for row in batch:
            values = cells.row(row)
            for i in times:
                if values[i] is not None:
                    cell = WriteOnlyCell(sheet, values[i])
                    cell.number_format = XLSX_DATETIME
                    values[i] = cell
            sheet.append(values)
        done += len(batch)
        if progress is not None:
            progress(done)
    _dictionary_sheet(book, src.layer, columns, lang)
    book.save(path)


def _dictionary_sheet(book: Any, layer: str, columns: Sequence[ExportField], lang: Lang) -> None:
    """The field sheet, in the export's language (labels_zh has the Chinese words)."""
    from gis_app.features.exchange.export import labels_zh as zh

    sheet = book.create_sheet("字段说明" if lang == "zh" else "fields")
    cells.append(sheet, zh.SHEET_HEADINGS[lang])
    for c in columns:
        cells.append(
            sheet,
            [
                c.title(lang),
                c.name,
                c.zh,
                zh.type_label(c.type, lang),
                zh.description(layer, c.name, c.description, lang),
                zh.code_list(dict(c.codes) if c.codes else None, lang),
            ],
        )
