"""The web app's manifest and its service worker, both at the root of the site: the worker's
scope is the whole site, and it answers only for the field pages, their files and the
photos' thumbnails (static/js/field-sw.js says how)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, url_for

from gis_app.core import basemap
from gis_app.core.errors import NotFound
from gis_app.core.localdb import PROJECT_ROOT
from gis_app.http.access import ANY_USER, allow, public

bp = Blueprint("field", __name__, template_folder="templates")

STATIC = PROJECT_ROOT / "static"
WORKER = STATIC / "js" / "field-sw.js"
#: the app's own files whose change makes the phones fetch them again (a new worker version)
VERSIONED = ("js/field-sw.js", "js/field.js", "js/photos.js", "js/patrol.js", "js/basemap.js",
             "js/mvt.js", "css/app.css", "css/patrol.css", "css/field.css")  # fmt: skip
#: where the installed app opens
START = "/patrols/"
THEME = "#1f5fbf"


@functools.cache
def version() -> str:
    """A short hash of the worker and the field files: a new release, a new version."""
    digest = hashlib.sha256()
    for name in VERSIONED:
        path = STATIC / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    icons = [
        {
            "src": url_for("static", filename=f"img/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable",
        }
        for size in (192, 512)
    ]
    response = jsonify(
        {
            "name": f"{current_app.config['DISTRICT_NAME']} · 违建巡查",
            "short_name": "违建巡查",
            "description": "巡查、抽查与发现登记；无信号时先存在手机上，有信号后自动发送",
            "lang": "zh-CN",
            "start_url": START,
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#ffffff",
            "theme_color": THEME,
            "icons": icons,
        }
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
@public
def service_worker() -> Response:
    """The worker script (never cached by the browser's HTTP cache, so a release reaches the
    phones at their next visit)."""
    body = WORKER.read_text(encoding="utf-8").replace("__VERSION__", version())
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def _root() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "basemap"


@bp.get("/basemap.json")
@allow(ANY_USER)
def basemap_info() -> Response:
    """The imported basemap as TileJSON (404 when none was imported)."""
    info = basemap.current(_root())
    if info is None:
        raise NotFound("尚未导入离线底图（gis-app basemap import FILE）", "basemap")
    template = url_for("field.basemap_tile", z=0, x=0, y=0, ext=info.format)
    template = template.replace("/0/0/0.", "/{z}/{x}/{y}.")
    return jsonify(
        {
            "tilejson": "3.0.0",
            "name": info.name,
            "tiles": [template],
            "minzoom": info.minzoom,
            "maxzoom": info.maxzoom,
            "bounds": info.bounds or [-180, -85.05, 180, 85.05],
            "format": info.format,
            "kind": info.kind,
            "vector_layers": info.vector_layers,
        }
    )


@bp.get("/basemap/tiles/<int:z>/<int:x>/<int:y>.<ext>")
@allow(ANY_USER)
def basemap_tile(z: int, x: int, y: int, ext: str) -> Response:
    """One tile of the imported basemap; 204 where the basemap has none (the map shows the
    street outlines there, and no error)."""
    found = basemap.tile(_root(), z, x, y) if z <= basemap.MAX_ZOOM else None
    if found is None or found[1].format != ext:
        return Response(status=204)
    data, info = found
    response = Response(data, mimetype=info.media_type)
    if info.format == "pbf" and basemap.is_gzip(data):
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def offline_basemap() -> dict[str, object] | None:
    """The imported basemap (raster or vector) for the map pages (base.html), else None."""
    info = basemap.current(_root())
    if info is None:
        return None
    template = url_for("field.basemap_tile", z=0, x=0, y=0, ext=info.format)
    return {
        "tiles": template.replace("/0/0/0.", "/{z}/{x}/{y}."),
        "kind": info.kind,
        "minzoom": info.minzoom,
        "maxzoom": info.maxzoom,
        "bounds": ",".join(f"{v:.6f}" for v in info.bounds) if len(info.bounds) == 4 else "",
    }
