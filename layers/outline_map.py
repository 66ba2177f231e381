"""A plain offline folium map with the street outlines as its background.

The spot-check and patrol maps start from it: Leaflet from the app's static/vendor, no basemap
tile, the streets drawn in the palette's street style with their names as tooltips.
"""

from __future__ import annotations

import html
from typing import Any

import folium

from layers.palette import palette
from layers.site_map import MetricScale


def tooltip_text(text: str) -> str:
    """Text for folium's `tooltip=`: folium writes it raw into a JavaScript template literal
    (`bindTooltip(`<div>…</div>`)`), so markup and the literal's own ` $ \\ are escaped."""
    return html.escape(text).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def outline_map(
    streets: dict[str, Any], leaflet_js: str, leaflet_css: str, max_zoom: int = 18
) -> folium.Map:
    """A map with no tiles, the given Leaflet files and the street outlines (if any)."""
    style = palette()["streets"]
    fmap = folium.Map(tiles=None, control_scale=False, max_zoom=max_zoom)
    MetricScale().add_to(fmap)  # metres and kilometres only (folium's own shows miles too)
    fmap.default_js = [("leaflet", leaflet_js)]
    fmap.default_css = [("leaflet_css", leaflet_css)]
    if streets.get("features"):
        # folium's tooltip inserts the property as markup: street names come from imported
        # boundary files, so they go in as text
        shown = {
            **streets,
            "features": [
                {
                    **f,
                    "properties": {
                        **f["properties"],
                        "name": html.escape(str(f["properties"].get("name", ""))),
                    },
                }
                for f in streets["features"]
            ],
        }
        folium.GeoJson(
            shown,
            name="街道",
            style_function=lambda _f: {
                "color": style["stroke"],
                "weight": style["weight"],
                "fillColor": style["fill"],
                "fillOpacity": style["fill_opacity"],
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["街道"]),
        ).add_to(fmap)
    return fmap
