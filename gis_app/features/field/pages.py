"""The web app's manifest and its service worker, both at the root of the site: the worker's
scope is the whole site, and it answers only for the field pages, their files and the
photos' thumbnails (static/js/field-sw.js says how)."""

from __future__ import annotations

import functools
import hashlib

from flask import Blueprint, Response, current_app, jsonify, url_for

from gis_app.core.localdb import PROJECT_ROOT
from gis_app.http.access import public

bp = Blueprint("field", __name__, template_folder="templates")

STATIC = PROJECT_ROOT / "static"
WORKER = STATIC / "js" / "field-sw.js"
#: the app's own files whose change makes the phones fetch them again (a new worker version)
VERSIONED = ("js/field-sw.js", "js/field.js", "js/photos.js", "js/patrol.js", "css/app.css",
             "css/patrol.css", "css/field.css")  # fmt: skip
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
