"""The ledger as a list (点位台账): search, filters, sorting and paging over the sites the user
may see, and the office's bulk actions on a selection: export it (.csv for Excel), print it,
or hand it to a patrol (the patrol feature's page `patrol.pages.assign_form`)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func

from gis_app.core import clock, codes
from gis_app.core.errors import AppError
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import SiteFilter, base_select, overdue_expr, scoped
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import street_choices
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session

bp = Blueprint("site_list", __name__, template_folder="templates")

PAGE_SIZE = 50
MAX_SELECTION = 2000
SORTS: dict[str, tuple[str, Any]] = {
    "code": ("编号", Site.code),
    "address": ("地址", Site.address),
    "street": ("街道", Street.name),
    "status": ("状态", Site.status),
    "deadline": ("当前期限", Site.current_deadline),
    "area": ("面积", Site.area_m2),
    "updated": ("最近修改", Site.updated_at),
}
COLUMNS = (
    ("code", "编号"),
    ("address", "地址"),
    ("street", "街道"),
    ("community", "社区"),
    ("kind", "违建类型"),
    ("area_m2", "面积（㎡）"),
    ("disposition", "治理方式"),
    ("status", "状态"),
    ("current_deadline", "当前期限"),
    ("overdue", "逾期"),
)


def _rows(conds: list[Any], order: list[Any], limit: int | None, offset: int = 0) -> list[Any]:
    today = clock.today()
    query = (
        base_select(
            [
                Site.id,
                Site.code,
                Site.address,
                Street.name.label("street"),
                Site.community,
                Site.kind,
                Site.area_m2,
                Site.disposition,
                Site.status,
                Site.current_deadline,
                overdue_expr(today).label("overdue"),
            ]
        )
        .where(*conds)
        .order_by(*order, Site.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session().execute(query))


def _shown(row: Any) -> dict[str, Any]:
    """A row as people read it (labels, dates, 是/否)."""
    return {
        "id": row.id,
        "code": row.code,
        "address": row.address,
        "street": row.street,
        "community": row.community or "",
        "kind": codes.label(codes.KINDS, row.kind),
        "area_m2": "" if row.area_m2 is None else f"{float(row.area_m2):g}",
        "disposition": codes.label(codes.DISPOSITIONS, row.disposition),
        "status": codes.label(codes.STATUSES, row.status),
        "status_code": row.status,
        "current_deadline": row.current_deadline.isoformat() if row.current_deadline else "",
        "overdue": "是" if row.overdue else "",
    }


@bp.get("/sites")
@allow(*SITE_STAFF)
def index() -> ResponseReturnValue:
    actor = current_actor()
    today = clock.today()
    error = None
    try:
        flt = SiteFilter.from_args(request.args)
    except AppError as exc:
        error, flt = exc.message, SiteFilter()
    sort = request.args.get("sort", "code")
    sort = sort if sort in SORTS else "code"
    descending = request.args.get("dir") == "desc"
    column = SORTS[sort][1]
    order = [column.desc().nulls_last() if descending else column.asc().nulls_last()]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    conds = scoped(flt, today, actor)
    total = session().execute(base_select([func.count()]).where(*conds)).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    rows = [_shown(r) for r in _rows(conds, order, PAGE_SIZE, (page - 1) * PAGE_SIZE)]
    params = flt.to_params()
    return render_template(
        "site/list.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        params=params,
        sort=sort,
        descending=descending,
        sorts={k: v[0] for k, v in SORTS.items()},
        streets=street_choices(session()) if actor.is_district else [],
        flt=flt,
        error=error,
        columns=COLUMNS,
    )


def _selection() -> list[int]:
    ids = []
    for raw in request.args.getlist("id")[:MAX_SELECTION]:
        if raw.isdigit() and 0 < int(raw) < 2**63:
            ids.append(int(raw))
    return ids


def _selected_rows() -> list[dict[str, Any]]:
    conds = [*scoped(SiteFilter(), clock.today(), current_actor()), Site.id.in_(_selection())]
    return [_shown(r) for r in _rows(conds, [Site.code], None)]


@bp.get("/sites/selection.csv")
@allow(*SITE_STAFF)
def export_selection() -> Response:
    """The selected sites as CSV with Chinese headings (UTF-8 with BOM: Excel opens it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in COLUMNS])
    for row in _selected_rows():
        writer.writerow([row[key] for key, _ in COLUMNS])
    name = f"sites-{clock.today().isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.get("/sites/print")
@allow(*SITE_STAFF)
def print_selection() -> str:
    return render_template(
        "site/print_list.html", rows=_selected_rows(), columns=COLUMNS, now=clock.local_now()
    )
