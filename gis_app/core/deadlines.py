"""The district's deadline rules that are settings (gis_app.settings sets them at start-up).

A site found on patrol (新发现) must be registered (建档: disposition, deadline, plan) within
`registration_days` days of being found, or it is overdue for its street.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REGISTRATION_DAYS = 3


@dataclass
class Rules:
    registration_days: int = DEFAULT_REGISTRATION_DAYS


RULES = Rules()


def configure(registration_days: int) -> None:
    if not 0 <= registration_days <= 365:
        raise ValueError(f"registration_days out of range: {registration_days}")
    RULES.registration_days = registration_days


def registration_days() -> int:
    return RULES.registration_days
