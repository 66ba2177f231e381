"""Maps of a spot check: a folium map for the pages and a PNG for the .xlsx report.

Both work offline: the folium map loads Leaflet from the app's own static/vendor (no CDN,
no basemap tiles: street boundaries are the background), the PNG is drawn with Pillow.
Colours come from the app's palette: passed like a closed site, failed like an overdue one,
not yet checked like a site in progress.
"""

from __future__ import annotations

import io
import math
from typing import Any

import folium
from PIL import Image, ImageDraw

from layers.outline_map import outline_map, tooltip_text
from layers.palette import status_style

RESULT_STYLE_KEYS = {"pass": "closed", "fail": "overdue", None: "in_progress"}
RESULT_LABELS = {"pass": "合格", "fail": "不合格", None: "待核查"}
MAX_ZOOM = 17


def result_colour(result: str | None) -> str:
    return status_style(RESULT_STYLE_KEYS.get(result, "in_progress"))["fill"]


def _bounds(sites: list[dict[str, Any]], streets: dict[str, Any]) -> list[list[float]]:
    lons = [s["lon"] for s in sites]
    lats = [s["lat"] for s in sites]
    if not lons:
        for feature in streets.get("features", []):
            for lon, lat in _coords(feature["geometry"]):
                lons.append(lon)
                lats.append(lat)
    if not lons:
        return [[39.08, 117.20], [39.17, 117.30]]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _coords(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    if geometry["type"] == "Polygon":
        return [tuple(p) for ring in geometry["coordinates"] for p in ring]
    if geometry["type"] == "MultiPolygon":
        return [tuple(p) for poly in geometry["coordinates"] for ring in poly for p in ring]
    return []


def batch_map(
    sites: list[dict[str, Any]], streets: dict[str, Any], leaflet_js: str, leaflet_css: str
) -> folium.Map:
    """The streets and the sampled sites as a folium map (the page renders it, inline with its
    Content-Security-Policy nonce, or as a page of its own)."""
    fmap = outline_map(streets, leaflet_js, leaflet_css)
    for s in sites:
        colour = result_colour(s["result"])
        folium.CircleMarker(
            [s["lat"], s["lon"]],
            radius=6,
            color="#222222",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=tooltip_text(  # codes come from ledgers: never markup or script
                f"{s['ord']}. {s['code'] or ''}（{s['street_name']}）{RESULT_LABELS[s['result']]}"
            ),
        ).add_to(fmap)
    # without a tile layer Leaflet knows no highest zoom: framing a single site would zoom to
    # infinity (NaN coordinates, an inspector's batch of one); at most street level
    fmap.fit_bounds(_bounds(sites, streets), padding=(24, 24), max_zoom=MAX_ZOOM)
    return fmap


def batch_map_png(sites: list[dict[str, Any]], streets: dict[str, Any], width: int = 900) -> bytes:
    """A static map (streets outlined, sites coloured by result) as PNG bytes."""
    (lat0, lon0), (lat1, lon1) = _bounds([], streets)
    if sites:
        lat0 = min(lat0, *(s["lat"] for s in sites))
        lat1 = max(lat1, *(s["lat"] for s in sites))
        lon0 = min(lon0, *(s["lon"] for s in sites))
        lon1 = max(lon1, *(s["lon"] for s in sites))
    kx = math.cos(math.radians((lat0 + lat1) / 2))  # equirectangular: keep the shape
    span_x = max((lon1 - lon0) * kx, 1e-6)
    span_y = max(lat1 - lat0, 1e-6)
    margin = 20
    scale = (width - 2 * margin) / span_x
    height = int(span_y * scale) + 2 * margin

    def px(lon: float, lat: float) -> tuple[float, float]:
        return (margin + (lon - lon0) * kx * scale, margin + (lat1 - lat) * scale)

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for feature in streets.get("features", []):
        geometry = feature["geometry"]
        polys = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        for poly in polys:
            for ring in poly:
                draw.line([px(lon, lat) for lon, lat in ring], fill="#4a4a4a", width=2)
    for s in sites:
        x, y = px(s["lon"], s["lat"])
        draw.ellipse(
            [x - 5, y - 5, x + 5, y + 5], fill=result_colour(s["result"]), outline="#222222"
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
