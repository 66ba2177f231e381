"""What the patrol API and pages both take from the app and the request: the district, the
distance within which a finding is offered a nearby site, a patrol as the actor sees it, the
photos of a finding."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from gis_app.features.patrol import findings, plans
from gis_app.http.actor import current_actor
from gis_app.http.database import session


def district() -> str:
    return current_app.config["DISTRICT_CODE"]


def duplicate_metres() -> float:
    return float(current_app.config["PATROL_DUPLICATE_METRES"])


def speeds() -> tuple[float, float]:
    """The configured walking and cycling speeds (km/h) of the routes' estimated times."""
    return float(current_app.config["PATROL_WALK_KMH"]), float(
        current_app.config["PATROL_BIKE_KMH"]
    )


def patrol_doc(patrol_id: int) -> dict[str, Any]:
    """The patrol (plans.patrol_dict) if the actor may see it, else 404."""
    actor = current_actor()
    patrol = plans.get_patrol(session(), patrol_id, actor)
    return plans.patrol_dict(session(), patrol, actor)


def uploads() -> list[findings.Upload]:
    """Every photo of a finding's form: `photos` (one or more files), or `file` (older
    clients); the service checks them all."""
    files = request.files.getlist("photos") + request.files.getlist("file")
    return [findings.Upload(f.read(), f.filename) for f in files if f and f.filename]
