"""What other features may ask of the patrols (their public service): the findings of the last
days and the streets that have not patrolled, for the office's dashboard. The patrol's own
modules (plans, routing, findings, coverage…) stay its private parts."""

from __future__ import annotations

from gis_app.features.patrol.coverage import stale_streets
from gis_app.features.patrol.findings import recent_findings

__all__ = ["recent_findings", "stale_streets"]
