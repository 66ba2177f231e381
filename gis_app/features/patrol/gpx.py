"""A patrol for the field: GPX 1.1 (phones' navigation apps) and GeoJSON (RFC 7946).

GPX: one waypoint per stop in route order (name "序号 编号", the reason in the description),
the start and end as waypoints of their own, a route (<rte>) start → stops → end, and the
route's path as a track (<trk>) following the roads when the plan did.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

GPX_NS = "http://www.topografix.com/GPX/1/1"


def _pt(parent: ET.Element, tag: str, lon: float, lat: float, **children: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"})
    for name, value in children.items():
        if value:
            ET.SubElement(el, f"{{{GPX_NS}}}{name}").text = value
    return el


def stop_name(stop: dict[str, Any]) -> str:
    return f"{stop['ord']}. {stop['code']}"


def to_gpx(doc: dict[str, Any]) -> bytes:
    """The patrol document (plans.patrol_dict) as GPX 1.1 bytes."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "违建治理一张图"})
    meta = ET.SubElement(root, f"{{{GPX_NS}}}metadata")
    ET.SubElement(meta, f"{{{GPX_NS}}}name").text = doc["title"]
    ET.SubElement(meta, f"{{{GPX_NS}}}time").text = doc["created_at"]
    q = f"{{{GPX_NS}}}"
    start, end = doc["start"], doc["end"]
    _pt(root, q + "wpt", start[0], start[1], name="起点", type="start")
    for stop in doc["stops"]:
        _pt(
            root,
            q + "wpt",
            stop["lon"],
            stop["lat"],
            name=stop_name(stop),
            desc=f"{stop['address']}；{stop['reason']}",
            type=stop["priority_label"],
        )
    if end:
        _pt(root, q + "wpt", end[0], end[1], name="终点", type="end")
    rte = ET.SubElement(root, q + "rte")
    ET.SubElement(rte, q + "name").text = doc["title"]
    _pt(rte, q + "rtept", start[0], start[1], name="起点")
    for stop in doc["stops"]:
        _pt(rte, q + "rtept", stop["lon"], stop["lat"], name=stop_name(stop))
    last = end or start
    _pt(rte, q + "rtept", last[0], last[1], name="终点" if end else "返回起点")
    if doc["route"]:
        trk = ET.SubElement(root, q + "trk")
        ET.SubElement(trk, q + "name").text = f"{doc['title']}（路线）"
        seg = ET.SubElement(trk, q + "trkseg")
        for lon, lat in doc["route"]:
            _pt(seg, q + "trkpt", lon, lat)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def to_geojson(doc: dict[str, Any]) -> dict[str, Any]:
    """RFC 7946: the route as a LineString, the start, stops and end as Points (lon, lat)."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": doc["route"]},
            "properties": {
                "role": "route",
                "title": doc["title"],
                "total_m": doc["total_m"],
                "walk_minutes": doc["walk_minutes"],
                "bike_minutes": doc["bike_minutes"],
                "network": doc["network"],
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": doc["start"]},
            "properties": {"role": "start", "name": "起点"},
        },
    ]
    for stop in doc["stops"]:
        features.append(
            {
                "type": "Feature",
                "id": stop["site_id"],
                "geometry": {"type": "Point", "coordinates": [stop["lon"], stop["lat"]]},
                "properties": {
                    "role": "stop",
                    "ord": stop["ord"],
                    "site_id": stop["site_id"],
                    "code": stop["code"],
                    "address": stop["address"],
                    "status": stop["status"],
                    "priority": stop["priority"],
                    "reason": stop["reason"],
                    "visited": stop["visited"],
                },
            }
        )
    if doc["end"]:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": doc["end"]},
                "properties": {"role": "end", "name": "终点"},
            }
        )
    return {"type": "FeatureCollection", "features": features}
