"""Excel (.xlsx) exports with Chinese headers: the ledger, the monthly summary, the ranking.

Only the ledger may carry the persons concerned, and only for the district office; it then
says so in its title row and sheet name. The monthly summary and the ranking never do.
Row 1 is a title, row 2 the headers, data from row 3 (the ledger import skips title rows, so
an exported ledger can be imported again).
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import func
from sqlalchemy.orm import Session

from gis_app.core import cells, clock, codes
from gis_app.core.actor import STREET_ROLES, Actor
from gis_app.core.errors import Forbidden
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import role_label
from gis_app.features.ledger.queries import SiteFilter, base_select, overdue_expr
from gis_app.features.reporting import service as reports
from gis_app.features.reporting import statistics
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import get_street

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
_PERSONAL_FILL = PatternFill("solid", fgColor="FCE4D6")


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _sheet(wb: Workbook, title: str, heading: str, headers: list[str]) -> Any:
    ws = wb.active
    ws.title = title
    cells.append(ws, [heading])
    ws["A1"].font = Font(bold=True, size=13)
    cells.append(ws, headers)
    for i, _ in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=i)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        ws.column_dimensions[get_column_letter(i)].width = max(
            10, min(40, 2 * len(headers[i - 1]) + 4)
        )
    ws.freeze_panes = "A3"
    return ws


def _bytes(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


LEDGER_HEADERS = [
    "编号",
    "街道",
    "街道代码",
    "社区",
    "地址",
    "违建类型",
    "面积（㎡）",
    "治理方式",
    "状态",
    "逾期",
    "承诺期限",
    "当前期限",
    "中央第二次环保督查",
    "困难户",
    "旧楼区改造",
    "阻挠执法",
    "来源",
    "经度",
    "纬度",
]
PERSONAL_HEADERS = ["相对人", "联系电话", "备注"]


def ledger_xlsx(
    session: Session, actor: Actor, flt: SiteFilter | None = None, district_name: str = ""
) -> tuple[bytes, bool]:
    """The ledger; with the persons concerned only for district roles. Returns (file, personal)."""
    flt = flt or SiteFilter()
    personal = _ledger_scope(actor, flt)
    rows = _ledger_rows(session, flt, clock.today(), personal)
    wb = Workbook()
    title = "台账（含个人信息）" if personal else "台账"
    heading = f"{district_name}违法建设点位台账（导出时间 {clock.fmt_local(clock.now())}）"
    if personal:
        heading += "  内部资料：含相对人个人信息，仅供区领导小组办公室使用，不得对外提供"
    headers = LEDGER_HEADERS + (PERSONAL_HEADERS if personal else [])
    ws = _sheet(wb, title, heading, headers)
    if personal:
        ws["A1"].font = Font(bold=True, size=13, color="C00000")
        for i in range(len(LEDGER_HEADERS) + 1, len(headers) + 1):
            ws.cell(row=2, column=i).fill = _PERSONAL_FILL
    for r in rows:
        cells.append(ws, _ledger_cells(list(r)))
    return _bytes(wb), personal


def _ledger_scope(actor: Actor, flt: SiteFilter) -> bool:
    """Whether `actor`'s ledger carries the persons concerned (district roles); a street's
    is narrowed to its own sites; any other role may not export it."""
    if actor.is_district:
        return True
    if actor.role in STREET_ROLES and actor.street_code:
        flt.streets = [actor.street_code]  # a street exports its own sites only
        return False
    raise Forbidden(f"台账导出仅限区领导小组办公室和街道（当前身份：{role_label(actor)}）", "role")


def _ledger_rows(session: Session, flt: SiteFilter, today: date, personal: bool) -> Any:
    """The filtered sites in the columns of LEDGER_HEADERS (and PERSONAL_HEADERS)."""
    columns = [
        Site.code,
        Street.name,
        Street.code,
        Site.community,
        Site.address,
        Site.kind,
        Site.area_m2,
        Site.disposition,
        Site.status,
        overdue_expr(today),
        Site.committed_deadline,
        Site.current_deadline,
        Site.flag_central_inspection,
        Site.flag_hardship,
        Site.flag_renovation,
        Site.flag_obstruction,
        Site.source,
        func.ST_X(Site.geom),
        func.ST_Y(Site.geom),
    ]
    if personal:
        columns += [Site.person_name, Site.person_contact, Site.note]
    return session.execute(
        base_select(columns).where(*flt.conditions(today)).order_by(Street.code, Site.code)
    ).yield_per(2000)


def _ledger_cells(values: list[Any]) -> list[Any]:
    """A ledger row as a person reads it: Chinese labels, 是/否, rounded coordinates."""
    values[5] = codes.label(codes.KINDS, values[5])
    values[6] = float(values[6]) if values[6] is not None else None
    values[7] = codes.label(codes.DISPOSITIONS, values[7])
    values[8] = codes.label(codes.STATUSES, values[8])
    values[9] = _yes(values[9])
    for i in (12, 13, 14, 15):
        values[i] = _yes(values[i])
    values[16] = codes.label(codes.SOURCES, values[16])
    values[17], values[18] = round(values[17], 7), round(values[18], 7)
    return values


SUMMARY_FIGURES = [
    "registered",
    "started",
    "sent_to_acceptance",
    "closed",
    "reopened",
    "extensions_requested",
    "extensions_granted",
    "overdue",
    "total",
    "closed_total",
]


#: progress against the baseline and the additions, apart (as of the export)
BASELINE_HEADERS = [
    "基数点位",
    "基数已销账",
    "基数完成率（%）",
    "新增（巡查发现）",
    "新增（补录）",
    "新增已销账",
]


def _baseline_cells(s: dict[str, Any] | None) -> list[Any]:
    if s is None:
        return ["", "", "", "", "", ""]
    base, add = s["baseline"], s["additions"]
    rate = round((base["progress"] or 0) * 100, 1)
    return [base["total"], base["closed"], rate, add["patrol"], add["late"], add["closed"]]


def monthly_summary_xlsx(session: Session, month: date, district_name: str = "") -> bytes:
    """Every street's report of `month` (submitted figures, else the system's count), with
    whether it came on time. No personal data."""
    start, end = reports.period(month)
    wb = Workbook()
    headers = (
        ["街道", "街道代码", "报送情况", "报送时间", "报送人"]
        + [reports.FIGURE_LABELS[k] for k in SUMMARY_FIGURES]
        + BASELINE_HEADERS
    )
    progress = {s["code"]: s for s in statistics.street_stats(session, clock.today())}
    ws = _sheet(
        wb,
        "月报汇总",
        f"{district_name}违法建设治理月报汇总 {reports.month_label(month)}"
        f"（统计周期 {start} 17:00 至 {end} 17:00，"
        f"报送截止 {reports.month_label(month)}25日17:00）",
        headers,
    )
    totals = dict.fromkeys(SUMMARY_FIGURES, 0)
    for row in reports.overview(session, month):
        figures = row["figures"]
        state = row["state_label"]
        if figures is None:  # not submitted: the system's own count, marked as such
            street = get_street(session, row["street_code"])
            figures = reports.draft_figures(session, street, month)
            state += "（数据为系统统计）"
        values = [figures.get(k, 0) for k in SUMMARY_FIGURES]
        for k, v in zip(SUMMARY_FIGURES, values, strict=True):
            totals[k] += v
        cells.append(
            ws,
            [
                row["street"],
                row["street_code"],
                state,
                row["submitted_at_local"],
                row["submitted_by"] or "",
                *values,
                *_baseline_cells(progress.get(row["street_code"])),
            ],
        )
    cells.append(ws, ["合计", "", "", "", "", *(totals[k] for k in SUMMARY_FIGURES)])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    return _bytes(wb)


RANKING_HEADERS = [
    "排名",
    "街道",
    "街道代码",
    "点位总数",
    "已销账",
    "销账率（%）",
    "逾期",
    "逾期占比（%）",
    "拆除面积（㎡）",
    "整治面积（㎡）",
    "近6个月按时报送月报",
    "列入通报",
    "通报原因",
    "基数点位",
    "基数已销账",
    "基数完成率（%）",
    "新增点位（巡查发现）",
    "新增点位（补录）",
    "新增已销账",
]


def ranking_xlsx(session: Session, district_name: str = "") -> bytes:
    stats = statistics.street_stats(session, clock.today())
    ranked = statistics.ranking(stats)
    lag = {s["code"]: s["reasons"] for s in statistics.lagging(stats)}
    wb = Workbook()
    ws = _sheet(
        wb,
        "街道排名",
        f"{district_name}各街道违法建设治理进度排名（截至 {clock.fmt_local(clock.now())}）",
        RANKING_HEADERS,
    )
    for s in ranked:
        cells.append(
            ws,
            [
                s["rank"],
                s["name"],
                s["code"],
                s["total"],
                s["closed"],
                round((s["completion"] or 0) * 100, 1),
                s["overdue"],
                round((s["overdue_share"] or 0) * 100, 1),
                s["area_demolished"],
                s["area_rectified"],
                f"{s['reports_on_time']}/{s['reports_due']}",
                _yes(s["code"] in lag),
                "；".join(lag.get(s["code"], [])),
                s["baseline"]["total"],
                s["baseline"]["closed"],
                round((s["baseline"]["progress"] or 0) * 100, 1),
                s["additions"]["patrol"],
                s["additions"]["late"],
                s["additions"]["closed"],
            ],
        )
    ws.append([])
    ws.append([f"排名怎么算：{statistics.RANKING_MEASURE}"])
    return _bytes(wb)
