"""The status palette (layers/palette.yaml), loaded once and used by every page and map."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PALETTE_FILE = Path(__file__).with_name("palette.yaml")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@cache
def palette() -> dict[str, Any]:
    with PALETTE_FILE.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    check_palette(data)
    return data


def check_palette(data: dict[str, Any]) -> None:
    """A bad palette file stops the app at its first use, naming what is wrong."""
    missing = [k for k in data["legend_order"] if k not in data["statuses"]]
    if missing:
        raise ValueError(f"palette.yaml: legend_order names unknown statuses {missing}")
    unlisted = [k for k in data["statuses"] if k not in data["legend_order"]]
    if unlisted:
        raise ValueError(f"palette.yaml: statuses {unlisted} are missing from legend_order")
    for key, style in data["statuses"].items():
        for part in ("fill", "stroke"):
            if not _HEX.match(str(style.get(part, ""))):
                raise ValueError(f"palette.yaml: statuses.{key}.{part} is not a #rrggbb colour")


def status_style(key: str) -> dict[str, Any]:
    """Style of a status code or of 'overdue'."""
    return palette()["statuses"][key]


def display_status(status: str, overdue: bool) -> str:
    """The palette key a site is drawn with: overdue wins over its stored status."""
    return "overdue" if overdue and status != "closed" else status


def legend() -> list[dict[str, Any]]:
    return [{"key": k, **palette()["statuses"][k]} for k in palette()["legend_order"]]


def legend_keys() -> list[str]:
    """The display keys in legend order; a site's key is sent to the browser as its index."""
    return list(palette()["legend_order"])


def disposition_keys() -> list[str]:
    """Disposition codes in palette order; sent to the browser as their index."""
    return list(palette()["dispositions"])


def dash_array(text: str | None) -> list[float]:
    """'3 2' -> [3.0, 2.0] (canvas setLineDash); None -> [] (solid)."""
    return [float(v) for v in text.split()] if text else []


def client_palette() -> dict[str, Any]:
    """What the browser's site layer needs to draw: styles by index, in the orders above."""
    data = palette()
    return {
        "statuses": [
            {
                "key": key,
                "label": data["statuses"][key]["label"],
                "fill": data["statuses"][key]["fill"],
                "stroke": data["statuses"][key]["stroke"],
                "radius": data["statuses"][key]["radius"],
                "z": data["statuses"][key]["z"],
            }
            for key in legend_keys()
        ],
        "dispositions": [
            {
                "key": key,
                "label": data["dispositions"][key]["label"],
                "dash": dash_array(data["dispositions"][key]["dash"]),
            }
            for key in disposition_keys()
        ],
    }


def street_style(highlight: bool = False) -> dict[str, Any]:
    """Leaflet path options for a street outline (the highlighted one on a street map)."""
    s = palette()["street_highlight" if highlight else "streets"]
    return {
        "color": s["stroke"],
        "weight": s["weight"],
        "fillColor": s["fill"],
        "fillOpacity": s["fill_opacity"],
    }


def district_style() -> dict[str, Any]:
    d = palette()["district"]
    return {"color": d["stroke"], "weight": d["weight"], "dashArray": d["dash"], "fill": False}
