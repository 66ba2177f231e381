"""Chinese by default (issue 15, point 9): a Chinese office's exports have Chinese field names
and code labels unless English is asked for; the .xlsx field sheet is in the export's
language."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from gis_app.features.exchange.export import labels_zh
from gis_app.features.exchange.export.fields import LAT, LON, SITE_FIELDS, STREET_FIELDS
from gis_app.settings import DistrictSettings
from tests.support.sites import site_payload


@pytest.fixture()
def office(client, auth):
    headers = auth.headers("lang.office", "district_officer")
    created = client.post("/api/v1/sites", json=site_payload(code="LANG-1"), headers=headers)
    assert created.status_code == 201
    auth.login(client, "lang.office", "district_officer")
    return client


def _csv(client, query: str = "") -> list[list[str]]:
    response = client.get(f"/exports/sites.csv{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_default_is_chinese_and_english_on_request(office) -> None:
    assert DistrictSettings().export_lang == "zh"
    header, row = _csv(office)[:2]
    assert header[:3] == ["标识", "编号", "街道代码"] and "治理方式" in header
    assert row[header.index("治理方式")] == "拆除"
    assert row[header.index("状态")] == "已建档"
    header, row = _csv(office, "?lang=en")[:2]
    assert "disposition" in header and row[header.index("disposition")] == "demolish"
    page = office.get("/exports").get_data(as_text=True)
    assert 'value="zh" checked' in page


def test_the_office_setting_decides_the_default(office, app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "EXPORT_LANG", "en")
    header = _csv(office)[0]
    assert "disposition" in header


def _field_sheet(office, query: str):
    response = office.get(f"/exports/sites.xlsx{query}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return book.sheetnames, list(book[book.sheetnames[-1]].iter_rows(values_only=True))


def test_the_xlsx_field_sheet_speaks_the_exports_language(office) -> None:
    names, rows = _field_sheet(office, "")
    assert names[-1] == "字段说明"
    assert list(rows[0]) == ["字段", "英文名", "中文名", "类型", "说明", "代码"]
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["disposition"][0] == "治理方式"
    assert by_name["disposition"][3] == "文本"
    assert by_name["disposition"][4] == "治理方式：拆除或规范治理。"
    assert by_name["disposition"][5] == "拆除；规范治理"
    for r in rows[1:]:
        description = r[4] or ""
        assert any("\u4e00" <= ch <= "\u9fff" for ch in description), r
    names, rows = _field_sheet(office, "?lang=en")
    assert names[-1] == "fields" and rows[0][0] == "field"
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["disposition"][4].startswith("Disposition")
    assert by_name["disposition"][5] == "demolish = 拆除; rectify = 规范治理"


def test_every_field_has_a_chinese_description() -> None:
    for layer, fields in (("sites", SITE_FIELDS), ("streets", STREET_FIELDS)):
        fields = (*fields, LON, LAT)
        missing = [f.name for f in fields if f.name not in labels_zh.DESCRIPTIONS_ZH[layer]]
        assert missing == [], (layer, missing)
