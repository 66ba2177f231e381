"""The ledger as a list (issue 15, point 1): search, filters, sorting, paging over the sites the
user may see, and the bulk actions on a selection (export, print)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from gis_app.demo.loader import load_demo
from tests.support.workflow import DZG


@pytest.fixture()
def demo(app, connection) -> None:
    from gis_app.http.database import session

    with app.app_context():
        load_demo(session(), n_sites=120, seed=3, today=date(2026, 6, 15))
        session().commit()


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-site="(\d+)"', html)]


def test_search_filter_sort_page_and_scope(client, auth, demo) -> None:
    auth.login(client, "list.office", "district_officer")
    html = client.get("/sites").get_data(as_text=True)
    assert "共 120 个" in html and len(_ids(html)) == 50 and "第 1 / 3 页" in html
    last = client.get("/sites?page=3").get_data(as_text=True)
    assert len(_ids(last)) == 20
    closed = client.get("/sites?status=closed&sort=deadline&dir=desc").get_data(as_text=True)
    assert set(re.findall(r'<tr data-site="\d+" data-status="(\w+)"', closed)) == {"closed"}
    deadlines = re.findall(r'<td data-col="current_deadline">([\d-]*)</td>', closed)
    dated = [d for d in deadlines if d]
    assert dated == sorted(dated, reverse=True)
    code = re.search(r'<a href="/sites/\d+">([^<]+)</a>', html)[1]
    found = client.get(f"/sites?q={code}").get_data(as_text=True)
    assert len(_ids(found)) == 1 and code in found
    bad = client.get("/sites?status=nonsense").get_data(as_text=True)
    assert "flash-error" in bad
    auth.login(client, "list.street", "street_officer", DZG)
    own = client.get("/sites").get_data(as_text=True)
    streets = set(re.findall(r'<td data-col="street">([^<]+)</td>', own))
    assert streets == {"大直沽街道"}


def test_export_and_print_a_selection(client, auth, demo) -> None:
    auth.login(client, "list.office2", "district_officer")
    ids = _ids(client.get("/sites?sort=code").get_data(as_text=True))[:3]
    query = "&".join(f"id={i}" for i in ids)
    exported = client.get(f"/sites/selection.csv?{query}")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    lines = exported.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("编号,地址,街道") and len(lines) == 4
    printed = client.get(f"/sites/print?{query}").get_data(as_text=True)
    assert printed.count("<tr><td>") == 3
    # another street's sites are not exported to a street user
    auth.login(client, "list.zsm", "street_officer", "120102003")
    other = client.get(f"/sites/selection.csv?{query}").get_data(as_text=True)
    dzg_rows = [line for line in other.splitlines()[1:] if "大直沽" in line]
    assert dzg_rows == []
