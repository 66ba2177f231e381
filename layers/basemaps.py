"""Basemap providers (layers/basemaps.yaml) and the one chosen by the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

BASEMAPS_FILE = Path(__file__).with_name("basemaps.yaml")
DATUMS = ("wgs84", "gcj02")
OFFLINE = "offline"


class BasemapConfigError(ValueError):
    """GIS_APP_BASEMAP names no provider, or basemaps.yaml is malformed."""


@dataclass(frozen=True)
class Tiles:
    name: str
    url: str  # with {key} filled in
    subdomains: str
    max_zoom: int
    attribution: str
    overlay: bool = False


@dataclass(frozen=True)
class Basemap:
    key: str
    label: str
    datum: str
    background: str
    tiles: list[Tiles] = field(default_factory=list)
    notice: str = ""  # shown on the page when the configured basemap could not be used

    @property
    def offline(self) -> bool:
        return not self.tiles

    @property
    def shift_gcj02(self) -> bool:
        """True when sites and outlines must be shifted to GCJ-02 to sit on these tiles."""
        return self.datum == "gcj02"


@cache
def providers() -> dict[str, dict[str, Any]]:
    with BASEMAPS_FILE.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    found = data.get("providers") or {}
    if OFFLINE not in found or found[OFFLINE].get("tiles"):
        raise BasemapConfigError("basemaps.yaml: an 'offline' provider without tiles is required")
    for name, spec in found.items():
        if spec.get("datum") not in DATUMS:
            raise BasemapConfigError(f"basemaps.yaml: {name}.datum must be one of {DATUMS}")
        for tile in spec.get("tiles") or []:
            if not str(tile.get("url", "")).startswith("https://"):
                raise BasemapConfigError(f"basemaps.yaml: {name} has a tile url that is not https")
    return found


def check_name(name: str) -> None:
    """Refuse an unknown GIS_APP_BASEMAP at start-up, listing the known ones."""
    if name not in providers():
        known = "、".join(providers())
        raise BasemapConfigError(f"GIS_APP_BASEMAP={name!r} 不是已知的底图（可选：{known}）")


def resolve(name: str, config: dict[str, Any]) -> Basemap:
    """The basemap to draw for the configured name; an online one without its key falls back
    to the offline basemap with a notice saying what to configure."""
    check_name(name)
    spec = providers()[name]
    key_setting = spec.get("key")
    key = str(config.get(key_setting, "") or "").strip() if key_setting else ""
    if key_setting and not key:
        offline = resolve(OFFLINE, config)
        return Basemap(
            key=offline.key,
            label=offline.label,
            datum=offline.datum,
            background=offline.background,
            notice=f"未配置 {spec['label']} 密钥（GIS_APP_{key_setting}），已改用离线底图。",
        )
    tiles = [
        Tiles(
            name=t["name"],
            url=t["url"].replace("{key}", quote(key, safe="")),
            subdomains=str(t.get("subdomains") or ""),
            max_zoom=int(t.get("max_zoom", 18)),
            attribution=t.get("attribution") or "",
            overlay=bool(t.get("overlay", False)),
        )
        for t in spec.get("tiles") or []
    ]
    return Basemap(
        key=name,
        label=spec["label"],
        datum=spec["datum"],
        background=spec["background"],
        tiles=tiles,
    )
