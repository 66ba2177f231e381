"""HTML pages in Chinese: the home page and the readable API description."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from gis_app import clock, codes
from gis_app.db import session
from gis_app.services import streets
from gis_app.web.openapi import openapi_document

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    collection = streets.streets_feature_collection(session(), clock.today().isoformat())
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
def api_doc() -> str:
    doc = openapi_document(url_for("api.index", _external=True).rstrip("/"))
    return render_template("api_doc.html", doc=doc)
