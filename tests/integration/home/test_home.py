"""The home page: each street with its counts by status."""

from __future__ import annotations

import re
from datetime import date

from gis_app.demo.loader import load_demo


def test_home_lists_every_street_with_counts(office, app) -> None:
    from gis_app.http.database import session

    with app.app_context():
        load_demo(session(), n_sites=300, seed=5, today=date(2026, 6, 15))
        session().commit()
    html = office.get("/").get_data(as_text=True)
    assert "违法建设分步治理点位台账" in html
    rows = re.findall(r'<tr data-street="(\d+)">(.*?)</tr>', html, re.S)
    assert len(rows) == 12
    api = office.get("/api/v1/streets").get_json()
    counts = {f["id"]: f["properties"]["counts"] for f in api["features"]}
    for code, row in rows:
        cells = dict(re.findall(r'data-status="(\w+)">(\d+)<', row))
        for status, value in cells.items():
            assert int(value) == counts[code][status], (code, status)
    totals = re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0)
    assert ">300<" in totals
    assert "示意" in html  # approximate boundaries are marked
    assert "/api/v1/openapi.json" in html


def test_api_doc_page_and_chinese_404(office) -> None:
    page = office.get("/api").get_data(as_text=True)
    assert "/sites/{site_id}" in page
    missing = office.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "找不到页面" in missing.get_data(as_text=True)
