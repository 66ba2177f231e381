"""Folium builders of the map pages: basemap, outlines, the sites' canvas layer, legend, controls.

folium builds the map (Map, tile layers, GeoJSON outlines, layer control, framing); the sites
themselves are one custom layer drawn on a canvas by static/js/site-layer.js from the compact
arrays of gis_app.features.maps.service, with one toggle layer per status and per disposition in the
layer control. Every script and style sheet comes from the app's own static files: folium's
default CDN lists are replaced (district intranets have no internet).

This module knows nothing of Flask: the pages pass the URLs of the assets and of the popups.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from layers import palette
from layers.basemaps import Basemap

# branca's render, patched once for every map (layers/folium_text.py); named here for tests
from layers.folium_text import BRANCA_MACRO_RENDER, RenderedText, render_macro  # noqa: F401

MAX_ZOOM = 19


@dataclass(frozen=True)
class MapAssets:
    """URLs of the files the map needs, all served by the app itself."""

    leaflet_js: str
    leaflet_css: str
    site_layer_js: str
    site_tiles_js: str = ""  # the tile mode of the site layer (static/js/site-tiles.js)
    mvt_js: str = ""  # the vector-tile reader site-tiles.js uses (static/js/mvt.js)


@dataclass
class MapSpec:
    """Everything one map shows."""

    sites_payload: str  # compact JSON from gis_app.features.maps.service.site_points
    counts: dict[str, int] | None  # by display key, plus "total" (None: legend without counts)
    streets: dict[str, Any]  # FeatureCollection with code, name, label
    bounds: tuple[float, float, float, float] | None  # (west, south, east, north)
    basemap: Basemap
    popup_url: str  # with {id} for the site id
    site_url: str  # with {id}
    district: dict[str, Any] | None = None
    highlight_street: str | None = None
    printable: bool = False  # no controls; fixed size for A4
    layer_control: bool = True  # the toggles per status and disposition
    legend: bool = True
    zoom: int | None = None  # a fixed zoom (site page) instead of framing to the bounds
    center: tuple[float, float] | None = None  # (lon, lat) with zoom
    focus: tuple[float, float] | None = None  # (lon, lat) ringed: the site of a site page
    # drawn from vector tiles (more sites than the threshold): tileUrl, sitesUrl, threshold,
    # viewSites, streetZoom, streets and squares for static/js/site-tiles.js; None: every
    # site is in sites_payload
    tiles: dict[str, Any] | None = None


@dataclass(frozen=True)
class MapParts:
    """The pieces a Jinja page puts in its head and body: the map's div, the site data
    (JSON script blocks) and the map's script, in that order."""

    header: str
    html: str
    data: str
    script: str


class LocalMap(folium.Map):
    """folium.Map whose scripts and styles are the app's own files, never a CDN."""

    def __init__(self, assets: MapAssets, **kwargs: Any) -> None:
        super().__init__(tiles=None, **kwargs)
        # instance lists: folium's add_js_link would otherwise change the class-wide defaults
        self.default_js = [("leaflet", assets.leaflet_js)]
        self.default_css = [("leaflet_css", assets.leaflet_css)]


class SiteLayer(JSCSSMixin):
    """All sites on one canvas; clicking one opens its popup (fetched from popup_url)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.gisSiteLayer(
            JSON.parse(document.getElementById({{ this.data_id | tojson }}).textContent),
            {{ this.options | tojson }}
        ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    @property
    def data_id(self) -> str:
        return self.get_name() + "_data"

    def data_block(self) -> str:
        """The sites as a JSON <script> block for the page (parsed by JSON.parse, which is
        faster than a script literal; folium's templates never copy the large string)."""
        # numbers only, but never let the payload close the <script> it sits in
        payload = self.payload.replace("</", "<\\/")
        return f'<script type="application/json" id="{self.data_id}">{payload}</script>'

    def __init__(self, payload: str, assets: MapAssets, options: dict[str, Any]) -> None:
        super().__init__()
        self._name = "GisSiteLayer"
        self.payload = payload
        self.options = options
        self.default_js = [("gis_site_layer", assets.site_layer_js)]
        if options.get("tiles") and assets.site_tiles_js:
            if assets.mvt_js:
                self.default_js.append(("gis_mvt", assets.mvt_js))
            self.default_js.append(("gis_site_tiles", assets.site_tiles_js))


class SiteToggle(Layer):
    """An entry of the layer control that shows or hides the sites of one status or disposition."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.gisSiteToggle(
            {{ this.site_layer.get_name() }}, {{ this.dimension | tojson }}, {{ this.index }},
            {{ this.heading | tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self, site_layer: SiteLayer, dimension: str, index: int, label: str, heading: str = ""
    ) -> None:
        super().__init__(name=label, overlay=True, control=True, show=True)
        self._name = "GisSiteToggle"
        self.site_layer = site_layer
        self.dimension = dimension  # "status" (legend index) or "disposition"
        self.index = int(index)
        self.heading = heading  # a group heading above this entry in the layer control


class Legend(folium.MacroElement):
    """The legend in Chinese, with the count of each status drawn."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position | tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create('div', 'gis-legend leaflet-bar');
            div.innerHTML = {{ this.html | tojson }};
            L.DomEvent.disableClickPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, counts: dict[str, int] | None, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "GisLegend"
        self.position = position
        self.html = legend_html(counts)


class FitBoundsNow(folium.MacroElement):
    """Frame the map at once (folium's FitBounds animates from the initial view, and the
    sites would be drawn twice: first at that view, then at the framed one)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds | tojson }},
            {padding: [{{ this.padding }}, {{ this.padding }}], animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: tuple[float, float, float, float], padding: int = 12) -> None:
        super().__init__()
        self._name = "FitBoundsNow"
        west, south, east, north = bounds
        self.bounds = [[south, west], [north, east]]
        self.padding = int(padding)


class MetricScale(folium.MacroElement):
    """A scale bar in metres and kilometres only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


def swatch_html(key: str, dash: bool = False) -> str:
    """A round swatch in a status colour (dashed border for 规范治理)."""
    style = palette.status_style(key)
    size = 2 * int(style["radius"]) + 2
    border = "dashed" if dash else "solid"
    return (
        f'<span class="gis-swatch" style="background:{style["fill"]};'
        f'border:2px {border} {style["stroke"]};width:{size}px;height:{size}px"></span>'
    )


def disposition_swatch_html(code: str) -> str:
    dash = bool(palette.palette()["dispositions"][code]["dash"])
    border = "dashed" if dash else "solid"
    colour = palette.palette()["streets"]["stroke"]
    return f'<span class="gis-swatch gis-swatch-plain" style="border:2px {border} {colour}"></span>'


def legend_html(counts: dict[str, int] | None) -> str:
    """Legend rows in legend order, each with its count when counts are given."""
    rows = []
    for item in palette.legend():
        key = item["key"]
        count = (
            f'<span class="gis-count" data-count="{key}">{counts.get(key, 0)}</span>'
            if counts is not None
            else ""
        )
        rows.append(
            f'<li data-key="{item["key"]}">{swatch_html(item["key"])}'
            f'<span class="gis-label">{html.escape(item["label"])}</span>{count}</li>'
        )
    for code, spec in palette.palette()["dispositions"].items():
        rows.append(
            f'<li class="gis-legend-disposition" data-disposition="{code}">'
            f"{disposition_swatch_html(code)}"
            f'<span class="gis-label">{html.escape(spec["label"])}</span></li>'
        )
    total = (
        f'<div class="gis-legend-total">合计<span data-count="total">{counts["total"]}</span></div>'
        if counts is not None
        else ""
    )
    return f'<div class="gis-legend-title">图例</div><ul>{"".join(rows)}</ul>{total}'


def _street_style(highlight: str | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def style(feature: dict[str, Any]) -> dict[str, Any]:
        return palette.street_style(feature["properties"]["code"] == highlight)

    return style


def _add_basemap(m: folium.Map, basemap: Basemap) -> None:
    for tiles in basemap.tiles:
        kwargs: dict[str, Any] = {}
        if tiles.subdomains:
            kwargs["subdomains"] = tiles.subdomains
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution or tiles.name,
            name=tiles.name,
            overlay=tiles.overlay,
            control=True,
            max_zoom=MAX_ZOOM,  # beyond the provider's last level its tiles are enlarged
            max_native_zoom=tiles.max_zoom,
            **kwargs,
        ).add_to(m)


def _add_outlines(m: folium.Map, spec: MapSpec) -> None:
    control = spec.layer_control and not spec.printable
    group = folium.FeatureGroup(name="街道边界", overlay=True, control=control)
    if spec.district is not None:
        folium.GeoJson(
            spec.district,
            name="区界",
            style_function=lambda _f: palette.district_style(),
            control=False,
            interactive=False,
        ).add_to(group)
    folium.GeoJson(
        spec.streets,
        name="街道",
        style_function=_street_style(spec.highlight_street),
        control=False,
        interactive=False,
    ).add_to(group)
    label_colour = palette.palette()["streets"]["label_colour"]
    for feature in spec.streets["features"]:
        props = feature["properties"]
        lon, lat = props["label"]
        css = "gis-street-label"
        if props["code"] == spec.highlight_street:
            css += " gis-street-label-highlight"
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(
                html=(
                    f'<span class="{css}" style="color:{label_colour}" '
                    f'data-street="{html.escape(props["code"])}">'
                    f"{html.escape(props['name'])}</span>"
                ),
                icon_size=(0, 0),
                class_name="gis-street-label-icon",
            ),
            interactive=False,
            keyboard=False,
        ).add_to(group)
    group.add_to(m)


def build_map(spec: MapSpec, assets: MapAssets) -> folium.Map:
    """The folium map of one page: basemap, outlines, sites, toggles, legend, controls."""
    m = LocalMap(
        assets,
        location=_start_location(spec),
        zoom_start=spec.zoom or 13,
        width="100%",
        height="100%",
        control_scale=False,
        zoom_control=not spec.printable,
        max_zoom=MAX_ZOOM,
        zoom_snap=0.25,  # frames a street or the district closely, not to the next whole zoom
        zoom_delta=0.5,
    )
    MetricScale().add_to(m)
    if spec.zoom is None and spec.bounds is not None:
        # framed first, so that the sites are drawn once, at the final view
        FitBoundsNow(spec.bounds).add_to(m)
    _add_basemap(m, spec.basemap)
    _add_outlines(m, spec)
    site_layer = SiteLayer(
        spec.sites_payload,
        assets,
        {
            "palette": palette.client_palette(),
            "popupUrl": spec.popup_url,
            "siteUrl": spec.site_url,
            "background": spec.basemap.background,
            "interactive": not spec.printable,
            "tiles": spec.tiles,
        },
    )
    site_layer.add_to(m)
    if spec.focus is not None:
        ring = palette.palette()["street_highlight"]
        folium.CircleMarker(
            [spec.focus[1], spec.focus[0]],
            radius=16,
            color=ring["stroke"],
            weight=3,
            fill=False,
            interactive=False,
        ).add_to(m)
    controls = spec.layer_control and not spec.printable
    if controls:
        _add_site_toggles(m, site_layer)
    if spec.legend:
        Legend(spec.counts).add_to(m)
    if controls:
        folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def _start_location(spec: MapSpec) -> list[float]:
    """[lat, lon] the map opens on: the given centre, else the middle of the bounds."""
    if spec.center is not None:
        return [spec.center[1], spec.center[0]]
    if spec.bounds is not None:
        west, south, east, north = spec.bounds
        return [(south + north) / 2, (west + east) / 2]
    return [39.12, 117.25]


def _add_site_toggles(m: folium.Map, site_layer: SiteLayer) -> None:
    """The layer control's entries: one per status (with its swatch), one per disposition."""
    for index, item in enumerate(palette.legend()):
        label = (
            f'<span class="gis-lc-item" data-key="{item["key"]}">'
            f"{swatch_html(item['key'])}{html.escape(item['label'])}</span>"
        )
        SiteToggle(site_layer, "status", index, label, "按状态" if index == 0 else "").add_to(m)
    for index, code in enumerate(palette.disposition_keys()):
        name = palette.palette()["dispositions"][code]["label"]
        label = (
            f'<span class="gis-lc-item" data-disposition="{code}">'
            f"{disposition_swatch_html(code)}{html.escape(name)}</span>"
        )
        heading = "按治理方式" if index == 0 else ""
        SiteToggle(site_layer, "disposition", index, label, heading).add_to(m)


# an inline <script> (no src) without a nonce yet
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src|nonce)=)(?=[\s>])", re.IGNORECASE)


def with_nonce(markup: str, nonce: str | None) -> str:
    """Every inline <script> of `markup` carries the response's CSP nonce (folium writes a
    few of its own: L_NO_TOUCH in the header, the map's script); scripts loaded from the
    app's own files need none."""
    if not nonce:
        return markup
    return _INLINE_SCRIPT.sub(f'<script nonce="{html.escape(nonce, quote=True)}"', markup)


def render_map(m: folium.Map, nonce: str | None = None) -> MapParts:
    """Header (script and style links), the map's div and its script, for a Jinja page.

    With `nonce` the inline scripts of the header carry it; the page puts the map's script
    in `<script nonce="...">` itself (the Content-Security-Policy allows no other)."""
    root = m.get_root()
    root.render()
    blocks = [c.data_block() for c in m._children.values() if isinstance(c, SiteLayer)]
    return MapParts(
        header=with_nonce(root.header.render(), nonce),
        html=with_nonce(root.html.render(), nonce),
        data="".join(blocks),
        script=root.script.render(),
    )


def render_page(m: folium.Map, nonce: str | None = None) -> str:
    """The map as a whole HTML page of its own, its inline scripts carrying `nonce`."""
    return with_nonce(m.get_root().render(), nonce)
