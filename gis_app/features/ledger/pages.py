"""The page of one site: its data, its history as a timeline, a small map (internal page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template

from gis_app.core import clock, codes
from gis_app.features.accounts.service import display_names
from gis_app.features.ledger import history
from gis_app.features.ledger import service as sites
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import sees_personal_data, street_code_of
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.maps import current_basemap, map_assets, shift_for, url_templates
from gis_app.features.maps import service as map_data
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.security import csp_nonce
from layers import palette
from layers.site_map import MapSpec, build_map, render_map

bp = Blueprint("site_pages", __name__, template_folder="templates")

SITE_MAP_ZOOM = 17


def staff_name(username: str | None) -> str:
    """The name a person goes by, for a username shown on a page (a template global)."""
    if not username:
        return ""
    cache = g.setdefault("staff_names", {})
    if username not in cache:
        cache[username] = history.actor_name(username, display_names(session(), [username]))
    return cache[username]


def site_timeline(site_id: int) -> list[dict[str, Any]]:
    """The site's history as the pages show it (a template global: the workflow page uses it)."""
    actor = current_actor()
    site = sites.get_site(session(), site_id, actor=actor)
    personal = sees_personal_data(actor, street_code_of(session(), site))
    return history.timeline(session(), sites.site_history(session(), site_id, actor), personal)


@bp.get("/sites/<int:site_id>")
@allow(*SITE_STAFF)
def site_page(site_id: int) -> str:
    """One site for the district and its own street (any other site is a 404); the person
    concerned only where permissions.sees_personal_data allows."""
    actor = current_actor()
    today = clock.today()
    # held while the page renders: the session's identity map keeps the row only while it is
    # referenced, and the feature, the history and the workflow panel look it up again
    site = sites.get_site(session(), site_id, actor=actor)
    street_code = street_code_of(session(), site)
    personal = sees_personal_data(actor, street_code)
    feature = sites.site_feature(session(), site_id, today, personal=personal, actor=actor)
    props = feature["properties"]
    lon, lat = feature["geometry"]["coordinates"]
    basemap = current_basemap()
    shift = shift_for(basemap)
    points = map_data.site_points(
        session(), SiteFilter(), today, shift=shift, extra=[Site.id == site_id], actor=actor
    )
    shapes = map_data.outlines(session(), current_app.config["DISTRICT_CODE"], shift=shift)
    center = shift(lon, lat) if shift else (lon, lat)
    spec = MapSpec(
        sites_payload=points.payload,
        counts=None,
        layer_control=False,
        legend=False,
        streets=shapes.streets,
        district=shapes.district,
        bounds=None,
        basemap=basemap,
        highlight_street=props["street_code"],
        zoom=SITE_MAP_ZOOM,
        center=center,
        focus=center,
        **url_templates(),
    )
    key = palette.display_status(props["status"], props["overdue"])
    return render_template(
        "site/page.html",
        site=props,
        lon=lon,
        lat=lat,
        display=palette.status_style(key) | {"key": key},
        flags=[label for code, label in codes.FLAGS.items() if props.get(f"flag_{code}")],
        personal=personal,
        events=site_timeline(site_id),
        parts=render_map(build_map(spec, map_assets()), csp_nonce()),
        basemap=basemap,
    )
