"""Entity expansion and echoed values (issue 16, point 7): an .xlsx with a DTD is refused
before it is parsed, and no error message sends a huge value back."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from gis_app.core.errors import MAX_MESSAGE, ImportRejected, ValidationError, excerpt
from tests.support.accounts import csrf

LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n'
)


def _ledger_with_entities() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "地址", "经度", "纬度", "治理方式", "承诺期限"])
    sheet.append(["E-1", "ADDRESS_HERE", 117.2381, 39.11, "拆除", "2026-09-30"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = text[text.index("<worksheet") :]  # the declaration is replaced
                text = text.replace('t="s"><v>', 't="inlineStr"><v>', 0)
                data = (LAUGHS + text).encode()
            if item.filename == "xl/sharedStrings.xml":
                text = data.decode()
                text = LAUGHS.replace("worksheet", "sst") + text[text.index("<sst") :]
                data = text.replace("ADDRESS_HERE", "&d;&d;&d;").encode()
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.slow
def test_an_xlsx_with_a_dtd_is_refused_with_a_short_answer(office) -> None:
    data = _ledger_with_entities()
    assert len(data) < 10_000
    response = office.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(data), "ledger.xlsx"), "dry_run": "true"},
        headers={"X-CSRF-Token": csrf(office)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.text[:500]
    assert "DTD" in response.get_json()["message"]
    assert len(response.get_data()) < 2_000


def test_echoed_values_are_cut_to_an_excerpt(client, auth) -> None:
    headers = auth.headers("ex.office", "district_officer")
    huge = "x" * 20_000
    for url in (f"/api/v1/sites?status={huge}", f"/api/v1/sites?street={huge}"):
        response = client.get(url, headers=headers)
        assert response.status_code in (414, 422), response.status_code
        if response.status_code == 422:
            assert len(response.get_json()["message"]) <= MAX_MESSAGE + 1
    assert excerpt("abc") == "abc" and excerpt("a" * 100) == "a" * 40 + "…"
    assert len(ValidationError("值：" + huge, "f").message) <= MAX_MESSAGE + 1
    rejected = ImportRejected(
        "bad", [{"row": i, "field": "x", "message": huge} for i in range(3000)]
    )
    assert len(rejected.errors) == 1000 and rejected.details["errors_total"] == 3000
    assert all(len(e["message"]) <= MAX_MESSAGE + 1 for e in rejected.errors)


def test_a_csv_cell_of_20000_characters_is_not_echoed(office) -> None:
    text = (
        "编号,地址,经度,纬度,治理方式,承诺期限\n" + f"E-2,某路,117.2381,39.11,拆除,{'9' * 20000}\n"
    )
    response = office.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(text.encode()), "ledger.csv"), "dry_run": "true"},
        headers={"X-CSRF-Token": csrf(office)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.text[:300]
    assert len(response.get_data()) < 2_000
