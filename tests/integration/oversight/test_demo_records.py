"""The demo district has a record of each kind of the leading group's loop (`make run`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from gis_app.demo.loader import load_demo
from gis_app.features.oversight.models import (
    Escalation,
    Inspection,
    InspectionFinding,
    Meeting,
    MeetingTask,
    Notice,
    NoticeReply,
    NoticeStreet,
)


def test_demo_has_each_kind_of_record(db_session) -> None:
    load_demo(db_session, n_sites=150, seed=7, today=date(2026, 6, 15))
    for model, at_least in (
        (Notice, 1), (NoticeStreet, 1), (NoticeReply, 1), (Inspection, 1),
        (InspectionFinding, 1), (Meeting, 1), (MeetingTask, 2), (Escalation, 1),
    ):  # fmt: skip
        assert db_session.scalar(select(func.count()).select_from(model)) >= at_least, model
    answered = db_session.scalar(select(func.count()).where(InspectionFinding.status == "answered"))
    assert answered == 1


def test_demo_has_a_renovation_plan_in_each_state(db_session) -> None:
    from gis_app.features.bureaus.models import RenovationPlan, RenovationPlanWork

    load_demo(db_session, n_sites=150, seed=7, today=date(2026, 6, 15))
    states = db_session.scalars(select(RenovationPlan.status)).all()
    assert {"submitted", "returned", "approved"} <= set(states)
    assert db_session.scalar(select(func.count()).select_from(RenovationPlanWork)) >= 1
    assert db_session.scalar(select(func.max(RenovationPlan.revision))) == 2
