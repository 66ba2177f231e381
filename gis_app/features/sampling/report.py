"""The .xlsx report of a spot-check batch (for the district office; no personal data of the
persons concerned): summary, pass rate per street with intervals, sampled sites, map.

It renders what the service gathers (`service.report_xlsx`), and reads no database.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from gis_app.core import cells, clock, codes
from gis_app.features.sampling.maps import RESULT_LABELS, batch_map_png
from gis_app.features.sampling.models import SampleBatch

BOLD = Font(bold=True)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_disposition(batch_id: int) -> str:
    """The download's file name: ASCII for old clients, 抽查报告-<id>.xlsx for the others."""
    return (
        f"attachment; filename=spot-check-{batch_id}.xlsx; "
        f"filename*=UTF-8''%E6%8A%BD%E6%9F%A5%E6%8A%A5%E5%91%8A-{batch_id}.xlsx"
    )


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    cells.append(ws, header)
    for cell in ws[1]:
        cell.font = BOLD
    for row in rows:
        cells.append(ws, row)
    for i, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2, *(len(str(r[i - 1])) + 2 for r in rows[:200])])
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width))
    ws.freeze_panes = "A2"


def batch_report_xlsx(
    batch: SampleBatch,
    *,
    summary: dict[str, Any],
    estimates: dict[str, Any],
    sites: list[dict[str, Any]],
    streets: dict[str, Any],
) -> bytes:
    """The workbook: the batch's summary (`service.batch_summary`), its estimates per street
    (`service.batch_estimates`), its sampled sites (`service.batch_sites`) and a map of them
    over the street boundaries (a GeoJSON FeatureCollection)."""
    wb = Workbook()
    _summary_sheet(wb, batch, summary, estimates["district"])
    _streets_sheet(wb, estimates["streets"])
    _sites_sheet(wb, sites)
    map_ws = wb.create_sheet("地图")
    cells.append(map_ws, ["图例：绿色 合格；红色 不合格；蓝色 待核查。底图为街道边界。"])
    map_ws.add_image(XlImage(io.BytesIO(batch_map_png(sites, streets))), "A3")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _summary_sheet(
    wb: Workbook, batch: SampleBatch, summary: dict[str, Any], district: dict[str, Any]
) -> None:
    """概况: how the batch was drawn, its balance, and the district's estimate."""
    size = batch.params.get("size", {})
    bal = summary["balance"]
    ws = wb.active
    ws.title = "概况"
    info: list[tuple[str, Any]] = [
        ("抽查批次", f"{batch.id} {batch.title}"),
        ("抽取时间", clock.fmt_local(batch.created_at)),
        ("抽取人", batch.created_by),
        ("抽样方法", summary["method_label"]),
        ("分配方式", summary["allocation_label"]),
        ("随机种子", str(batch.seed)),
        ("抽样框（点位数）", batch.frame_size),
        ("样本量", batch.sample_size),
        ("样本量方式", size.get("mode")),
        ("检验水平 / 样本量字码", f"{size.get('level') or ''} {size.get('code_letter') or ''}"),
        ("抽样框条件", " ".join(f"{k}={v}" for k, v in batch.params.get("frame", {}).items())),
        ("抽样框指纹 SHA-256", batch.frame_sha256),
        ("空间均衡度（Voronoi 方差，越小越均衡）", bal["voronoi_variance"]),
        ("简单随机抽样平均值", bal["srs_voronoi_variance_mean"]),
        ("已核查 / 样本", f"{district['inspected']} / {batch.sample_size}"),
        ("全区整改到位率估计", _pct(district["share"])),
        ("95% 置信区间", f"{_pct(district['ci_low'])} – {_pct(district['ci_high'])}"),
        ("报告生成时间", clock.fmt_local(clock.now())),
    ]
    for key, value in info:
        cells.append(ws, [key, value])
        ws.cell(ws.max_row, 1).font = BOLD
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 70


STREET_COLUMNS = [
    "街道",
    "代码",
    "抽样框点位",
    "样本",
    "已核查",
    "合格",
    "不合格",
    "合格率",
    "95%下限",
    "95%上限",
]
SITE_COLUMNS = [
    "序号",
    "编号",
    "街道",
    "社区",
    "地址",
    "治理方式",
    "当前状态",
    "执法人员",
    "核查结果",
    "说明",
    "核查时间",
    "录入人",
    "已重新打开",
]


def _streets_sheet(wb: Workbook, streets: list[dict[str, Any]]) -> None:
    """各街道: each street's pass rate with its 95 % interval."""
    _sheet(
        wb,
        "各街道",
        STREET_COLUMNS,
        [
            [
                s["name"],
                s["code"],
                s["population"],
                s["sampled"],
                s["inspected"],
                s["passed"],
                s["failed"],
                _pct(s["share"]),
                _pct(s["ci_low"]),
                _pct(s["ci_high"]),
            ]
            for s in streets
        ],
    )


def _sites_sheet(wb: Workbook, sites: list[dict[str, Any]]) -> None:
    """抽中点位: the sampled sites in sample order, with their inspector and result."""
    _sheet(
        wb,
        "抽中点位",
        SITE_COLUMNS,
        [
            [
                s["ord"],
                s["code"],
                s["street_name"],
                s["community"],
                s["address"],
                codes.label(codes.DISPOSITIONS, s["disposition"]),
                codes.label(codes.STATUSES, s["status"]),
                s["inspector"] or "",
                RESULT_LABELS[s["result"]],
                s["notes"],
                clock.fmt_local(datetime.fromisoformat(s["inspected_at"]))
                if s["inspected_at"]
                else "",
                s["inspected_by"] or "",
                "是" if s["reopened"] else "",
            ]
            for s in sites
        ],
    )
