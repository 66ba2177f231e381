"""The district office's dashboard, the monthly reports pages and the .xlsx exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import AppError, Forbidden, NotFound
from gis_app.features.campaign.service import current_campaign, current_end
from gis_app.features.ledger.permissions import (
    can_see_sites,
    own_street,
    require_district,
    role_label,
    sees_street,
)
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.oversight import service as oversight
from gis_app.features.reporting import reminders, statistics
from gis_app.features.reporting import service as reports
from gis_app.features.reporting import spreadsheets as exports
from gis_app.features.reporting.charts import bar_chart
from gis_app.features.reporting.schemas import parse_month
from gis_app.features.streets.service import get_street
from gis_app.http.access import DISTRICT, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session
from layers import palette

bp = Blueprint("dashboard", __name__, template_folder="templates")
TREND_MONTHS = 12


def _viewer() -> Actor:
    actor = current_actor()
    if not can_see_sites(actor):
        raise Forbidden(f"统计页面仅供区领导小组办公室和街道查看（当前身份：{role_label(actor)}）")
    return actor


def _street_of_page(code: str) -> Any:
    """The street of a street page: any for the district, only its own for a street."""
    actor = _viewer()
    st = get_street(session(), code)
    if not sees_street(actor, st.code):
        raise NotFound(f"没有代码为 {code} 的街道", "code")
    return st


def _colour(key: str) -> str:
    return palette.status_style(key)["fill"]


def trend_chart(rows: list[dict[str, Any]], title: str) -> Any:
    return bar_chart(
        [r["month"][2:] for r in rows],
        [
            ("新建档", _colour("registered"), [r["registered"] for r in rows]),
            ("开始治理", _colour("in_progress"), [r["started"] for r in rows]),
            ("提请验收", _colour("awaiting_acceptance"), [r["sent_to_acceptance"] for r in rows]),
            ("销账", _colour("closed"), [r["closed"] for r in rows]),
        ],
        title,
    )


def _this_month() -> date:
    return clock.today().replace(day=1)


@bp.get("/dashboard")
@allow(*SITE_STAFF)
def index() -> Any:
    own = own_street(_viewer())
    if own:  # a street's dashboard is its own street's page
        return redirect(url_for("dashboard.street", code=own))
    today = clock.today()
    stats = statistics.street_stats(session(), today)
    trend = statistics.monthly_trend(session(), _this_month(), TREND_MONTHS)
    soon = reminders.due_soon(session(), today)
    due_reports = reminders.reports_due(session())
    return render_template(
        "dashboard/index.html",
        stats=stats,
        totals=statistics.district_totals(stats),
        ranking=statistics.ranking(stats),
        ranking_measure=statistics.RANKING_MEASURE,
        beyond=statistics.beyond_campaign(session(), current_end(session())),
        lagging=statistics.lagging(stats),
        trend=trend,
        chart=trend_chart(trend, f"近{TREND_MONTHS}个月各月进展（按自然月）"),
        soon_by_street=reminders.by_street(soon),
        reports_by_street=reminders.by_street(due_reports),
        soon_count=len(soon),
        last_run=reminders.last_run(session(), current_app.config["DISTRICT_CODE"]),
        report_month=reports.current_month(),
        last_due_month=reports.last_due_month(),
        month_label=reports.month_label,
        notices=notices_received(_viewer()),
        **_patrol_news(),
    )


def notices_received(actor: Actor) -> dict[str, Any]:
    """The 通报 each street (a street role: its own) received in the campaign, in all and per
    month of issue: the ranking's history."""
    campaign = current_campaign(session())
    since = campaign[1] if campaign else None
    rows = oversight.notice_history(session(), actor, since)
    return {
        "campaign": campaign[0] if campaign else "",
        "since": since,
        "by_street": {r["code"]: r for r in rows},
    }


def _patrol_news() -> dict[str, Any]:
    """What the patrols found lately, and the streets that have not patrolled."""
    from gis_app.features.patrol import service as patrols

    actor = _viewer()
    district = current_app.config["DISTRICT_CODE"]
    return {
        "patrol_findings": patrols.recent_findings(session(), actor, days=7),
        "patrol_stale": patrols.stale_streets(session(), actor, district, 7),
    }


@bp.get("/dashboard/street/<code>")
@allow(*SITE_STAFF)
def street(code: str) -> str:
    actor = _viewer()
    today = clock.today()
    st = _street_of_page(code)
    stats = statistics.street_stats(session(), today, st.code)[0]
    # the rank is the district's business: a street sees its own figures only
    all_stats = statistics.street_stats(session(), today) if actor.is_district else [stats]
    rank = next((r["rank"] for r in statistics.ranking(all_stats) if r["code"] == st.code), None)
    if not actor.is_district:
        rank = None
    trend = statistics.monthly_trend(session(), _this_month(), TREND_MONTHS, st.code)
    soon = [s for s in reminders.due_soon(session(), today) if s["street_code"] == st.code]
    overdue_sites = statistics.overdue_sites(session(), st.id, today)
    return render_template(
        "dashboard/street.html",
        street=st,
        s=stats,
        rank=rank,
        ranked=len(statistics.ranking(all_stats)),
        chart=trend_chart(trend, f"{st.name}近{TREND_MONTHS}个月进展（按自然月）"),
        soon=soon,
        overdue_sites=overdue_sites,
        reports_due=[r for r in reminders.reports_due(session()) if r["street_code"] == st.code],
        month_label=reports.month_label,
        notices=notices_received(actor)["by_street"].get(st.code),
    )


@bp.get("/dashboard/street/<code>/plan")
@allow(*SITE_STAFF)
def street_plan(code: str) -> str:
    """Every step of every open site of the street: the street's plan at a glance."""
    today = clock.today()
    st = _street_of_page(code)
    sites = statistics.street_plan(session(), st.id, today)
    return render_template("dashboard/plan.html", street=st, sites=sites, today=today)


# ---------------------------------------------------------------- monthly reports


@bp.get("/reports")
@allow(*SITE_STAFF)
def reports_index() -> str:
    actor = _viewer()
    month = parse_month(request.args["month"]) if request.args.get("month") else None
    month = month or reports.current_month()
    rows = reports.overview(session(), month, actor)
    start, end = reports.period(month)
    return render_template(
        "reports/index.html",
        rows=rows,
        month=month,
        month_label=reports.month_label(month),
        period=(start, end),
        due_local=clock.fmt_local(reports.due_at(month), with_seconds=True),
        prev=reports.previous_month(month),
        next=reports.next_month(month),
        actor=actor,
        missing=[r for r in rows if r["state"] in ("missing", "draft")],
    )


@bp.route("/reports/<code>/<month_text>", methods=["GET", "POST"])
@allow(*SITE_STAFF)
def report_form(code: str, month_text: str) -> Any:
    actor = _viewer()
    month = parse_month(month_text)
    reports.report_view(session(), code, month, actor)  # another street's report: 404
    status = 200
    error: AppError | None = None
    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        try:
            reports.save_report(
                session(), code, month, actor, request.form.get("narrative", ""), submit
            )
        except AppError as exc:
            discard()
            error, status = exc, exc.status
        else:
            flash("月报已报送" if submit else "草稿已保存", "workflow")
            return redirect(url_for("dashboard.report_form", code=code, month_text=month_text))
    view = reports.report_view(session(), code, month, actor)
    if error is not None:
        view["narrative"] = request.form.get("narrative", "")
    return (
        render_template(
            "reports/edit.html",
            r=view,
            labels=reports.FIGURE_LABELS,
            error=error,
            may_edit=actor.role == "street_officer" and actor.street_code == view["street_code"],
        ),
        status,
    )


# ---------------------------------------------------------------- exports


def _xlsx(data: bytes, filename: str) -> Response:
    from urllib.parse import quote

    response = Response(data, mimetype=exports.XLSX_TYPE)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/exports/ledger.xlsx")
@allow(*SITE_STAFF)
def export_ledger() -> Response:
    actor = current_actor()
    flt = SiteFilter.from_args(request.args)
    data, personal = exports.ledger_xlsx(session(), actor, flt, current_app.config["DISTRICT_NAME"])
    stamp = clock.today().isoformat()
    name = f"台账-{stamp}{'-含个人信息' if personal else ''}.xlsx"
    return _xlsx(data, name)


@bp.get("/exports/monthly.xlsx")
@allow(*DISTRICT)
def export_monthly() -> Response:
    require_district(current_actor(), "导出月报汇总")
    month = parse_month(request.args.get("month") or f"{reports.last_due_month():%Y-%m}")
    data = exports.monthly_summary_xlsx(session(), month, current_app.config["DISTRICT_NAME"])
    return _xlsx(data, f"月报汇总-{month:%Y-%m}.xlsx")


@bp.get("/exports/ranking.xlsx")
@allow(*DISTRICT)
def export_ranking() -> Response:
    require_district(current_actor(), "导出街道排名")
    data = exports.ranking_xlsx(session(), current_app.config["DISTRICT_NAME"])
    return _xlsx(data, f"街道排名-{clock.today().isoformat()}.xlsx")
