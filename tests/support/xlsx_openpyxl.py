"""The .xlsx export as openpyxl wrote it (write-only mode) before PostgreSQL wrote the sheet's
rows (gis_app/features/exchange/export/xlsx.py): the reference the tests compare the new file
with cell by cell, and the baseline of bench/export_bench.py (17.8 s at 100,000 sites)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_app.core import cells
from gis_app.features.exchange.export.fields import ExportField, Lang
from gis_app.features.exchange.export.source import LayerSource, Progress, iter_batches
from gis_app.features.exchange.export.tabular import table_columns
from gis_app.features.exchange.export.xlsx import xlsx_style

XLSX_DATETIME = "yyyy-mm-dd hh:mm:ss"


def write_xlsx_openpyxl(
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
