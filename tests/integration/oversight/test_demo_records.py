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


def test_demo_records_are_made_in_the_demo_accounts_names(db_session) -> None:
    """The pages show an actor's account name; the demo's records must name demo accounts
    (`gis-app demo-accounts`), not made-up logins that show as such."""
    from gis_app.demo.accounts import demo_account_specs
    from gis_app.features.bureaus.models import RenovationPlan
    from gis_app.features.publicity.models import PublicityRecord

    load_demo(db_session, n_sites=150, seed=7, today=date(2026, 6, 15))
    accounts = {spec["username"] for spec in demo_account_specs(db_session)}
    actors = {
        *db_session.scalars(select(NoticeReply.replied_by)),
        *db_session.scalars(select(Notice.issued_by)),
        *db_session.scalars(select(RenovationPlan.submitted_by)),
        *db_session.scalars(select(PublicityRecord.recorded_by)),
    }
    assert actors and actors <= accounts, actors - accounts
