"""The status palette (layers/palette.yaml), loaded once and used by every page and map."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

PALETTE_FILE = Path(__file__).with_name("palette.yaml")


@cache
def palette() -> dict[str, Any]:
    with PALETTE_FILE.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    missing = [k for k in data["legend_order"] if k not in data["statuses"]]
    if missing:
        raise ValueError(f"palette.yaml: legend_order names unknown statuses {missing}")
    return data


def status_style(key: str) -> dict[str, Any]:
    """Style of a status code or of 'overdue'."""
    return palette()["statuses"][key]


def display_status(status: str, overdue: bool) -> str:
    """The palette key a site is drawn with: overdue wins over its stored status."""
    return "overdue" if overdue and status != "closed" else status


def legend() -> list[dict[str, Any]]:
    return [{"key": k, **palette()["statuses"][k]} for k in palette()["legend_order"]]
