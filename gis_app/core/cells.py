"""Text cells of every spreadsheet and CSV the app writes, neutralised against formula injection.

A value starting with `=`, `+`, `-`, `@`, tab or CR (and `|`, read by old Excel as a DDE call)
is taken by a spreadsheet as a formula: `=HYPERLINK("http://…?"&T11,"详情")` in an address would
send a row's person and phone away on a click. As OWASP advises for CSV, such a value gets a
leading apostrophe (`'=…`), which spreadsheets show as text; in .xlsx the cell is also written
as a string (openpyxl makes a string starting with `=` a formula cell). A plain number (`-3.5`,
`+86138…`) is no formula and stays as it is.

Every writer calls `neutralise`/`row` on what it writes (CSV and .xlsx exports, the ledger,
reports, the spot-check report); the ledger import undoes it with `restore`, so an export
imports back unchanged. The .xlsx export has PostgreSQL write its cells: `neutralise_sql` is
the same rule as an SQL expression (a test holds the two to the same answers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Text, case, literal
from sqlalchemy.sql.elements import ColumnElement

#: the characters a spreadsheet reads as the start of a formula (or a DDE call)
FORMULA_STARTS = frozenset("=+-@\t\r\n|")
QUOTE = "'"
#: a plain number (ASCII digits only, as PostgreSQL's regular expressions read them too)
NUMBER_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_NUMBER = re.compile(NUMBER_PATTERN)


def is_live(text: str) -> bool:
    """Whether a spreadsheet would read `text` as a formula (a plain number is not one)."""
    return bool(text) and text[0] in FORMULA_STARTS and not _NUMBER.fullmatch(text)


def neutralise(value: Any) -> Any:
    """A cell's value safe to write: text that would be a formula gets a leading apostrophe;
    anything else (numbers, dates, None) as it is. An openpyxl cell has its value neutralised."""
    if isinstance(value, str):
        return QUOTE + value if is_live(value) else value
    inner = getattr(value, "value", None)
    if isinstance(inner, str) and hasattr(value, "data_type"):
        value.value = neutralise(inner)
        value.data_type = "s"
    return value


def row(values: Iterable[Any]) -> list[Any]:
    """A row of cells, each neutralised."""
    return [neutralise(v) for v in values]


def append(sheet: Any, values: Iterable[Any]) -> None:
    """Append a neutralised row to an openpyxl sheet; no cell of it is a formula."""
    from openpyxl.worksheet.worksheet import Worksheet

    sheet.append(row(values))
    if isinstance(sheet, Worksheet):  # a write-only sheet has sent its rows out already
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"


def neutralise_sql(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """`neutralise` of a text expression, done by PostgreSQL (NULL stays NULL)."""
    starts = "".join(sorted(FORMULA_STARTS - {"-"})) + "-"  # "-" last: no range in [...]
    live = text.op("~", is_comparison=True)(literal(f"^[{starts}]", Text)) & text.op(
        "!~", is_comparison=True
    )(literal(f"^({NUMBER_PATTERN})$", Text))
    return case((live, literal(QUOTE, Text) + text), else_=text)


def restore(value: Any) -> Any:
    """Undo `neutralise` on a value read back from a spreadsheet (the import)."""
    if isinstance(value, str) and value.startswith(QUOTE) and is_live(value[1:]):
        return value[1:]
    return value
