"""The office's table of publicity work: per street, for a month, the records of each kind
(and their quantities), and the same as CSV (cells neutralised against formula injection)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_app.core import cells, codes
from gis_app.core.actor import Actor
from gis_app.features.ledger.permissions import require_district
from gis_app.features.publicity.models import PublicityRecord
from gis_app.features.publicity.work import month_range
from gis_app.features.streets.models import Street


def table(session: Session, actor: Actor, month: str) -> dict[str, Any]:
    """Every street (none left out: a street with no work shows zeros) × kind: records and
    quantity; the totals per kind and per street; records without a photo."""
    require_district(actor, "查看各街道宣传工作统计")
    first, last = month_range(month)
    counted = (
        select(
            PublicityRecord.street_id,
            PublicityRecord.kind,
            func.count().label("n"),
            func.sum(PublicityRecord.quantity).label("q"),
            func.count().filter(PublicityRecord.photo_sha256.is_(None)).label("no_photo"),
        )
        .where(PublicityRecord.done_on.between(first, last))
        .group_by(PublicityRecord.street_id, PublicityRecord.kind)
    )
    cells_by: dict[tuple[int, str], Any] = {
        (r.street_id, r.kind): r for r in session.execute(counted)
    }
    kinds = list(codes.PUBLICITY_KINDS)
    rows = []
    totals = {k: {"records": 0, "quantity": 0} for k in kinds}
    for street_id, code, name in session.execute(
        select(Street.id, Street.code, Street.name).order_by(Street.code)
    ).all():
        row: dict[str, Any] = {"street_code": code, "street": name, "kinds": {}, "records": 0}
        row["no_photo"] = 0
        for kind in kinds:
            hit = cells_by.get((street_id, kind))
            n, q = (int(hit.n), int(hit.q)) if hit else (0, 0)
            row["kinds"][kind] = {"records": n, "quantity": q}
            row["records"] += n
            row["no_photo"] += int(hit.no_photo) if hit else 0
            totals[kind]["records"] += n
            totals[kind]["quantity"] += q
        rows.append(row)
    return {
        "month": month,
        "kinds": [
            {"code": k, "label": codes.PUBLICITY_KINDS[k], "unit": codes.PUBLICITY_UNITS[k]}
            for k in kinds
        ],
        "rows": rows,
        "totals": totals,
        "records": sum(r["records"] for r in rows),
        "streets_without": [r["street"] for r in rows if not r["records"]],
    }


def as_csv(doc: dict[str, Any]) -> bytes:
    """The table as CSV (UTF-8 with BOM, which Excel needs to read Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    head = ["街道"]
    for k in doc["kinds"]:
        head += [f"{k['label']}（次）", f"{k['label']}（{k['unit']}）"]
    writer.writerow(cells.row([*head, "合计（次）", "无照片（次）"]))
    for r in doc["rows"]:
        line: list[Any] = [r["street"]]
        for k in doc["kinds"]:
            c = r["kinds"][k["code"]]
            line += [c["records"], c["quantity"]]
        writer.writerow(cells.row([*line, r["records"], r["no_photo"]]))
    total: list[Any] = ["合计"]
    for k in doc["kinds"]:
        c = doc["totals"][k["code"]]
        total += [c["records"], c["quantity"]]
    writer.writerow(cells.row([*total, doc["records"], sum(r["no_photo"] for r in doc["rows"])]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def year_overview(session: Session, actor: Actor, year: int) -> dict[str, Any]:
    """Every street × the months of `year`: how many records of publicity work (all forms)."""
    require_district(actor, "查看各街道宣传工作统计")
    month = func.extract("month", PublicityRecord.done_on)
    counted = (
        select(PublicityRecord.street_id, month.label("m"), func.count().label("n"))
        .where(func.extract("year", PublicityRecord.done_on) == year)
        .group_by(PublicityRecord.street_id, month)
    )
    by = {(r.street_id, int(r.m)): int(r.n) for r in session.execute(counted)}
    rows = [
        {
            "street_code": code,
            "street": name,
            "months": [by.get((street_id, m), 0) for m in range(1, 13)],
        }
        for street_id, code, name in session.execute(
            select(Street.id, Street.code, Street.name).order_by(Street.code)
        ).all()
    ]
    return {
        "year": year,
        "rows": rows,
        "totals": [sum(r["months"][i] for r in rows) for i in range(12)],
    }
