"""Every role × street × endpoint × method, through the app: what is not yours is 401, 403 or
404, never data, and nothing of it changes.

Two streets, A (大直沽) and B (中山门), each with a site carrying unique markers (code, address,
person concerned, contact, note, photo, step, extension request, monthly report). Each role
logs in through the form and calls every endpoint of the URL map with every method, aimed at
B's objects (and the lists, with and without `street=B`); unsafe requests carry valid bodies
and the session's CSRF token, so that only the access rules can stop them. Then:
- a request aimed at something outside the role's view gets 401/403/404, nothing else;
- no response body holds a marker the role may not see (xlsx files are opened and read);
- B's rows are exactly as they were.
The matrix runs twice: with both walls (the services and PostgreSQL's row-level security),
and with the services alone (the app's connection as the owner, so RLS does not apply): the
first wall must hold by itself. tests/integration/test_rls.py tries the database role alone.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from gis_app.features.extensions.models import ExtensionRequest
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.photos.models import Photo
from gis_app.features.photos.service import PhotoStore
from gis_app.features.plans.models import SiteStep
from gis_app.http.access import policy_of
from tests.support.accounts import csrf
from tests.support.publicity import seed_publicity
from tests.support.scope import (
    A_POINT,
    B_POINT,
    MONTH,
    seed_inspection,
    seed_meeting,
    seed_notice,
    seed_patrol,
    seed_street,
)
from tests.support.sites import site_payload
from tests.support.workflow import DZG, ZSM, image_bytes

pytestmark = pytest.mark.slow

A, B = DZG, ZSM
#: endpoints that act on the caller's own account: tested in test_accounts.py (a logout in the
#: middle of the matrix would end the session it walks with)
OWN_ACCOUNT = {"auth.login", "auth.logout", "auth.change_password", "static"}
ROLES_UNDER_TEST = [
    ("street_officer", A),
    ("inspector", A),
    ("bureau_civil", None),
    ("bureau_housing", None),
    ("bureau_police", None),
    ("bureau_media", None),
    ("agency", None),
    ("district_officer", None),
]
FIGURES = ("requests", "cross_attempts", "refused", "leaks")


@dataclass
class World:
    site: dict[str, int]
    photo: dict[str, int]
    step: dict[str, int]
    request: dict[str, int]
    image: dict[str, bytes]
    markers: dict[str, dict[str, str]]
    usernames: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)
    batch: int = 0  # a spot-check batch sampling both sites
    pool: int = 0  # its inspector (of a third street), linked to a login
    patrol: dict[str, int] = field(default_factory=dict)  # a patrol per street
    stop: dict[str, int] = field(default_factory=dict)  # its stop at the street's site
    finding: dict[str, int] = field(default_factory=dict)  # a finding attached to that site
    notice: dict[str, int] = field(default_factory=dict)  # a 通报 naming the street, replied
    inspection: dict[str, int] = field(default_factory=dict)  # a 专项督查 of the street
    correction: dict[str, int] = field(default_factory=dict)  # its finding at the site
    meeting: dict[str, int] = field(default_factory=dict)  # a 例会 hearing the street
    task: dict[str, int] = field(default_factory=dict)  # its task for the street
    escalation: dict[str, int] = field(default_factory=dict)  # a 追责 of the street
    coverage: dict[str, int] = field(default_factory=dict)  # a report linked to its site
    publicity: dict[str, int] = field(default_factory=dict)  # its publicity work


def _seed_spot_check(connection, auth, w: World) -> None:
    """A batch with A's and B's sites, assigned to an inspector of a third street; B's site
    failed with a note (internal: the office's only)."""
    user_id = auth.user("mx.pool", "inspector", "120102004")
    w.pool = connection.execute(
        text(
            "INSERT INTO inspectors (district_code, name, street_code, user_id, created_by)"
            " VALUES ('120102', '矩阵队员', '120102004', :u, 'test') RETURNING id"
        ),
        {"u": user_id},
    ).scalar_one()
    w.batch = connection.execute(
        text(
            "INSERT INTO sample_batches (district_code, title, method, allocation, seed,"
            " frame_size, sample_size, frame_sha256, params, created_by) VALUES ('120102',"
            " '矩阵抽查', 'srs', 'proportional', 1, 2, 2, repeat('0', 64), CAST(:params AS jsonb),"
            " 'test') RETURNING id"
        ),
        {"params": json.dumps({"strata_sizes": {A: 1, B: 1}})},
    ).scalar_one()
    for ord_, (tag, street) in enumerate((("A", A), ("B", B)), start=1):
        connection.execute(
            text(
                "INSERT INTO sample_frame_units (batch_id, ord, district_code, site_id, stratum,"
                " lon, lat, x, y) SELECT :b, :o, '120102', id, :st, ST_X(geom), ST_Y(geom), 0, 0"
                " FROM sites WHERE id = :s"
            ),
            {"b": w.batch, "o": ord_, "s": w.site[tag], "st": street},
        )
        failed = tag == "B"
        connection.execute(
            text(
                "INSERT INTO sample_sites (batch_id, district_code, site_id, stratum, ord,"
                " frame_ord, inspector_id, result, notes, inspected_at, inspected_by)"
                " VALUES (:b, '120102', :s, :st, :o, :o, :i, :r, :n, :at, :by)"
            ),
            {
                "b": w.batch,
                "s": w.site[tag],
                "st": street,
                "o": ord_,
                "i": w.pool,
                "r": "fail" if failed else None,
                "n": w.markers[tag]["sample_notes"] if failed else "",
                "at": "2026-06-14T08:00:00Z" if failed else None,
                "by": "mx.pool" if failed else None,
            },
        )


@pytest.fixture()
def world(app, client, db_session, auth, tmp_path, monkeypatch) -> World:
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    store = PhotoStore(tmp_path / "photos")
    b_street = db_session.execute(
        text(
            "SELECT t.code FROM streets t WHERE ST_Intersects(t.geom, "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"x": B_POINT[0], "y": B_POINT[1]},
    ).scalar()
    assert b_street == B
    w = World({}, {}, {}, {}, {}, {})
    for street, tag, point in ((A, "A", (117.2381, 39.1100)), (B, "B", B_POINT)):
        site, photo, step_id, req, image = seed_street(db_session, store, street, tag, point)
        w.site[tag], w.photo[tag], w.step[tag], w.request[tag] = site.id, photo.id, step_id, req.id
        w.image[tag] = image
        patrol, stop_id, finding = seed_patrol(db_session, store, street, tag, site)
        w.patrol[tag], w.stop[tag], w.finding[tag] = patrol.id, stop_id, finding.id
        w.notice[tag] = seed_notice(db_session, street, tag)
        w.inspection[tag], w.correction[tag] = seed_inspection(db_session, street, tag, site)
        w.meeting[tag], w.task[tag], w.escalation[tag] = seed_meeting(db_session, street, tag)
        w.coverage[tag], w.publicity[tag] = seed_publicity(db_session, street, tag, site.id)
        w.markers[tag] = {
            "code": site.code,
            "address": site.address,
            "person_name": site.person_name,
            "person_contact": site.person_contact,
            "note": site.note,
            "photo_sha256": photo.sha256,
            "step_title": f"步骤{tag}拆除",
            "extension_reason": f"延期理由{tag}保密",
            "report_narrative": f"月报{tag}情况说明",
            "sample_notes": f"抽查{tag}发现问题",
            "patrol_title": f"巡查{tag}路线",
            "finding_note": f"发现{tag}情况",
            "notice_reason": f"通报{tag}理由保密",
            "notice_reply": f"整改{tag}措施保密",
            "inspection_correction": f"督查{tag}整改要求",
            "meeting_report": f"例会{tag}汇报保密",
            "meeting_task": f"例会{tag}任务保密",
            "escalation_grounds": f"追责{tag}事由保密",
            "coverage_summary": f"报道{tag}摘要保密",
            "publicity_content": f"宣传{tag}内容保密",
        }
        w.usernames[tag] = f"seedofficer.{tag.lower()}"
        auth.user(w.usernames[tag], "street_officer", street)
        auth.token(w.usernames[tag], "street_officer", street)
        w.token_ids[tag] = db_session.scalar(text("SELECT max(id) FROM api_tokens"))
    _seed_spot_check(db_session.connection(), auth, w)
    db_session.commit()  # the world exists before the probe (a savepoint of the test's)
    return w


PERSONAL = ("person_name", "person_contact", "note")
INTERNAL = (
    "step_title",
    "extension_reason",
    "report_narrative",
    "photo_sha256",
    "sample_notes",
    "patrol_title",
    "finding_note",
    "notice_reason",
    "notice_reply",
    "inspection_correction",
    "meeting_report",
    "meeting_task",
    "escalation_grounds",
    "publicity_content",
)


def forbidden_markers(role: str, street: str | None, w: World) -> dict[str, str]:
    """What this role must never receive."""
    out: dict[str, str] = {}

    def take(tag: str, keys: tuple[str, ...] | None = None) -> None:
        for key, value in w.markers[tag].items():
            if keys is None or key in keys:
                out[f"{tag}.{key}"] = value

    if role in ("street_officer", "inspector"):
        take("B" if street == A else "A")
    elif role in ("bureau_civil", "bureau_housing", "bureau_police"):
        take("A")  # neither site is flagged: outside every bureau's view
        take("B")
    elif role in ("bureau_media", "agency"):
        # open data: the sites, never the persons; the media centre its own coverage
        hidden = PERSONAL + INTERNAL + (("coverage_summary",) if role == "agency" else ())
        take("A", hidden)
        take("B", hidden)
    return out


def _tile_of(lon: float, lat: float, z: int) -> dict[str, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return {"z": z, "x": x, "y": y}


def _url_args(rule: Any, w: World, tag: str) -> dict[str, Any]:
    values = {
        "site_id": w.site[tag],
        "photo_id": w.photo[tag],
        "step_id": w.step[tag],
        "request_id": w.request[tag],
        "code": A if tag == "A" else B,
        "month_text": MONTH,
        "username": w.usernames[tag],
        "token_id": w.token_ids[tag],
        "filename": "css/app.css",
        "batch_id": w.batch,
        "inspector_id": w.pool,
        "collection_id": "sites",
        "feature_id": str(w.site[tag]),
        "name": "sites",  # the export layer
        "fmt": "xlsx",  # opened and read for markers
        "patrol_id": w.patrol[tag],
        "stop_id": w.stop[tag],
        "token": "x" * 43,  # a ledger import's stash: nobody's
        "synonym_id": 999_999,  # a kind synonym: none (district data, no street's)
        "notice_id": w.notice[tag],
        "inspection_id": w.inspection[tag],
        "meeting_id": w.meeting[tag],
        "task_id": w.task[tag],
        "escalation_id": w.escalation[tag],
        "coverage_id": w.coverage[tag],
        "publicity_id": w.publicity[tag],
        # no 公安 request is seeded (the police see every request, with its site's code and
        # address: they would read as leaks here); tests/integration/bureaus covers its scope
        "police_request_id": 999_999_999,
        # neither site is in a renovation project, so neither has a 规范治理 plan (住建委 sees
        # every plan): tests/integration/bureaus/test_renovation_plans.py covers its scope
        "renovation_plan_id": 999_999_999,
        "finding_id": w.correction[tag]
        if rule.endpoint.startswith("oversight")
        else w.finding[tag],
        "ext": "png",  # an offline basemap tile
        "variant": "thumb",  # a sampled site's photo
        **_tile_of(*(A_POINT if tag == "A" else B_POINT), 17),  # the vector tile of the site
    }
    return {name: values[name] for name in rule.arguments}


def _csv_with_point(lon: float, lat: float) -> bytes:
    header = "编号,地址,经度,纬度,治理方式\n"
    return (header + f"MX-IMP-1,导入路1号,{lon},{lat},拆除\n").encode()


def _body(endpoint: str, method: str) -> dict[str, Any]:
    """A valid body for an unsafe request, so that only the access rules can refuse it."""
    plan = [{"title": "恢复原状", "due_date": "2026-12-31"}]
    json_bodies = {
        "api.create_site": site_payload(code="MX-NEW-1", lon=B_POINT[0], lat=B_POINT[1]),
        "api.update_site": {"note": "改", "version": 3},
        "api.delete_site": {"reason": "删"},
        "workflow_api.post_transition": {"to": "awaiting_acceptance"},
        "workflow_api.post_reopen": {"cause": "rebound", "reason": "回潮"},
        "workflow_api.post_close": {},
        "plans_api.put_steps": {"steps": [{"title": "新步骤", "due_date": "2026-09-30"}]},
        "plans_api.post_step_done": {"note": "完成"},
        "extensions_api.post_extension": {
            "new_deadline": "2026-12-31",
            "reason": "再延",
            "plan": plan,
        },
        "extensions_api.post_decision": {"decision": "approve", "comment": "同意"},
        "extensions_api.post_central_request": {"change": "rectify", "reason": "越权申请"},
        "extensions_api.post_central_decision": {"decision": "approve", "comment": "越权批准"},
        "baseline_api.post_review": {"decision": "confirm", "comment": "越权确认"},
        "oversight_api.reply_notice": {"measures": "越权回复"},
        "oversight_api.answer_correction": {"answer": "越权答复"},
        "oversight_api.review_correction": {"decision": "accept"},
        "oversight_api.complete_meeting_task": {"note": "越权办结"},
        "bureaus_api.request_police": {"wanted_on": "2026-06-20", "reason": "越权申请"},
        "bureaus_api.answer_police_request": {"decision": "accept"},
        "bureaus_api.record_relief": {"what": "越权救助", "given_on": "2026-06-10"},
        "bureaus_api.police_request_outcome": {"outcome": "越权处置"},
        "publicity_api.update_publicity": {
            "kind": "banner",
            "content": "越权修改",
            "place": "x",
            "done_on": "2026-06-10",
            "quantity": 1,
        },
        "bureaus_api.submit_renovation_plan": {"content": "越权方案", "steps": plan},
        "bureaus_api.resubmit_renovation_plan": {"content": "越权修改", "steps": plan},
        "bureaus_api.review_renovation_plan": {"decision": "approve"},
        "bureaus_api.record_renovation_works": {"done_on": "2026-06-15", "what": "越权施工"},
        "reporting_api.put_report": {"narrative": "改写"},
        "reporting_api.submit_report": {"narrative": "报送"},
        "sampling.api.api_draw": {"frame": {}, "size_mode": "fixed", "n": 1, "seed": "1"},
        "sampling.api.api_assign": {"cap": 5, "seed": "1"},
        "sampling.api.api_result": {"result": "pass", "notes": "矩阵"},
        "sampling.api.api_add_inspector": {"name": "mx.intruder", "street": B},
        "sampling.api.api_update_inspector": {"active": False},
        "patrol.api.api_create": {"area": {"kind": "street", "street": B}},
        "patrol.api.api_preview": {"area": {"kind": "street", "street": B}},
        "patrol.api.api_visit": {"visited": True, "note": "到"},
    }
    if endpoint in json_bodies:
        return {"json": json_bodies[endpoint]}
    image = image_bytes((5, 5, 5))
    forms: dict[str, dict[str, Any]] = {
        "api.import_sites": {"file": (io.BytesIO(_csv_with_point(*B_POINT)), "b.csv")},
        "ledger_import.check": {"file": (io.BytesIO(_csv_with_point(*B_POINT)), "b.csv")},
        "photos_api.post_photo": {"kind": "after", "file": (io.BytesIO(image), "x.jpg")},
        "photos.upload_photo": {"kind": "after", "file": (io.BytesIO(image), "x.jpg")},
        "publicity_api.upload_publicity_photo": {"file": (io.BytesIO(image), "x.jpg")},
        "sampling.api.api_check_photo": {"file": (io.BytesIO(image), "x.jpg")},
        "workflow.transition": {"to": "awaiting_acceptance"},
        "workflow.reopen": {"cause": "rebound", "reason": "回潮"},
        "workflow.close": {"comment": "同意"},
        "plans.set_plan": {"step_title": "新步骤", "step_date": "2026-09-30"},
        "plans.complete_step": {"note": "完成"},
        "extensions.request_extension": {
            "new_deadline": "2026-12-31",
            "reason": "再延",
            "step_title": "恢复原状",
            "step_date": "2026-12-31",
        },
        "extensions.decide_extension": {"decision": "approve", "comment": "同意"},
        "oversight.reply_notice": {"measures": "越权回复"},
        "oversight.answer_correction": {"answer": "越权答复"},
        "oversight.review_correction": {"decision": "accept"},
        "oversight.complete_task": {"note": "越权办结"},
        "dashboard.report_form": {"narrative": "改写", "action": "submit"},
        "bureau.housing_done": {"done_on": "2026-06-15"},
        "bureau.submit_renovation_plan": {
            "site": "MX-B-0001",
            "content": "越权方案",
            "step_title": "恢复原状",
            "step_date": "2026-09-30",
        },
        "bureau.review_renovation_plan": {"decision": "approve"},
        "bureau.record_renovation_works": {"done_on": "2026-06-15", "what": "越权施工"},
        "admin.create_user": {
            "username": "intruder",
            "display_name": "x",
            "role": "district_admin",
            "password": "Aa1!aaaaaaaaaaaa",
        },
        "admin.update_user": {"display_name": "x", "role": "district_admin", "active": "1"},
        "admin.reset_password": {"password": "Aa1!bbbbbbbbbbbb"},
        "admin.create_token": {"name": "steal"},
        "admin.revoke_token": {},
        "sampling.pages.draw": {"size_mode": "fixed", "n": "1", "seed": "1"},
        "sampling.pages.assign": {"cap": "5", "seed": "1"},
        "sampling.pages.result": {"result": "pass", "notes": "矩阵"},
        "sampling.pages.add_inspector": {"name": "mx.intruder", "street": B},
        "sampling.pages.toggle_inspector": {"active": "0"},
        "patrol.pages.plan_create": {"area_kind": "street", "street": B},
        "patrol.pages.visit": {"visited": "1"},
        "patrol.api.api_finding": _finding_form(),
        "patrol.pages.finding_create": _finding_form(),
    }
    return {"data": forms.get(endpoint, {}), "content_type": "multipart/form-data"}


def _finding_form() -> dict[str, Any]:
    """A finding at B's site, as B's own inspector would record it."""
    return {
        "lon": str(B_POINT[0]),
        "lat": str(B_POINT[1]),
        "note": "越界发现",
        "force_reason": "另一处",
        "photos": (io.BytesIO(image_bytes((6, 6, 6))), "f.jpg"),
    }


def _text_of(response: Any) -> str:
    """Everything a response says, xlsx included (its cells), images as their bytes."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        cells = [str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row]
        book.close()
        return "\n".join(cells)
    if response.mimetype.startswith("image/"):
        return ""
    # binary bodies (vector tiles): their strings are UTF-8 inside, so markers still show
    return response.get_data().decode("utf-8", errors="replace")


def _snapshot(connection, site_id: int, street: str) -> dict[str, Any]:
    """B's rows, as the owner sees them."""
    site = connection.execute(
        select(Site.version, Site.status, Site.deleted_at, Site.note).where(Site.id == site_id)
    ).one()
    counts = {
        model.__tablename__: connection.execute(
            select(func.count()).select_from(model).where(model.site_id == site_id)
        ).scalar_one()
        for model in (SiteEvent, Photo, SiteStep, ExtensionRequest)
    }
    ext = connection.execute(
        select(ExtensionRequest.status).where(ExtensionRequest.site_id == site_id)
    ).scalars()
    report = connection.execute(
        text(
            "SELECT r.status, r.narrative FROM monthly_reports r JOIN streets t "
            "ON t.id = r.street_id WHERE t.code = :c"
        ),
        {"c": street},
    ).all()
    users = connection.execute(text("SELECT username, role, active FROM users ORDER BY 1")).all()
    tokens = connection.execute(text("SELECT id, revoked_at FROM api_tokens ORDER BY 1")).all()
    sites_total = connection.execute(select(func.count()).select_from(Site)).scalar_one()
    sampling = {
        table: connection.execute(
            text(f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t")
        ).scalar()
        for table in (
            "inspectors",
            "sample_batches",
            "sample_frame_units",
            "sample_sites",
            "patrols",
            "patrol_stops",
            "patrol_findings",
            "coverage_records",
            "coverage_links",
            "publicity_records",
        )
    }
    return {
        "sampling": sampling,
        "site": tuple(site),
        "counts": counts,
        "extensions": sorted(ext),
        "report": [tuple(r) for r in report],
        "users": [tuple(u) for u in users],
        "tokens": [tuple(t) for t in tokens],
        "sites_total": sites_total,
        "renovation": connection.execute(text("SELECT count(*) FROM renovation_works")).scalar(),
        "renovation_plans": connection.execute(
            text("SELECT count(*) FROM renovation_plans")
        ).scalar(),
    }


LIST_QUERIES = {
    "api.list_sites": ["", f"?street={B}", "?q=MX-B", "?limit=1000"],
    "api.site_counts": ["", f"?street={B}"],
    "extensions_api.list_extensions": ["", f"?street={B}", "?status=pending"],
    "reporting_api.get_trend": ["", f"?street={B}"],
    "reporting_api.reports_overview": [f"?month={MONTH}"],
    "dashboard.export_ledger": ["", f"?street={B}"],
    "dashboard.reports_index": [f"?month={MONTH}"],
    "extensions.extension_list": ["?status=all"],
    "audit_pages.index": ["", "?site=MX-B-0001", "?user=seed.B"],
    "maps.district_map": ["", f"?street={B}", "?q=MX-B"],
    "maps.district_print": ["", f"?street={B}"],
    "exports.download": ["", f"?street={B}", "?q=MX-B"],
    "exports.page": ["", f"?street={B}"],
    "ogc.items": ["", f"?street_code={B}", "?q=MX-B", "?limit=1000"],
    "sampling.api.api_frame": ["", f"?street={B}", "?status=in_progress"],
    "patrol.api.api_list": ["", f"?street={B}"],
    "patrol.api.api_coverage": ["", "?week=2026-W25"],
    "patrol.pages.coverage_page": ["", "?week=2026-W25"],
}


#: requests without a URL argument that still reach into street B (a point in B, a new admin)
CROSS_WITHOUT_ARGS = {
    "api.create_site",
    "api.import_sites",
    "admin.create_user",
    "patrol.api.api_create",
    "patrol.api.api_preview",
    "patrol.api.api_finding",
    "patrol.pages.plan_create",
    "patrol.pages.finding_create",
}
#: URL arguments that name an object of street B (or one of the district's: a batch, a pool
#: entry); the others (an export layer and format, an OGC collection) name no one's data
TARGETING = {"site_id", "photo_id", "step_id", "request_id", "code", "month_text", "username",
             "token_id", "batch_id", "inspector_id", "feature_id", "patrol_id", "stop_id",
             "finding_id", "notice_id", "inspection_id", "meeting_id", "task_id",
             "escalation_id", "police_request_id", "coverage_id", "publicity_id"}  # fmt: skip


def _is_target_outside(role: str, rule: Any) -> bool:
    """Does this request name something outside the role's view: street B's site, photo,
    step, request, street, officer, token, or a spot-check batch or pool entry that is not
    theirs for a street role; an unflagged site for a bureau?"""
    aims = bool(set(rule.arguments) & TARGETING)
    if role in ("street_officer", "inspector"):
        return aims or rule.endpoint in CROSS_WITHOUT_ARGS
    if role in ("bureau_civil", "bureau_housing", "bureau_police"):
        return aims
    return False  # the district sees everything; media and agencies see every site


@pytest.mark.parametrize("wall", ["services_and_rls", "services_alone"])
@pytest.mark.parametrize(("role", "street"), ROLES_UNDER_TEST)
def test_no_role_gets_what_is_not_its_own(
    app, client, connection, auth, world, monkeypatch, role, street, wall
) -> None:
    if wall == "services_alone":  # the app's connection stays the owner's: RLS does not apply
        monkeypatch.setattr(app.extensions["gis_db"], "set_role", None)
    auth.login(client, f"mx.{role}", role, street)
    token = csrf(client)
    before = _snapshot(connection, world.site["B"], B)
    forbidden = forbidden_markers(role, street, world)
    problems: list[str] = []
    counted = dict.fromkeys(FIGURES, 0)  # printed: `pytest -s` gives the figures
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in OWN_ACCOUNT:
            continue
        policy = policy_of(app, rule.endpoint)
        assert policy is not None, rule.endpoint
        aimed = _is_target_outside(role, rule)
        base = rule.build(_url_args(rule, world, "B"), append_unknown=False)[1]
        queries = LIST_QUERIES.get(rule.endpoint, [""])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method != "GET" and policy.admits(role) and not aimed:
                continue  # a change the role may make (the district's): not this test's
            for query in queries:
                url = base + query
                kwargs = _body(rule.endpoint, method) if method != "GET" else {}
                headers = {"X-CSRF-Token": token, "Accept": "application/json"}
                response = client.open(url, method=method, headers=headers, **kwargs)
                body = _text_of(response)
                counted["requests"] += 1
                leaked = [k for k, v in forbidden.items() if v in body]
                if not policy.admits(role) or aimed:
                    counted["cross_attempts"] += 1
                    if response.status_code in (401, 403, 404):
                        counted["refused"] += 1
                    else:
                        problems.append(f"{method} {url}: {response.status_code}")
                if rule.endpoint.startswith("photos.photo") and aimed:
                    image = world.image["B" if street == A else "A"]
                    if image in response.data:
                        leaked.append("photo bytes")
                if leaked:
                    counted["leaks"] += 1
                    problems.append(f"{method} {url}: leaked {leaked}")
                response.close()
    print(f"\n[matrix] {wall} {role} {street or ''}: {json.dumps(counted)}")
    assert not problems, "\n".join(problems[:40])
    assert _snapshot(connection, world.site["B"], B) == before  # nothing of B changed
    assert counted["cross_attempts"] > 0 and counted["refused"] == counted["cross_attempts"]


def test_own_street_is_served_in_full(client, auth, world) -> None:
    """The control: the same requests for the officer's own street do give the data (the
    matrix would pass vacuously otherwise)."""
    auth.login(client, "mx.own", "street_officer", A)
    site = client.get(f"/api/v1/sites/{world.site['A']}").get_json()
    assert site["properties"]["person_name"] == world.markers["A"]["person_name"]
    assert any(e["action"] == "photo" for e in site["history"])
    listed = client.get("/api/v1/sites?limit=1000").get_json()
    assert [f["id"] for f in listed["features"]] == [world.site["A"]]
    photo = client.get(f"/photos/{world.photo['A']}/file")
    assert photo.status_code == 200 and photo.data == world.image["A"]
    photo.close()
    page = client.get(f"/sites/{world.site['A']}/workflow").get_data(as_text=True)
    assert world.markers["A"]["extension_reason"] in page
    report = client.get(f"/api/v1/reports/{A}/{MONTH}").get_json()
    assert report["narrative"] == world.markers["A"]["report_narrative"]
    ledger = client.get("/exports/ledger.xlsx")
    assert world.markers["A"]["code"] in _text_of(ledger)
    home = client.get("/").get_data(as_text=True)
    assert re.findall(r'<tr data-street="(\d+)">', home) == [A]
    export = _text_of(client.get("/exports/sites.xlsx"))
    assert world.markers["A"]["code"] in export and world.markers["B"]["code"] not in export
    items = client.get("/ogc/collections/sites/items", headers={"Accept": "application/json"})
    assert [f["id"] for f in items.get_json()["features"]] == [world.site["A"]]
    popup = client.get(f"/map/sites/{world.site['A']}/popup").get_json()
    assert popup["code"] == world.markers["A"]["code"]
    page = client.get(f"/sites/{world.site['A']}").get_data(as_text=True)
    assert world.markers["A"]["person_name"] in page
    patrols = client.get("/api/v1/patrols").get_json()["patrols"]
    assert [p["id"] for p in patrols] == [world.patrol["A"]]
    page = client.get(f"/patrols/{world.patrol['A']}").get_data(as_text=True)
    assert world.markers["A"]["patrol_title"] in page and world.markers["A"]["code"] in page
    finding = client.get(f"/api/v1/findings/{world.finding['A']}").get_json()
    assert finding["note"] == world.markers["A"]["finding_note"]


def test_the_office_gets_the_spot_check_in_full(client, auth, world) -> None:
    """The control of the sampling rows: the office sees both sites and the internal note."""
    auth.login(client, "mx.office", "district_officer")
    doc = client.get(f"/api/v1/samples/{world.batch}").get_json()
    assert [s["site_id"] for s in doc["sites"]] == [world.site["A"], world.site["B"]]
    assert doc["sites"][1]["notes"] == world.markers["B"]["sample_notes"]
    public = client.get(f"/api/v1/samples/{world.batch}/public").get_data(as_text=True)
    assert world.markers["B"]["code"] in public
    assert world.markers["B"]["sample_notes"] not in public


def test_open_data_roles_get_sites_without_persons(client, auth, world) -> None:
    for role in ("agency", "bureau_media"):
        headers = auth.headers(f"open.{role}", role)
        site = client.get(f"/api/v1/sites/{world.site['B']}", headers=headers).get_json()
        props = site["properties"]
        assert props["code"] == world.markers["B"]["code"]
        assert not set(PERSONAL) & set(props) and "history" not in site
        listed = client.get("/api/v1/sites", headers=headers).get_json()
        assert {f["id"] for f in listed["features"]} >= {world.site["A"], world.site["B"]}
        assert client.post("/api/v1/sites", json=site_payload(), headers=headers).status_code == 403
