"""Keeping the ledger on the pages: a site's form with a map (click to place, drag to move, the
street derived and shown before saving), creating, editing with optimistic locking shown as
"someone changed this meanwhile" with both versions, and deleting (the office, with a reason).

The services do the work (ledger.service); a refused form is shown again with what was typed
and each error beside its field, in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from gis_app.core import clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import AppError, Conflict, ValidationError
from gis_app.features.accounts.service import display_names
from gis_app.features.ledger import service as sites
from gis_app.features.ledger.permissions import sees_personal_data, street_code_of
from gis_app.features.ledger.schemas import FLAG_FIELDS, clean_site_fields
from gis_app.features.maps import current_basemap, shift_for
from gis_app.features.maps import service as map_data
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import street_ids_for_points
from gis_app.http.access import DISTRICT, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

bp = Blueprint("site_forms", __name__, template_folder="templates")

EDITORS = (*DISTRICT, "street_officer")  # who edits a site (ledger.service.update_site)
CREATORS = (*DISTRICT, "street_officer", "inspector")  # who registers one
FLASH = "workflow"  # shown by the site's pages like the workflow's messages


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, textarea, select, number, date, flag
    choices: dict[str, str] | None = None
    required: bool = False
    personal: bool = False
    hint: str = ""


FIELDS: tuple[Field, ...] = (
    Field("address", "地址", required=True, hint="如：大直沽中路12号院内"),
    Field("code", "编号", hint="留空则按街道自动编号"),
    Field("community", "社区"),
    Field("kind", "违建类型", "select", dict(codes.KINDS)),
    Field("area_m2", "面积（㎡）", "number"),
    Field("disposition", "治理方式", "select", dict(codes.DISPOSITIONS), required=True),
    Field("committed_deadline", "承诺期限", "date", hint="街道修改须申请延期"),
    Field("person_name", "相对人", personal=True),
    Field("person_contact", "联系电话", personal=True),
    *(
        Field(f"flag_{code}", label, "flag", personal=code == "hardship")
        for code, label in codes.FLAGS.items()
    ),
    Field("note", "备注", "textarea", personal=True),
)
LABELS = {f.name: f.label for f in FIELDS} | {"lon": "位置", "lat": "位置", "version": "版本"}


def _value_of(site_props: dict[str, Any], name: str) -> str:
    value = site_props.get(name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _submitted(personal: bool) -> dict[str, str]:
    """What the form sent, as strings (a ticked flag is "on", an unticked one is not sent);
    a field the form did not send is left out (an edit keeps its value)."""
    out = {}
    for f in FIELDS:
        if f.personal and not personal:
            continue
        if f.name in request.form or f.kind == "flag":
            out[f.name] = (request.form.get(f.name) or "").strip()
    for name in ("lon", "lat"):
        out[name] = (request.form.get(name) or "").strip()
    return out


def _raw(form: dict[str, str]) -> dict[str, Any]:
    """The service's fields from the form's strings (flags as booleans)."""
    raw: dict[str, Any] = {}
    for name, value in form.items():
        if name in FLAG_FIELDS:
            raw[name] = value == "on"
        else:
            raw[name] = value
    return raw


def _field_errors(errors: list[Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in errors:
        name = "lon" if e.field in ("lon", "lat") else e.field
        found.setdefault(name, e.message)
    return found


def _error_beside(exc: AppError) -> tuple[dict[str, str], str | None]:
    """Where a refusal is shown: beside its field when the form has it, else above the form."""
    field = "lon" if exc.field in ("lon", "lat") else exc.field
    if field and (field in LABELS):
        return {field: exc.message}, None
    return {}, exc.message


def _map_data(lonlat: tuple[float, float] | None) -> dict[str, Any]:
    """What site-form.js needs: tiles, the street outlines (on the basemap's datum), where the
    marker is, and the URL that names the street of a point."""
    basemap = current_basemap()
    shift = shift_for(basemap)
    shapes = map_data.outlines(session(), current_app.config["DISTRICT_CODE"], shift=shift)
    marker = None
    if lonlat:
        marker = list(shift(*lonlat)) if shift else list(lonlat)
    return {
        "tiles": [
            {
                "url": t.url,
                "subdomains": t.subdomains,
                "max_zoom": t.max_zoom,
                "attribution": t.attribution,
            }
            for t in basemap.tiles
        ],
        "background": basemap.background,
        "streets": shapes.streets,
        "bounds": shapes.bounds,
        "marker": marker,
        "street_url": url_for("site_forms.street_at"),
    }


def _render(
    template_site: dict[str, Any] | None,
    form: dict[str, str],
    personal: bool,
    errors: dict[str, str] | None = None,
    general: str | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> ResponseReturnValue:
    lonlat = None
    try:
        lonlat = (float(form["lon"]), float(form["lat"]))
    except (KeyError, ValueError):
        lonlat = None
    page = render_template(
        "site/form.html",
        site=template_site,
        form=form,
        fields=[f for f in FIELDS if personal or not f.personal],
        errors=errors or {},
        general=general,
        conflict=conflict,
        map_data=_map_data(lonlat),
        derived_street=_street_name(lonlat),
        actor=current_actor(),
    )
    return page, status


def _street_name(lonlat: tuple[float, float] | None) -> str:
    if not lonlat:
        return ""
    found = street_ids_for_points(session(), [lonlat])[0]
    street = session().get(Street, found) if found else None
    return street.name if street else ""


# ---------------------------------------------------------------- create


@bp.get("/sites/new")
@allow(*CREATORS)
def new_site() -> ResponseReturnValue:
    form = {f.name: "" for f in FIELDS} | {"lon": "", "lat": "", "kind": "other"}
    return _render(None, form, True)


@bp.post("/sites/new")
@allow(*CREATORS)
def create_site() -> ResponseReturnValue:
    actor = current_actor()
    form = _submitted(True)
    raw = {k: v for k, v in _raw(form).items() if v not in ("", False)}
    _, errors = clean_site_fields(raw)
    if errors:
        return _render(None, form, True, _field_errors(errors), status=422)
    try:
        site = sites.create_site(session(), raw, actor)
    except AppError as exc:
        discard()
        beside, general = _error_beside(exc)
        return _render(None, form, True, beside, general, exc.status)
    flash(f"已登记点位 {site.code}", FLASH)
    return redirect(url_for("site_pages.site_page", site_id=site.id))


# ---------------------------------------------------------------- edit


def _current(site_id: int, actor: Actor) -> tuple[dict[str, Any], bool]:
    """The site's fields as the form shows them, and whether the persons concerned are shown."""
    site = sites.get_site(session(), site_id, actor=actor)
    personal = sees_personal_data(actor, street_code_of(session(), site))
    feature = sites.site_feature(session(), site_id, clock.today(), personal=personal, actor=actor)
    props = dict(feature["properties"])
    props["lon"], props["lat"] = feature["geometry"]["coordinates"]
    return props, personal


def _form_of(props: dict[str, Any], personal: bool) -> dict[str, str]:
    form = {f.name: _value_of(props, f.name) for f in FIELDS if personal or not f.personal}
    form["lon"] = f"{props['lon']:.7f}"
    form["lat"] = f"{props['lat']:.7f}"
    return form


@bp.get("/sites/<int:site_id>/edit")
@allow(*EDITORS)
def edit_site(site_id: int) -> ResponseReturnValue:
    props, personal = _current(site_id, current_actor())
    return _render(props, _form_of(props, personal), personal)


def _changes(before: dict[str, str], after: dict[str, str]) -> dict[str, Any]:
    """The fields the user changed (a move sends both coordinates)."""
    changed = {k: v for k, v in after.items() if before.get(k, "") != v}
    if "lon" in changed or "lat" in changed:
        try:
            moved = (round(float(after["lon"]), 7), round(float(after["lat"]), 7))
            kept = (round(float(before["lon"]), 7), round(float(before["lat"]), 7))
        except ValueError:
            moved, kept = (0.0, 0.0), (1.0, 1.0)
        changed.pop("lon", None)
        changed.pop("lat", None)
        if moved != kept:
            changed["lon"], changed["lat"] = after["lon"], after["lat"]
    return _raw(changed)


@bp.post("/sites/<int:site_id>/edit")
@allow(*EDITORS)
def update_site(site_id: int) -> ResponseReturnValue:
    actor = current_actor()
    props, personal = _current(site_id, actor)
    form = _form_of(props, personal) | _submitted(personal)
    seen_version = (request.form.get("version") or "").strip()
    raw = _changes(_form_of(props, personal), form)
    if not raw:
        flash("未作修改", FLASH)
        return redirect(url_for("site_pages.site_page", site_id=site_id))
    _, errors = clean_site_fields(raw, partial=True)
    if errors:
        return _render(
            props | {"version": seen_version}, form, personal, _field_errors(errors), status=422
        )
    reason = (request.form.get("reason") or "").strip()[:500]
    try:
        sites.update_site(session(), site_id, raw | {"version": seen_version}, actor, reason)
    except AppError as exc:
        discard()
        if isinstance(exc, Conflict) and exc.field == "version":
            return _render_conflict(site_id, actor, form, personal, seen_version)
        beside, general = _error_beside(exc)
        return _render(
            props | {"version": seen_version}, form, personal, beside, general, exc.status
        )
    flash("已保存修改", FLASH)
    return redirect(url_for("site_pages.site_page", site_id=site_id))


def _render_conflict(
    site_id: int, actor: Actor, form: dict[str, str], personal: bool, seen: str
) -> ResponseReturnValue:
    """Someone saved the site meanwhile: both versions side by side, the user's input kept;
    saving again (with the new version) puts the user's values over the other's."""
    props, personal = _current(site_id, actor)
    theirs = _form_of(props, personal)
    who = display_names(session(), [props.get("updated_by") or ""])
    rows = [
        {
            "label": LABELS.get(name, name),
            "mine": _shown(name, form.get(name, "")),
            "theirs": _shown(name, theirs.get(name, "")),
            "differs": form.get(name, "") != theirs.get(name, ""),
        }
        for name in [*(f.name for f in FIELDS if personal or not f.personal), "lon", "lat"]
    ]
    conflict = {
        "seen": seen,
        "current": props["version"],
        "by": who.get(props.get("updated_by") or "", props.get("updated_by") or ""),
        "rows": [r for r in rows if r["differs"]],
    }
    message = "在您编辑期间，他人已修改了该点位。请对照两个版本：再次保存将以您填写的内容为准。"
    return _render(props, form, personal, general=message, status=409, conflict=conflict)


def _shown(name: str, value: str) -> str:
    if name in FLAG_FIELDS:
        return "是" if value == "on" else "否"
    choices = next((f.choices for f in FIELDS if f.name == name and f.choices), None)
    if choices:
        return choices.get(value, value) or "—"
    return value or "—"


# ---------------------------------------------------------------- delete


@bp.post("/sites/<int:site_id>/delete")
@allow(*DISTRICT)
def delete_site(site_id: int) -> ResponseReturnValue:
    actor = current_actor()
    reason = (request.form.get("delete_reason") or "").strip()
    try:
        site = sites.delete_site(
            session(), site_id, actor, reason, request.form.get("version") or None
        )
    except AppError as exc:
        discard()
        props, personal = _current(site_id, actor)
        form = _form_of(props, personal) | {"delete_reason": reason}
        errors = {"delete_reason": exc.message}
        return _render(props, form, personal, errors, status=exc.status)
    flash(f"已删除点位 {site.code}（原因：{reason}）", FLASH)
    return redirect(url_for("pages.home"))


# ---------------------------------------------------------------- the street of a point


@bp.get("/sites/street-at")
@allow(*CREATORS)
def street_at() -> ResponseReturnValue:
    """The street of a point the form's map placed (`map=1`: in the basemap's datum), and
    whether the user may put the site there; the point back in both datums."""
    actor = current_actor()
    try:
        x = float(request.args.get("lon", ""))
        y = float(request.args.get("lat", ""))
    except ValueError:
        raise ValidationError("位置须为经纬度数字", "lon") from None
    basemap = current_basemap()
    lon, lat = x, y
    if request.args.get("map") == "1" and basemap.shift_gcj02:
        from gis_app.core.geo.gcj02 import gcj02_to_wgs84

        lon, lat = gcj02_to_wgs84(x, y)
    shift = shift_for(basemap)
    map_lon, map_lat = shift(lon, lat) if shift else (lon, lat)
    found = street_ids_for_points(session(), [(lon, lat)])[0]
    street = session().get(Street, found) if found else None
    answer: dict[str, Any] = {
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "map_lon": map_lon,
        "map_lat": map_lat,
        "street_code": street.code if street else None,
        "street_name": street.name if street else None,
        "allowed": street is not None,
        "message": "" if street else "该位置不在本区任何街道内",
    }
    if street and not actor.is_district and street.code != actor.street_code:
        answer["allowed"] = False
        answer["message"] = f"该位置属于{street.name}：点位移到其他街道须由区领导小组办公室办理"
    return jsonify(answer)
