"""The page of one site: its data, its history as a timeline, a small map (internal page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, render_template

from gis_app.core import clock, codes
from gis_app.features.ledger import service as sites
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.permissions import sees_personal_data, street_code_of
from gis_app.features.ledger.queries import SiteFilter
from gis_app.features.ledger.schemas import FIELD_LABELS
from gis_app.features.maps import current_basemap, map_assets, shift_for, url_templates
from gis_app.features.maps import service as map_data
from gis_app.http.access import SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.security import csp_nonce
from layers import palette
from layers.site_map import MapSpec, build_map, render_map

bp = Blueprint("site_pages", __name__, template_folder="templates")

ACTION_LABELS = {
    "create": "登记",
    "import": "台账导入",
    "update": "修改",
    "delete": "删除",
    "correct": "区办更正（已销账）",
    "historical_closure": "历史销账登记",
    "historical_accept": "历史销账验收",
    "central_request": "应拆尽拆变更申请",
    "central_approved": "应拆尽拆变更批准",
    "central_rejected": "应拆尽拆变更驳回",
}
EVENT_FIELD_LABELS = {
    **FIELD_LABELS,
    "area_m2": "面积（㎡）",
    "current_deadline": "当前期限",
    "street": "街道",
    "location": "位置",
    "import_batch": "导入批次",
    "deleted": "已删除",
    "historical_accepted": "历史销账已验收",
    "clock_stopped_days": "待验收停表天数",
}
CODE_LISTS = {
    "status": codes.STATUSES,
    "disposition": codes.DISPOSITIONS,
    "kind": codes.KINDS,
    "source": codes.SOURCES,
}
SITE_MAP_ZOOM = 17


def show_value(field: str, value: Any) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field in CODE_LISTS:
        return codes.label(CODE_LISTS[field], str(value))
    if field == "location" and isinstance(value, list) and len(value) == 2:
        return f"{value[0]:.6f}, {value[1]:.6f}"
    return str(value)


#: what the history shows of the persons concerned only to those who may see them
PERSONAL_CHANGES = frozenset({*codes.PERSONAL_FIELDS, "note"})


def timeline(events: list[dict[str, Any]], personal: bool = True) -> list[dict[str, Any]]:
    """History events, newest first, with Chinese labels and local times; without `personal`
    the changes of the persons concerned (name, contact, hardship, notes) are left out."""
    out = []
    for event in reversed(events):
        changes = []
        for field, pair in (event.get("changes") or {}).items():
            if not personal and field in PERSONAL_CHANGES:
                continue
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append(
                {
                    "field": field,
                    "label": EVENT_FIELD_LABELS.get(field, field),
                    "before": show_value(field, before) if before is not None else None,
                    "after": show_value(field, after),
                }
            )
        out.append(
            {
                "at": clock.fmt_local(datetime.fromisoformat(event["at"])),
                "actor": event["actor"],
                "action": event["action"],
                "action_label": ACTION_LABELS.get(event["action"], event["action"]),
                "reason": event["reason"],
                "changes": changes,
            }
        )
    return out


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
        events=timeline(sites.site_history(session(), site_id, actor), personal),
        parts=render_map(build_map(spec, map_assets()), csp_nonce()),
        basemap=basemap,
    )
