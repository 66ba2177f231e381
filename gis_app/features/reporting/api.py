"""Monthly reports (月报) and the district's statistics in the JSON API."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gis_app.core import clock
from gis_app.core.errors import ValidationError
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.features.reporting import service as reports
from gis_app.features.reporting import statistics
from gis_app.http.access import OPEN_DATA, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.parsing import json_body

bp = Blueprint("reporting_api", __name__, url_prefix="/api/v1")


@bp.get("/reports")
@allow(*SITE_STAFF)
def reports_overview() -> Response:
    require_site_reader(current_actor())
    month = (
        reports.parse_month(request.args["month"])
        if request.args.get("month")
        else reports.current_month()
    )
    return jsonify(
        {
            "month": f"{month:%Y-%m}",
            "due_at": reports.due_at(month).isoformat(),
            "period": [d.isoformat() for d in reports.period(month)],
            "streets": reports.overview(session(), month, current_actor()),
        }
    )


@bp.get("/reports/<code>/<month_text>")
@allow(*SITE_STAFF)
def get_report(code: str, month_text: str) -> Response:
    require_site_reader(current_actor())
    month = reports.parse_month(month_text)
    return jsonify(reports.report_view(session(), code, month, current_actor()))


@bp.put("/reports/<code>/<month_text>")
@allow(*SITE_STAFF)
def put_report(code: str, month_text: str) -> Response:
    month = reports.parse_month(month_text)
    actor = current_actor()
    reports.save_report(session(), code, month, actor, json_body().get("narrative"))
    return jsonify(reports.report_view(session(), code, month, actor))


@bp.post("/reports/<code>/<month_text>/submit")
@allow(*SITE_STAFF)
def submit_report(code: str, month_text: str) -> Response:
    month = reports.parse_month(month_text)
    body = json_body()
    actor = current_actor()
    reports.save_report(session(), code, month, actor, body.get("narrative"), True)
    return jsonify(reports.report_view(session(), code, month, actor))


@bp.get("/statistics")
@allow(*SITE_STAFF, *OPEN_DATA)
def get_statistics() -> Response:
    # public figures (no personal data): the district, media, agencies; a street its own
    street = statistics.street_for(current_actor(), None)
    stats = statistics.street_stats(session(), clock.today(), street)
    return jsonify(
        {
            "today": clock.today().isoformat(),
            "district": statistics.district_totals(stats),
            "streets": stats,
            "ranking": [
                {"rank": r["rank"], "code": r["code"], "name": r["name"]}
                for r in statistics.ranking(stats)
            ],
            "lagging": [
                {"code": r["code"], "name": r["name"], "reasons": r["reasons"]}
                for r in statistics.lagging(stats)
            ],
        }
    )


@bp.get("/statistics/trend")
@allow(*SITE_STAFF, *OPEN_DATA)
def get_trend() -> Response:
    raw = request.args.get("months") or "12"
    if not raw.isdigit() or not 1 <= int(raw) <= 60:
        raise ValidationError("months 须是 1 到 60 的整数", "months")
    requested = (request.args.get("street") or "").strip() or None
    street = statistics.street_for(current_actor(), requested)
    rows = statistics.monthly_trend(session(), clock.today().replace(day=1), int(raw), street)
    return jsonify({"months": rows})
