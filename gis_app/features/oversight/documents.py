"""The 通报 as the office circulates it: a Word document (.docx) built with python-docx."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from gis_app.features.oversight.service import FIGURES


def notice_docx(view: dict[str, Any], district_name: str) -> bytes:
    """The notice `view` (service.notice_view) on A4: number, date, the streets with their
    reasons and frozen figures in a table, and the reply due date."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.6))
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    style = doc.styles["Normal"]
    style.font.size = Pt(14)

    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(f"{district_name}违法建设治理工作领导小组办公室")
    run.bold = True
    run.font.size = Pt(20)
    number = doc.add_paragraph(view["number"])
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_run = title.add_run(view["title"])
    title_run.bold = True
    title_run.font.size = Pt(18)
    if view["body"]:
        for line in view["body"].splitlines():
            doc.add_paragraph(line)
    doc.add_paragraph("经统计，以下街道工作进展滞后，现予通报：")
    labels = list(FIGURES.values())
    table = doc.add_table(rows=1, cols=2 + len(labels))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ["街道", "通报理由", *labels], strict=True):
        cell.text = text
    for street in view["streets"]:
        cells = table.add_row().cells
        cells[0].text = street["street"]
        cells[1].text = "；".join(street["reasons"])
        for cell, (_, text) in zip(cells[2:], street["figure_texts"], strict=True):
            cell.text = text
    doc.add_paragraph(f"请被通报街道于 {view['reply_due']} 前将整改措施报区领导小组办公室。")
    doc.add_paragraph("（以上指标为通报签发时的数据。）")
    sign = doc.add_paragraph(f"{district_name}违法建设治理工作领导小组办公室\n{view['issued_on']}")
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
