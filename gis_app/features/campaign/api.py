"""The campaign in the JSON API: its phases, which is current, and the days left."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from gis_app.core import clock
from gis_app.features.campaign.schemas import CampaignStatus
from gis_app.features.campaign.service import CampaignPlan, effective_plan
from gis_app.http.access import API_READERS, allow
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1", template_folder="templates")


@bp.get("/campaign")
@allow(*API_READERS)
@operation(
    "专项行动当前阶段与剩余天数",
    "campaign",
    tags=("campaign",),
    replies=[Reply(200, "专项行动的阶段", CampaignStatus)],
)
def campaign() -> Response:
    return jsonify(campaign_status())


def campaign_status() -> dict[str, Any]:
    """Where the campaign stands today (the API's answer; the pages show it too)."""
    return current_plan().status(clock.today())


def current_plan() -> CampaignPlan:
    """The campaign the district runs: the one stored in the database (the demo's), else the
    configured file's."""
    return effective_plan(session(), current_app.extensions["campaign"])
