"""Patrols (巡查) as Chinese pages under /patrols: the log, the planning form with its map,
a patrol's route page and printable sheet, ticking stops, recording a finding, coverage.

Registered as the child "pages" of the blueprint "patrol" (endpoints `patrol.pages.*`).
Parsing and HTTP only: the rules live in the services.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from gis_app.core import clock
from gis_app.core.errors import AppError, Conflict
from gis_app.features.ledger.permissions import own_street
from gis_app.features.maps import service as map_data
from gis_app.features.patrol import assign, coverage, findings, plans
from gis_app.features.patrol.areas import KINDS
from gis_app.features.patrol.context import (
    district,
    duplicate_metres,
    patrol_doc,
    speeds,
    uploads,
)
from gis_app.features.patrol.priorities import CLASSES, DEFAULT_ORDER
from gis_app.features.photos.service import limits_for, store_for
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session
from gis_app.http.security import csp_nonce
from layers.patrol_map import base_map, fit, outline_points, patrol_map
from layers.site_map import render_map

bp = Blueprint("pages", __name__, url_prefix="/patrols")
#: who patrols: the district office, the street offices and their inspectors (own street)
STAFF = SITE_STAFF


def _finding_raw() -> dict[str, Any]:
    names = (
        "lon",
        "lat",
        "note",
        "address",
        "kind",
        "disposition",
        "community",
        "attach_to",
        "force_reason",
        "patrol_id",
    )
    return {n: request.form.get(n) for n in names if request.form.get(n) not in (None, "")}


def _streets() -> dict[str, Any]:
    return map_data.outlines(session(), district()).streets


def _leaflet() -> tuple[str, str]:
    return (
        url_for("static", filename="vendor/leaflet/leaflet.js"),
        url_for("static", filename="vendor/leaflet/leaflet.css"),
    )


@bp.get("/")
@allow(*STAFF)
def index() -> str:
    actor = current_actor()
    return render_template(
        "patrol/index.html",
        patrols=plans.list_patrols(session(), actor),
        stale=coverage.stale_streets(session(), actor, district(), coverage.DEFAULT_STALE_DAYS),
    )


def _form_point(prefix: str) -> list[str] | None:
    lon = (request.form.get(f"{prefix}_lon") or "").strip()
    lat = (request.form.get(f"{prefix}_lat") or "").strip()
    return [lon, lat] if lon or lat else None


def _plan_raw_from_form() -> dict[str, Any]:
    """The planning form as the API's JSON request."""
    form = request.form
    kind = form.get("area_kind", "street")
    area: dict[str, Any] = {"kind": kind}
    if kind == "street":
        area["street"] = form.get("street") or own_street(current_actor())
    elif kind == "polygon":
        area["geometry"] = form.get("area_geometry") or None
        area["repair"] = form.get("repair", "1") != "0"
    elif kind == "circle":
        area["center"] = _form_point("center")
        area["radius_m"] = form.get("radius_m")
    elif kind == "bbox":
        area["bbox"] = form.get("bbox")
    order = [p for p in form.getlist("priority") if p]
    raw: dict[str, Any] = {
        "title": form.get("title", ""),
        "area": area,
        "priorities": order,
        "cap": form.get("cap"),
        "due_days": form.get("due_days"),
        "closed_days": form.get("closed_days"),
        "use_roads": form.get("use_roads") or None,
    }
    if form.get("start_mode") == "point":
        # no point given (the GPS failed, nothing typed): refused naming start, not the office
        raw["start"] = _form_point("start") or [None, None]
    end = _form_point("end")
    if end:
        raw["end"] = end
    return raw


def _plan_page(status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_actor()
    js, css = _leaflet()
    streets_fc = _streets()
    fmap = base_map(streets_fc, js, css)
    mine = own_street(actor)
    fit(  # a street role's own street, else the whole district
        fmap,
        [
            p
            for f in streets_fc["features"]
            if mine is None or f["properties"]["code"] == mine
            for p in outline_points(f["geometry"])
        ],
    )
    parts = render_map(fmap, csp_nonce())
    streets = [
        (f["properties"]["code"], f["properties"]["name"])
        for f in streets_fc["features"]
        if actor.is_district or f["properties"]["code"] == own_street(actor)
    ]
    html = render_template(
        "patrol/plan.html",
        parts=parts,
        map_name=fmap.get_name(),
        streets=streets,
        kinds={k: v for k, v in KINDS.items() if k != "sites"},  # sites: from the list
        classes=CLASSES,
        default_order=DEFAULT_ORDER,
        form=request.form,
        **context,
    )
    return html, status


@bp.get("/new")
@allow(*STAFF)
def plan_form() -> tuple[str, int]:
    return _plan_page()


@bp.post("/new")
@allow(*STAFF)
def plan_create() -> WerkzeugResponse | tuple[str, int]:
    try:
        patrol, plan = plans.create_patrol(
            session(), _plan_raw_from_form(), current_actor(), district(), speeds=speeds()
        )
    except AppError as exc:
        discard()
        return _plan_page(exc.status, error=exc.message, error_field=exc.field)
    if patrol is None:
        return _plan_page(200, notice=plan.message)
    return redirect(url_for("patrol.pages.patrol", patrol_id=patrol.id), 303)


@bp.get("/<int:patrol_id>")
@allow(*STAFF)
def patrol(patrol_id: int) -> str:
    doc = patrol_doc(patrol_id)
    js, css = _leaflet()
    fmap = patrol_map(doc, _streets(), js, css)
    parts = render_map(fmap, csp_nonce())
    return render_template(
        "patrol/route.html",
        doc=doc,
        parts=parts,
        map_name=fmap.get_name(),
        notice=request.args.get("msg"),
    )


@bp.get("/<int:patrol_id>/sheet")
@allow(*STAFF)
def sheet(patrol_id: int) -> str:
    return render_template(
        "patrol/sheet.html", doc=patrol_doc(patrol_id), printed=clock.local_now()
    )


@bp.post("/<int:patrol_id>/start")
@allow(*STAFF)
def start(patrol_id: int) -> WerkzeugResponse:
    plans.start_patrol(session(), patrol_id, current_actor())
    return redirect(url_for("patrol.pages.patrol", patrol_id=patrol_id), 303)


@bp.post("/<int:patrol_id>/finish")
@allow(*STAFF)
def finish(patrol_id: int) -> WerkzeugResponse:
    plans.finish_patrol(session(), patrol_id, current_actor())
    return redirect(url_for("patrol.pages.patrol", patrol_id=patrol_id), 303)


@bp.post("/<int:patrol_id>/stops/<int:stop_id>/visit")
@allow(*STAFF)
def visit(patrol_id: int, stop_id: int) -> WerkzeugResponse:
    plans.tick_stop(
        session(),
        patrol_id,
        stop_id,
        current_actor(),
        request.form.get("visited", "1"),
        request.form.get("note"),
    )
    return redirect(
        url_for("patrol.pages.patrol", patrol_id=patrol_id, _anchor=f"stop-{stop_id}"), 303
    )


def _finding_page(status: int = 200, **context: Any) -> tuple[str, int]:
    patrol_id = request.values.get("patrol_id") or ""
    html = render_template(
        "patrol/finding.html",
        form=request.form,
        patrol_id=patrol_id,
        duplicate_metres=duplicate_metres(),
        **context,
    )
    return html, status


@bp.get("/findings/new")
@allow(*STAFF)
def finding_form() -> tuple[str, int]:
    return _finding_page()


@bp.post("/findings/new")
@allow(*STAFF)
def finding_create() -> WerkzeugResponse | tuple[str, int]:
    try:
        result = findings.record_finding(
            session(),
            store_for(current_app.config),
            limits_for(current_app.config),
            current_actor(),
            _finding_raw(),
            uploads(),
            duplicate_metres(),
        )
    except Conflict as exc:
        discard()
        return _finding_page(409, error=exc.message, candidates=exc.details.get("candidates"))
    except AppError as exc:
        discard()
        return _finding_page(exc.status, error=exc.message, error_field=exc.field)
    label = findings.ACTIONS[result.finding.action]
    message = f"已记录巡查发现：{label}（点位 {result.site.code}）"
    if result.finding.patrol_id:
        return redirect(
            url_for("patrol.pages.patrol", patrol_id=result.finding.patrol_id, msg=message), 303
        )
    return redirect(url_for("site_pages.site_page", site_id=result.site.id), 303)


def _assign_page(
    status: int = 200, error: str | None = None, field: str | None = None
) -> tuple[str, int]:
    """The chosen sites and the form handing them to a patrol (again, with what was typed
    and the reason beside its field, when refused)."""
    actor = current_actor()
    ids = assign.ticked(request.values.getlist("id"))
    errors = {}
    if error:
        where = {"area.sites": "sites", "body": "sites", "role": "sites"}.get(field or "", field)
        errors[
            where if where in ("sites", "assignee", "date", "title", "patrol_id") else "sites"
        ] = error
    html = render_template(
        "patrol/assign.html",
        rows=assign.chosen_sites(session(), actor, ids),
        inspectors=assign.inspectors(session(), actor),
        patrols=assign.planned_patrols(session(), actor),
        form=request.form,
        mode=request.form.get("mode", "new"),
        today=clock.today().isoformat(),
        error=error,
        errors=errors,
    )
    return html, status


@bp.get("/assign")
@allow(*assign.ASSIGNERS)
def assign_form() -> tuple[str, int]:
    """From the ledger list's 安排巡查 button: the ticked sites (`id`, repeated)."""
    return _assign_page()


@bp.post("/assign")
@allow(*assign.ASSIGNERS)
def assign_create() -> WerkzeugResponse | tuple[str, int]:
    form = request.form
    existing = form.get("mode") == "existing"
    raw: dict[str, Any] = {"sites": form.getlist("id"), "title": form.get("title", "")}
    if existing:
        raw["patrol_id"] = form.get("patrol_id") or None
        if raw["patrol_id"] is None:
            return _assign_page(422, "请选择要加入的巡查", "patrol_id")
    else:
        raw["assignee"] = form.get("assignee", "")
        raw["date"] = form.get("date", "")
    try:
        done = assign.assign_sites(session(), raw, current_actor(), district(), speeds())
    except AppError as exc:
        discard()
        return _assign_page(exc.status, exc.message, exc.field)
    if done.created:
        message = f"已安排巡查：{done.added} 个点位"
    else:
        message = f"已加入巡查：{done.added} 个点位，路线已重新规划"
        if done.already:
            message += f"（另有 {done.already} 个已在该巡查中）"
    return redirect(url_for("patrol.pages.patrol", patrol_id=done.patrol.id, msg=message), 303)


@bp.get("/coverage")
@allow(*STAFF)
def coverage_page() -> str:
    actor = current_actor()
    monday = coverage.parse_week(request.args.get("week"))
    days = coverage.parse_days(request.args.get("days"))
    return render_template(
        "patrol/coverage.html",
        cov=coverage.weekly_coverage(session(), actor, district(), monday),
        stale=coverage.stale_streets(session(), actor, district(), days),
        prev_week=coverage.week_label(monday.fromordinal(monday.toordinal() - 7)),
        next_week=coverage.week_label(monday.fromordinal(monday.toordinal() + 7)),
    )
