"""The campaign in the JSON API: its phases, which is current, and the days left."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from gis_app.core import clock
from gis_app.http.access import API_READERS, allow

bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1", template_folder="templates")


@bp.get("/campaign")
@allow(*API_READERS)
def campaign() -> Response:
    return jsonify(current_app.extensions["campaign"].status(clock.today()))


def campaign_status() -> dict[str, Any]:
    return current_app.extensions["campaign"].status(clock.today())
