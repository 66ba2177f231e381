"""The public face of the feature: 融媒体 coverage (coverage.py), the streets' publicity work
(work.py) and the office's monthly table of it (monthly.py)."""

from __future__ import annotations

from gis_app.features.publicity import coverage, monthly, work
from gis_app.features.publicity.work import Upload

__all__ = ["Upload", "coverage", "monthly", "work"]
