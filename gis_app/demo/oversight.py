"""Demo records of the leading group's work loop, so that `make run` shows one of each: a 通报
of the lagging streets (one answered), a 专项督查 with findings (one answered), a 例会 with
tasks, and a 追责 linked to the 通报."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.demo.accounts import street_officer_username
from gis_app.features.ledger.models import Site
from gis_app.features.ledger.queries import overdue_expr
from gis_app.features.oversight import service as oversight
from gis_app.features.streets.models import Street

OFFICE = Actor("office", "district_officer")


def _in(day: date, days: int) -> str:
    return (day + timedelta(days=days)).isoformat()


def add_oversight_records(session: Session) -> dict[str, Any]:
    """One record of each kind, built through the services (so they obey the same rules)."""
    today = clock.today()
    lagging = [c for c in oversight.candidates(session, today) if c["reasons"]][:2]
    if not lagging:
        return {}
    first = lagging[0]["code"]
    officer = Actor(street_officer_username(session, first), "street_officer", first)
    notice = oversight.issue(
        session,
        OFFICE,
        "关于违法建设治理工作进展滞后街道的通报",
        (today + timedelta(days=10)).isoformat(),
        [{"street": c["code"]} for c in lagging],
        "按照区违法建设治理工作领导小组要求，现将近期工作进展滞后的街道予以通报。",
    )
    oversight.reply(
        session, notice.id, officer, "一、成立专班，逐点位倒排工期；二、本月底前完成逾期点位拆除。"
    )
    street_id = session.scalar(select(Street.id).where(Street.code == first))
    sites = session.scalars(
        select(Site)
        .where(Site.street_id == street_id, Site.deleted_at.is_(None), overdue_expr(today))
        .order_by(Site.code)
        .limit(2)
    ).all()
    inspection = oversight.create_inspection(
        session,
        OFFICE,
        (today - timedelta(days=3)).isoformat(),
        "逾期点位专项督查",
        [first],
        [
            {
                "site": s.code,
                "finding": "现场违建仍未拆除，未设置围挡",
                "correction": "限期拆除并恢复原状",
                "due_date": (today + timedelta(days=7 * (i + 1))).isoformat(),
            }
            for i, s in enumerate(sites)
        ],
        "区领导小组办公室会同执法队员现场督查。",
    )
    findings = oversight.inspection_view(session, inspection.id, OFFICE)["findings"]
    if findings:
        oversight.answer_correction(session, findings[0]["id"], officer, "已组织拆除，照片已上传。")
    oversight.record_meeting(
        session,
        OFFICE,
        today.isoformat(),
        "违法建设治理工作例会",
        "区领导小组成员、各街道分管领导、区住建委、公安河东分局",
        [{"street": c["code"], "summary": "；".join(c["reasons"])} for c in lagging],
        "对进展滞后街道挂牌督办；旧楼区改造点位由区住建委统筹。",
        [
            {"owner": first, "task": "报送逾期点位整改清单", "due_date": _in(today, 5)},
            {
                "owner": "bureau_housing",
                "task": "审批旧楼区改造点位方案",
                "due_date": _in(today, 14),
            },
        ],
    )
    oversight.escalate(
        session,
        OFFICE,
        first,
        "",
        "committee",
        "通报后逾期点位仍未整改，督查发现问题未落实。",
        [notice.id],
        [f["id"] for f in findings],
        [s.code for s in sites],
    )
    return {"notice": notice.number, "inspection": inspection.id}
