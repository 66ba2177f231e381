"""HTML pages in Chinese: the home page and the readable API description."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, url_for

from gis_app.core import clock, codes
from gis_app.features.ledger.permissions import own_street
from gis_app.features.streets import service as streets
from gis_app.http.access import ANY_USER, API_READERS, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.openapi import api_document

bp = Blueprint("pages", __name__, template_folder="templates")
BUREAU_PAGES = {
    "bureau_civil": "bureau.civil_affairs",
    "bureau_housing": "bureau.housing",
    "bureau_police": "bureau.police",
}


@bp.get("/")
@allow(ANY_USER)
def home() -> Any:
    actor = current_actor()
    if actor.role in BUREAU_PAGES:  # a bureau sees its own view only
        return redirect(url_for(BUREAU_PAGES[actor.role]))
    own = own_street(actor)
    collection = streets.streets_feature_collection(
        session(), clock.today().isoformat(), [own] if own else None
    )
    rows = [f["properties"] for f in collection["features"]]
    keys = ["total", *codes.STATUSES, "overdue"]
    totals = {k: sum(r["counts"][k] for r in rows) for k in keys}
    for r in rows:
        c = r["counts"]
        r["completion"] = c["closed"] / c["total"] if c["total"] else None
    return render_template(
        "home.html",
        streets=rows,
        totals=totals,
        any_approximate=any(r["approximate"] for r in rows),
        now=clock.local_now(),
    )


@bp.get("/api")
@allow(*API_READERS)
def api_doc() -> str:
    doc = api_document(current_app, url_for("home_api.index", _external=True).rstrip("/"))
    return render_template("api_doc.html", doc=doc)
