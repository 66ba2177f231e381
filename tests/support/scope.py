"""Two streets with a site each, carrying unique markers: for the access matrix, the
row-level security tests and the audit trail's."""

from __future__ import annotations

from sqlalchemy import select, text

from gis_app.features.extensions import service as extensions
from gis_app.features.photos import service as photos
from gis_app.features.photos.service import PhotoLimits
from gis_app.features.plans import service as steps
from gis_app.features.plans.models import SiteStep
from gis_app.features.reporting import service as reports
from gis_app.features.reporting.schemas import parse_month
from gis_app.features.workflow import service as workflow
from tests.support.workflow import OFFICE, image_bytes, make_site

B_POINT = (117.2620, 39.1010)  # inside 中山门
A_POINT = (117.2381, 39.1100)  # inside 大直沽
MONTH = "2026-06"


def seed_street(db_session, store, street: str, tag: str, lonlat: tuple[float, float]):
    """A site of `street` with a step plan, a before photo, a pending extension request and
    a draft monthly report, every text marked with `tag`."""
    from gis_app.core.actor import Actor

    officer = Actor(f"seed.{tag}", "street_officer", street)
    site = make_site(
        db_session,
        OFFICE,
        code=f"MX-{tag}-0001",
        address=f"矩阵{tag}路{tag}号院",
        person_name=f"相对人{tag}某",
        person_contact=f"1390000000{ord(tag) % 10}",
        note=f"备注{tag}内情",
        lon=lonlat[0],
        lat=lonlat[1],
        committed_deadline="2026-09-30",
    )
    steps.set_plan(
        db_session, site.id, officer, [{"title": f"步骤{tag}拆除", "due_date": "2026-09-30"}]
    )
    workflow.transition(db_session, site.id, officer, "in_progress")
    image = image_bytes((40 + ord(tag) % 50, 90, 140))
    photo, _ = photos.add_photo(
        db_session,
        store,
        PhotoLimits(2 * 1024 * 1024, 4_000_000),
        site.id,
        officer,
        image,
        f"{tag}.jpg",
        "before",
    )
    req = extensions.request_extension(
        db_session,
        site.id,
        officer,
        "2026-11-30",
        f"延期理由{tag}保密",
        [{"title": f"步骤{tag}恢复", "due_date": "2026-11-30"}],
    )
    reports.save_report(db_session, street, parse_month(MONTH), officer, f"月报{tag}情况说明")
    step_id = db_session.scalar(select(SiteStep.id).where(SiteStep.site_id == site.id))
    return site, photo, step_id, req, image


def seed_patrol(db_session, store, street: str, tag: str, site):
    """A patrol over `street` (its site as a stop) and a finding attached to that site, each
    text marked with `tag`: for the access matrix. Returns (patrol, stop id, finding)."""
    from gis_app.core.actor import Actor
    from gis_app.features.patrol import findings, plans
    from gis_app.features.patrol.models import PatrolStop

    inspector = Actor(f"seed.{tag}.patrol", "inspector", street)
    patrol, _plan = plans.create_patrol(
        db_session, {"title": f"巡查{tag}路线", "area": {"kind": "street"}}, inspector, "120102"
    )
    assert patrol is not None
    stop_id = db_session.scalar(
        select(PatrolStop.id).where(
            PatrolStop.patrol_id == patrol.id, PatrolStop.site_id == site.id
        )
    )
    lon, lat = db_session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM sites WHERE id = :i"), {"i": site.id}
    ).one()
    result = findings.record_finding(
        db_session,
        store,
        PhotoLimits(2 * 1024 * 1024, 4_000_000),
        inspector,
        {"lon": lon, "lat": lat, "note": f"发现{tag}情况", "attach_to": site.id,
         "patrol_id": patrol.id},
        [findings.Upload(image_bytes((90, 40 + ord(tag) % 50, 10)), f"{tag}-patrol.jpg")],
    )  # fmt: skip
    return patrol, stop_id, result.finding


def seed_notice(db_session, street: str, tag: str) -> int:
    """A 通报 naming `street` (reason marked with `tag`) and the street's reply (marked too):
    for the access matrix. Returns the notice's id."""
    from gis_app.core.actor import Actor
    from gis_app.features.oversight import service as notices

    notice = notices.issue(
        db_session, OFFICE, f"矩阵通报{tag}", "2026-06-25",
        [{"street": street, "reason": f"通报{tag}理由保密"}],
    )  # fmt: skip
    officer = Actor(f"seed.{tag}", "street_officer", street)
    notices.reply(db_session, notice.id, officer, f"整改{tag}措施保密")
    return notice.id


def seed_inspection(db_session, street: str, tag: str, site) -> tuple[int, int]:
    """A 专项督查 of `street` with a finding at its site (correction marked with `tag`):
    for the access matrix. Returns (inspection id, finding id)."""
    from gis_app.features.oversight import service as oversight
    from gis_app.features.oversight.models import InspectionFinding

    ins = oversight.create_inspection(
        db_session, OFFICE, "2026-06-12", f"矩阵督查{tag}", [street],
        [{"site": site.code, "finding": f"督查{tag}发现", "correction": f"督查{tag}整改要求",
          "due_date": "2026-06-30"}],
    )  # fmt: skip
    finding = db_session.scalar(
        select(InspectionFinding.id).where(InspectionFinding.inspection_id == ins.id)
    )
    return ins.id, finding


def seed_meeting(db_session, street: str, tag: str) -> tuple[int, int, int]:
    """A 例会 hearing `street` with a task for it, and an escalation of the street, each text
    marked with `tag`: for the access matrix. Returns (meeting, task, escalation) ids."""
    from gis_app.features.oversight import service as oversight
    from gis_app.features.oversight.models import MeetingTask

    meeting = oversight.record_meeting(
        db_session, OFFICE, "2026-06-15", f"矩阵例会{tag}", "各街道",
        [{"street": street, "summary": f"例会{tag}汇报保密"}], "",
        [{"owner": street, "task": f"例会{tag}任务保密", "due_date": "2026-06-30"}],
    )  # fmt: skip
    task = db_session.scalar(select(MeetingTask.id).where(MeetingTask.meeting_id == meeting.id))
    escalation = oversight.escalate(
        db_session, OFFICE, street, "", "committee", f"追责{tag}事由保密"
    )
    return meeting.id, task, escalation.id
