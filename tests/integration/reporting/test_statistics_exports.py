"""Statistics match the ledger; the .xlsx exports read back with openpyxl with the right
figures and Chinese headers; personal data only in the district's ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from gis_app.core import clock, codes
from gis_app.core.errors import Forbidden, ImportRejected
from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import SiteFilter, counts_by_status
from gis_app.features.reporting import service as reports
from gis_app.features.reporting import spreadsheets as exports
from gis_app.features.reporting import statistics
from gis_app.features.reporting.models import MonthlyReport
from gis_app.features.streets.models import Street
from gis_app.features.workflow import service as workflow
from tests.support.workflow import CIVIL, DZG, DZG_OFFICER, OFFICE, ZSM, ZSM_OFFICER, make_site

TODAY = date(2026, 6, 15)


@pytest.fixture()
def demo(db_session):
    load_demo(db_session, n_sites=300, seed=3, today=TODAY)
    return db_session


def _rows(data: bytes) -> tuple[str, list[str], list[list]]:
    wb = load_workbook(BytesIO(data), read_only=True)
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    wb.close()
    return rows[0][0], rows[1], rows[2:]


def test_street_stats_match_the_ledger(demo) -> None:
    stats = statistics.street_stats(demo, TODAY)
    assert len(stats) == 12
    for s in stats:
        counts = counts_by_status(demo, SiteFilter(streets=[s["code"]]), TODAY)
        assert s["total"] == counts["total"]
        assert s["by_status"] == {k: counts[k] for k in codes.STATUSES}
        assert s["overdue"] == counts["overdue"]
        closed_demolished = demo.scalar(
            select(func.coalesce(func.sum(Site.area_m2), 0))
            .join(Street, Street.id == Site.street_id)
            .where(Street.code == s["code"], Site.status == "closed",
                   Site.disposition == "demolish")
        )  # fmt: skip
        assert Decimal(str(s["area_demolished"])) == closed_demolished
        assert sum(s["by_disposition"].values()) == s["total"]
    totals = statistics.district_totals(stats)
    assert totals["total"] == 300
    assert totals["completion"] == pytest.approx(totals["closed"] / 300)


def test_ranking_and_lagging(demo) -> None:
    stats = statistics.street_stats(demo, TODAY)
    ranked = statistics.ranking(stats)
    # progress against the baseline decides (sites found on patrol are additions, apart)
    rates = [r["baseline"]["progress"] or 0 for r in ranked]
    assert rates == sorted(rates, reverse=True)
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    lag = statistics.lagging(stats)
    bottom = {r["code"] for r in ranked[-statistics.LAG_BOTTOM :]}
    assert bottom <= {s["code"] for s in lag}
    # May's report (the last one due on 2026-06-15) as stored decides a reason of its own
    may = dict(
        demo.execute(
            select(Street.code, MonthlyReport.late)
            .join(MonthlyReport, MonthlyReport.street_id == Street.id)
            .where(MonthlyReport.month == date(2026, 5, 1))
        ).all()
    )
    named = {s["code"]: s["reasons"] for s in lag}
    for s in stats:
        expected = (
            None
            if may.get(s["code"]) is False
            else ("2026年5月月报逾期报送" if s["code"] in may else "2026年5月月报未报送")
        )
        assert (
            s["last_report_state"]
            == {None: "on_time", "2026年5月月报逾期报送": "late", "2026年5月月报未报送": "missing"}[
                expected
            ]
        )
        if expected:
            assert expected in named[s["code"]]
        else:
            assert not any("5月月报" in r for r in named.get(s["code"], []))


def test_ledger_xlsx_for_the_office_carries_personal_data_marked(demo) -> None:
    data, personal = exports.ledger_xlsx(demo, OFFICE, district_name="河东区")
    assert personal
    title, headers, rows = _rows(data)
    assert "含相对人个人信息" in title and "不得对外提供" in title
    assert headers[:5] == ["编号", "街道", "街道代码", "社区", "地址"]
    assert headers[-3:] == ["相对人", "联系电话", "备注"]
    assert len(rows) == 300
    by_code = {r[0]: dict(zip(headers, r, strict=True)) for r in rows}
    site = demo.scalar(select(Site).where(Site.status == "closed").order_by(Site.id).limit(1))
    row = by_code[site.code]
    assert row["状态"] == "已销账" and row["相对人"] == site.person_name
    assert row["面积（㎡）"] == pytest.approx(float(site.area_m2))
    overdue = sum(1 for r in rows if dict(zip(headers, r, strict=True))["逾期"] == "是")
    assert overdue == counts_by_status(demo, SiteFilter(), TODAY)["overdue"]


def test_ledger_xlsx_for_a_street_has_no_personal_data_and_only_its_sites(demo) -> None:
    data, personal = exports.ledger_xlsx(demo, DZG_OFFICER)
    assert not personal
    title, headers, rows = _rows(data)
    assert "相对人" not in headers and "联系电话" not in headers and "个人信息" not in title
    assert {r[2] for r in rows} == {DZG}
    assert len(rows) == counts_by_status(demo, SiteFilter(streets=[DZG]), TODAY)["total"]
    with pytest.raises(Forbidden):
        exports.ledger_xlsx(demo, CIVIL)


def test_exported_ledger_imports_again(demo) -> None:
    """Row 1 is a title the import skips; the headers are the import's own."""
    from gis_app.features.ledger.importer import import_sites

    data, _ = exports.ledger_xlsx(demo, OFFICE)
    demo.execute(update(Site).values(deleted_at=clock.now(), deleted_by="t", deleted_reason="t"))
    past = demo.scalar(
        select(func.count()).select_from(Site).where(Site.status.not_in(["new", "registered"]))
    )
    assert past > 0
    # the sites the workflow moved past 已建档 are not registered again in their state: each
    # such row is refused by name (状态), the others pass
    with pytest.raises(ImportRejected) as refused:
        import_sites(demo, data, "台账.xlsx", OFFICE, dry_run=True)
    assert refused.value.details["rows"] == 300
    assert len(refused.value.errors) == past
    assert {e["field"] for e in refused.value.errors} == {"status"}


def test_monthly_summary_xlsx(db_session) -> None:
    clock.freeze("2026-05-10T10:00:00+08:00")
    site = make_site(db_session)
    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    clock.freeze("2026-05-25T16:59:00+08:00")
    reports.save_report(db_session, DZG, date(2026, 5, 1), DZG_OFFICER, "五月情况", True)
    clock.freeze("2026-05-26T08:00:00+08:00")
    reports.save_report(db_session, ZSM, date(2026, 5, 1), ZSM_OFFICER, "五月补报", True)
    clock.freeze("2026-06-15T10:00:00+08:00")
    title, headers, rows = _rows(exports.monthly_summary_xlsx(db_session, date(2026, 5, 1)))
    assert "2026年5月" in title and "2026-04-25 17:00 至 2026-05-25 17:00" in title
    assert headers[:3] == ["街道", "街道代码", "报送情况"]
    assert "相对人" not in headers
    by_code = {r[1]: dict(zip(headers, r, strict=True)) for r in rows if r[1]}
    assert by_code[DZG]["报送情况"] == "按时报送"
    assert by_code[DZG]["本期开始治理"] == 1 and by_code[DZG]["点位总数"] == 1
    assert by_code[DZG]["基数点位"] == 1 and by_code[DZG]["新增（巡查发现）"] == 0
    assert by_code[ZSM]["报送情况"] == "逾期报送"
    assert by_code["120102001"]["报送情况"].startswith("未报送")
    total_row = rows[-1]
    assert total_row[0] == "合计"
    assert total_row[headers.index("本期开始治理")] == 1


def test_ranking_xlsx(demo) -> None:
    title, headers, rows = _rows(exports.ranking_xlsx(demo, "河东区"))
    assert "排名" in title and headers[0] == "排名"
    stats = {s["code"]: s for s in statistics.street_stats(demo, TODAY)}
    note = rows[-1][0]
    rows = [r for r in rows if isinstance(r[0], int)]
    assert [r[0] for r in rows] == list(range(1, 13))
    assert note == f"排名怎么算：{statistics.RANKING_MEASURE}"  # the measure in plain words
    for r in rows:
        row = dict(zip(headers, r, strict=True))
        s = stats[row["街道代码"]]
        assert row["点位总数"] == s["total"] and row["已销账"] == s["closed"]
        assert row["销账率（%）"] == pytest.approx(round(s["completion"] * 100, 1))
        assert row["逾期"] == s["overdue"]
        assert row["基数点位"] == s["baseline"]["total"]
        assert row["新增点位（巡查发现）"] == s["additions"]["patrol"]
    assert not any("相对人" in h for h in headers)


def test_trend_counts_the_events_by_local_month(db_session) -> None:
    clock.freeze("2026-04-30T23:30:00+08:00")  # still April in Shanghai, 15:30 UTC
    site = make_site(db_session)
    workflow.transition(db_session, site.id, DZG_OFFICER, "in_progress")
    clock.freeze("2026-05-01T00:30:00+08:00")  # May in Shanghai, still April 30 in UTC
    other = make_site(db_session)
    workflow.transition(db_session, other.id, DZG_OFFICER, "in_progress")
    rows = {r["month"]: r for r in statistics.monthly_trend(db_session, date(2026, 6, 1), 3)}
    assert list(rows) == ["2026-04", "2026-05", "2026-06"]
    assert rows["2026-04"]["started"] == 1 and rows["2026-05"]["started"] == 1
    assert rows["2026-04"]["registered"] == 1 and rows["2026-05"]["registered"] == 1
    assert rows["2026-06"]["started"] == 0


def test_dashboard_pages_and_exports_over_http(app, client, auth) -> None:
    from gis_app.http.database import session

    auth.login(client, "区办王", "district_officer")
    with app.app_context():
        load_demo(session(), n_sites=150, seed=4, today=TODAY)
        session().commit()
    for url in ("/dashboard", f"/dashboard/street/{DZG}", f"/dashboard/street/{DZG}/plan",
                "/reports", "/reports?month=2026-05", f"/reports/{DZG}/2026-06",
                "/extensions", "/extensions?status=all"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
    for url in ("/exports/ledger.xlsx", "/exports/monthly.xlsx?month=2026-05",
                "/exports/ranking.xlsx"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == exports.XLSX_TYPE, url
        assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
        load_workbook(BytesIO(response.data)).close()
    bad = client.get("/reports?month=2026-13")
    assert bad.status_code == 422
    bureau = client.get("/dashboard", headers=auth.headers("民政", "bureau_civil"))
    assert bureau.status_code == 403
