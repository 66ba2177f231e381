"""Data exchange with other agencies and GIS desks: exports (GeoJSON, GeoPackage, Shapefile,
KML, CSV, .xlsx, GeoParquet) and OGC API – Features."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.exchange import api, ogc_api
    from gis_app.http import openapi_legacy

    app.register_blueprint(api.bp)
    app.register_blueprint(ogc_api.bp)
    openapi_legacy.add_paths(
        app, lambda: api.export_openapi_paths(openapi_legacy.FILTER_PARAMETERS)
    )
