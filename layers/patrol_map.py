"""The patrol maps (folium, offline): the area, the route as a polyline, numbered stops.

Like the other map pages, Leaflet comes from the app's static/vendor and no basemap tile is
requested: the street boundaries are the background. Stops are numbered DivIcons (no marker
images needed), green once visited; the start is "起", the end "终".
"""

from __future__ import annotations

import html
from typing import Any

import folium

from layers.outline_map import outline_map, tooltip_text
from layers.palette import status_style

MAX_ZOOM = 18
DEFAULT_BOUNDS = [[39.08, 117.20], [39.17, 117.30]]


def _number_icon(text: str, colour: str, size: int = 28) -> folium.DivIcon:
    return folium.DivIcon(
        html=(
            f'<div class="patrol-pin" style="background:{colour};width:{size}px;height:{size}px;'
            f'line-height:{size}px">{html.escape(text)}</div>'
        ),
        icon_size=(size, size),
        icon_anchor=(size // 2, size // 2),
        class_name="patrol-pin-wrap",
    )


def outline_points(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return [tuple(p) for ring in coords for p in ring]
    if kind == "MultiPolygon":
        return [tuple(p) for poly in coords for ring in poly for p in ring]
    return []


def base_map(streets: dict[str, Any], leaflet_js: str, leaflet_css: str) -> folium.Map:
    """An empty map with the street boundaries (for the planning page)."""
    return outline_map(streets, leaflet_js, leaflet_css, max_zoom=MAX_ZOOM)


def fit(fmap: folium.Map, points: list[tuple[float, float]]) -> None:
    if points:
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
    else:
        bounds = DEFAULT_BOUNDS
    fmap.fit_bounds(bounds, padding=(24, 24), max_zoom=17)


def patrol_map(
    doc: dict[str, Any], streets: dict[str, Any], leaflet_js: str, leaflet_css: str
) -> folium.Map:
    """A patrol (plans.patrol_dict): area outline, route polyline, numbered stops."""
    fmap = base_map(streets, leaflet_js, leaflet_css)
    points: list[tuple[float, float]] = []
    if doc.get("area"):
        folium.GeoJson(
            doc["area"],
            name="巡查范围",
            style_function=lambda _f: {
                "color": "#1f5fbf",
                "weight": 2,
                "dashArray": "6 4",
                "fillOpacity": 0.05,
            },
        ).add_to(fmap)
        points += outline_points(doc["area"])
    if len(doc.get("route") or []) >= 2:
        folium.PolyLine(
            [[lat, lon] for lon, lat in doc["route"]], color="#1f5fbf", weight=4, opacity=0.85
        ).add_to(fmap)
    visited_colour = status_style("closed")["fill"]
    todo_colour = status_style("overdue")["fill"]
    for stop in doc["stops"]:
        colour = visited_colour if stop["visited"] else todo_colour
        folium.Marker(
            [stop["lat"], stop["lon"]],
            icon=_number_icon(str(stop["ord"]), colour),
            tooltip=tooltip_text(f"{stop['ord']}. {stop['code']} {stop['address']}"),
        ).add_to(fmap)
        points.append((stop["lon"], stop["lat"]))
    start = doc["start"]
    folium.Marker(
        [start[1], start[0]], icon=_number_icon("起", "#333333", 30), tooltip="起点"
    ).add_to(fmap)
    points.append((start[0], start[1]))
    if doc.get("end"):
        end = doc["end"]
        folium.Marker(
            [end[1], end[0]], icon=_number_icon("终", "#333333", 30), tooltip="终点"
        ).add_to(fmap)
        points.append((end[0], end[1]))
    stop_points = [(s["lon"], s["lat"]) for s in doc["stops"]] + [tuple(start)]
    fit(fmap, stop_points if doc["stops"] else points)
    return fmap
