"""The .xlsx export: PostgreSQL writes each row of the sheet as SpreadsheetML, Python zips it.

A spreadsheet library spends a few microseconds on every cell in Python (100,000 sites are
2.9 million cells: 17.8 s with openpyxl's write-only mode). Here the features' query builds
each `<row>` text itself, as the GeoJSON export has it build each feature, and COPY streams
the rows (export/copy_stream.py) straight into the zip member: no Python work per row or cell,
memory flat. What the sheet holds is what openpyxl wrote (the reference in
tests/support/xlsx_openpyxl.py; a test reads both and compares every cell):

- strings as inline strings, neutralised against formulas by the rule of gis_app.core.cells
  (`neutralise_sql`), with the characters XML 1.0 forbids left out;
- numbers as numbers, booleans as booleans (是/否 text in Chinese), dates and Beijing
  wall-clock times as Excel serial days with a date or date-time format;
- the header row bold and frozen; the field sheet (字段说明) in the export's language, written
  here in Python (a few dozen rows, each through `cells.neutralise`).

Cells carry no `r` reference: ECMA-376 makes it optional and readers count the cells; an empty
value is an empty `<c/>`, which keeps the columns in place.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import Date, Float, Text, case, cast, func, literal, select
from sqlalchemy.orm import Session

from gis_app.core import cells
from gis_app.features.exchange.export import copy_stream
from gis_app.features.exchange.export.fields import LAYER_TITLES, ExportField, Lang
from gis_app.features.exchange.export.source import LayerSource, Progress, RowStyle, local_time

#: deflate level of the sheet: 1 compresses about as well as 6 on this XML, several times faster
COMPRESS_LEVEL = 1
#: the characters XML 1.0 does not allow (tab, line feed and carriage return it does)
XML_FORBIDDEN = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r")
#: cell styles (styles.xml cellXfs): plain, bold header, date, Beijing date-time
STYLE_BOLD, STYLE_DATE, STYLE_DATETIME = 1, 2, 3
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"  # hh: GDAL reads the column as date-times
EXCEL_EPOCH = "1899-12-30"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def xlsx_style(lang: Lang) -> RowStyle:
    """Excel cells: Beijing wall-clock times, floats; booleans as 是/否 in Chinese."""
    return RowStyle(times="local", booleans="text" if lang == "zh" else "raw", numbers="float")


# ---------------------------------------------------------------- cells, built by PostgreSQL


def _lit(text: str) -> Any:
    return literal(text, Text)


#: nothing to do for a text without these: no forbidden or escaped character anywhere, no
#: formula start or blank first, no blank last (the rest go through `xml_text`)
PLAIN_TEXT = (
    "[&<>\t\r\n" + XML_FORBIDDEN + "]|^[ " + "".join(sorted(cells.FORMULA_STARTS - {"-"})) + "-]| $"
)


def xml_text(value: Any) -> Any:
    """Text made safe for a cell: forbidden characters out, then neutralised, then escaped.
    Line breaks become character references, so that every row stays on one line of COPY."""
    clean = cells.neutralise_sql(func.translate(value, _lit(XML_FORBIDDEN), _lit("")))
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        clean = func.replace(clean, _lit(raw), _lit(entity))
    for raw, entity in (("\n", "&#10;"), ("\r", "&#13;")):
        clean = func.replace(clean, _lit(raw), _lit(entity))
    return clean


def string_cell(value: Any) -> Any:
    """An inline string cell; leading or trailing blanks kept (xml:space). An empty text is
    an empty cell, as openpyxl wrote it. Most texts need nothing done: one regular expression
    tells them, and they are written as they are."""
    text = cast(value, Text)
    space = case(
        (
            text.op("~", is_comparison=True)(_lit("^[ \t\n\r]|[ \t\n\r]$")),
            _lit(' xml:space="preserve"'),
        ),
        else_=_lit(""),
    )
    return case(
        (text == _lit(""), None),
        (
            text.op("!~", is_comparison=True)(_lit(PLAIN_TEXT)),
            _lit(INLINE_OPEN + ">") + text + _lit(INLINE_CLOSE),
        ),
        else_=_lit(INLINE_OPEN) + space + _lit(">") + xml_text(text) + _lit(INLINE_CLOSE),
    )


INLINE_OPEN, INLINE_CLOSE = '<c t="inlineStr"><is><t', "</t></is></c>"


def constant_cells(value: Any, cells_by_value: dict[Any, str]) -> Any:
    """A cell among a few known values (code labels, 是/否), written once here in Python."""
    whens = [(value == key, _lit(xml)) for key, xml in cells_by_value.items()]
    return case(*whens, else_=None)


def number_cell(value: Any, style: int | None = None) -> Any:
    attrs = f' s="{style}"' if style is not None else ""
    return _lit(f"<c{attrs}><v>") + cast(value, Text) + _lit("</v></c>")


def boolean_cell(value: Any) -> Any:
    return _lit('<c t="b"><v>') + case((value, _lit("1")), else_=_lit("0")) + _lit("</v></c>")


def cell(f: ExportField, value: Any, lang: Lang) -> Any:
    """The cell of one field as SpreadsheetML text; `<c/>` when the value is empty."""
    if f.codes is not None and lang == "zh":  # the label of a code, or an unknown code itself
        labels = {label: _text_cell(label) for label in f.codes.values()}
        text = func.coalesce(constant_cells(value, labels), string_cell(value))
    elif f.codes is not None or f.type == "string":
        text = string_cell(value)
    elif f.type == "boolean" and lang == "zh":
        text = constant_cells(value, {"是": _text_cell("是"), "否": _text_cell("否")})
    elif f.type == "boolean":
        text = boolean_cell(value)
    elif f.type == "date":
        text = number_cell(value - cast(_lit(EXCEL_EPOCH), Date), STYLE_DATE)
    elif f.type == "datetime":  # a wall-clock time: days since Excel's epoch, with fraction
        seconds = func.extract("epoch", value - cast(_lit(EXCEL_EPOCH), Date))
        text = number_cell(cast(seconds, Float) / 86400.0, STYLE_DATETIME)
    else:
        text = number_cell(value)
    return func.coalesce(text, _lit("<c/>"))


def row_lines(
    src: LayerSource, fields: Sequence[ExportField], columns: Sequence[ExportField], lang: Lang
) -> Any:
    """One column: each feature's `<row>…</row>`, in id order."""
    values, order = src.row_columns(fields, lang, xlsx_style(lang), "lonlat")
    text: Any = _lit("<row>")
    for f, value in zip(columns, values, strict=True):
        text = text + cell(f, value, lang)
    return select((text + _lit("</row>")).label("row")).order_by(order)


# ---------------------------------------------------------------- the rest, in Python


def _text_cell(value: Any, style: int | None = None) -> str:
    if value is None or value == "":
        return "<c/>"
    text = str(cells.neutralise("".join(ch for ch in str(value) if ch not in XML_FORBIDDEN)))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    attrs = f' s="{style}"' if style is not None else ""
    body = escape(text).replace("\n", "&#10;").replace("\r", "&#13;")
    return f'<c t="inlineStr"{attrs}><is><t{space}>{body}</t></is></c>'


def _row(values: Sequence[Any], style: int | None = None) -> str:
    return "<row>" + "".join(_text_cell(v, style) for v in values) + "</row>"


def _sheet_head(frozen: bool) -> str:
    pane = (
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        if frozen
        else ""
    )
    return (
        f'{XML_HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
        f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
    )


SHEET_TAIL = "</sheetData></worksheet>"


def _field_rows(layer: str, columns: Sequence[ExportField], lang: Lang) -> list[list[Any]]:
    """The field sheet, in the export's language (labels_zh has the Chinese words)."""
    from gis_app.features.exchange.export import labels_zh as zh

    rows: list[list[Any]] = [list(zh.SHEET_HEADINGS[lang])]
    for c in columns:
        rows.append(
            [
                c.title(lang),
                c.name,
                c.zh,
                zh.type_label(c.type, lang),
                zh.description(layer, c.name, c.description, lang),
                zh.code_list(dict(c.codes) if c.codes else None, lang),
            ]
        )
    return rows


def _package(names: Sequence[str]) -> dict[str, str]:
    """The parts around the sheets: content types, relationships, workbook, styles."""
    sheets = range(1, len(names) + 1)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in sheets
    )
    types = (
        f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>"
    )
    root_rels = (
        f'{XML_HEAD}<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    book_sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, name in zip(sheets, names, strict=True)
    )
    workbook = (
        f'{XML_HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView '
        f'activeTab="0"/></bookViews><sheets>{book_sheets}</sheets></workbook>'
    )
    book_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in sheets
    )
    styles_id = len(names) + 1
    book_rels += f'<Relationship Id="rId{styles_id}" Type="{REL}/styles" Target="styles.xml"/>'
    styles = (
        f'{XML_HEAD}<styleSheet xmlns="{MAIN}">'
        f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/>'
        f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="4">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )
    return {
        "[Content_Types].xml": types,
        "_rels/.rels": root_rels,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": f'{XML_HEAD}<Relationships xmlns="{PKG_REL}">'
        f"{book_rels}</Relationships>",
        "xl/styles.xml": styles,
    }


def write_xlsx(
    session: Session,
    src: LayerSource,
    fields: Sequence[ExportField],
    lang: Lang,
    path: Path,
    progress: Progress = None,
) -> None:
    """An .xlsx with the features (first sheet) and the field descriptions (second sheet)."""
    from gis_app.features.exchange.export.tabular import table_columns

    columns = table_columns(src, fields)
    names = [LAYER_TITLES[src.layer] if lang == "zh" else src.layer]
    names.append("字段说明" if lang == "zh" else "fields")
    query = row_lines(src, fields, columns, lang)
    local_time(session)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as book:
        for name, text in _package(names).items():
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_sheet_head(frozen=True).encode())
            sheet.write(_row([c.title(lang) for c in columns], STYLE_BOLD).encode() + b"\n")
            done = 0
            for lines in copy_stream.copy_lines(session, query):
                sheet.write(lines)
                done += lines.count(b"\n")
                if progress is not None:
                    progress(done)
            sheet.write(SHEET_TAIL.encode())
        field_sheet = "".join(_row(r) for r in _field_rows(src.layer, columns, lang))
        book.writestr(
            "xl/worksheets/sheet2.xml", _sheet_head(frozen=False) + field_sheet + SHEET_TAIL
        )
