"""一张图: the district map, the street maps, their printable versions, the site popups and the
vector tiles of the sites."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app, url_for

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.orm import Session

    from gis_app.features.maps.service import Shift
    from layers.basemaps import Basemap
    from layers.site_map import MapAssets


def register(app: Flask) -> None:
    from gis_app.features.maps import pages, tiles_api

    app.register_blueprint(pages.bp)
    app.register_blueprint(tiles_api.bp)


# what a page of any feature needs to draw a map (the site page draws one): the assets, the
# basemap, the coordinate shift and the URLs the browser fills in; imported when first used,
# so that loading the models (gis_app.features.load_models) does not load folium


def map_assets() -> MapAssets:
    from layers.site_map import MapAssets

    return MapAssets(
        leaflet_js=url_for("static", filename="vendor/leaflet/leaflet.js"),
        leaflet_css=url_for("static", filename="vendor/leaflet/leaflet.css"),
        site_layer_js=url_for("static", filename="js/site-layer.js"),
        site_tiles_js=url_for("static", filename="js/site-tiles.js"),
        mvt_js=url_for("static", filename="js/mvt.js"),
    )


def current_basemap() -> Basemap:
    from layers import basemaps

    return basemaps.resolve(current_app.config["BASEMAP"], current_app.config)


def shift_for(basemap: Basemap) -> Shift | None:
    """Points and outlines are moved to GCJ-02 only for a GCJ-02 basemap."""
    from gis_app.core.geo.gcj02 import wgs84_to_gcj02

    return wgs84_to_gcj02 if basemap.shift_gcj02 else None


def url_templates() -> dict[str, str]:
    """Popup and site-page URLs with an {id} placeholder for the browser to fill."""
    marker = 999999999
    return {
        "popup_url": url_for("maps.site_popup", site_id=marker).replace(str(marker), "{id}"),
        "site_url": url_for("site_pages.site_page", site_id=marker).replace(str(marker), "{id}"),
    }


def count_map_cells(session: Session, today: date) -> int:
    """Count again every square of the map's cell counts that is stale (a new day, the
    compaction of tile_versions, edits): the morning's first city map then sums rows instead
    of counting a million sites. The number of squares counted."""
    from gis_app.features.maps import cells

    if not cells.stale(session, cells.WORLD, today):
        return 0
    cells.lock(session)
    todo = cells.stale(session, cells.WORLD, today)
    if todo:
        cells.count_squares(session, todo, today)
    return len(todo)
