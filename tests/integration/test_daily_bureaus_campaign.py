"""`gis-app daily` (idempotent per day), the bureaus' views, the campaign phases."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gis_app import clock
from gis_app.campaign import CampaignConfigError, load_campaigns
from gis_app.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.models import DailyRun, SiteEvent
from gis_app.services import bureaus, reminders, steps
from gis_app.services.sites import update_site
from tests.workflow_support import (
    CIVIL,
    DZG,
    DZG_OFFICER,
    HOUSING,
    OFFICE,
    POLICE,
    make_site,
)

DISTRICT = "120102"


def _overdue_events(session) -> int:
    return session.scalar(
        select(func.count()).select_from(SiteEvent).where(SiteEvent.action == "overdue")
    )


def test_daily_records_newly_overdue_once(db_session) -> None:
    late = make_site(db_session, committed_deadline="2026-06-10")
    soon = make_site(db_session, committed_deadline="2026-06-20")
    stepped = make_site(db_session, committed_deadline="2026-09-30")
    steps.set_plan(db_session, stepped.id, DZG_OFFICER, [
        {"title": "拆除", "due_date": "2026-06-18"},
        {"title": "恢复", "due_date": "2026-09-30"},
    ])  # fmt: skip
    day = date(2026, 6, 15)
    first = reminders.run_daily(db_session, DISTRICT, day, OFFICE)
    assert first["first_run_today"] and first["newly_overdue"] == 1
    assert [r["code"] for r in first["recorded"]] == [late.code]
    soon_codes = {(x["code"], x["what"]) for x in first["due_soon"]}
    assert (soon.code, "治理期限") in soon_codes and (stepped.code, "步骤：拆除") in soon_codes
    event = db_session.scalar(select(SiteEvent).where(SiteEvent.action == "overdue"))
    assert event.site_id == late.id and event.changes["due"] == [None, "2026-06-10"]

    events, runs = (
        _overdue_events(db_session),
        db_session.scalar(select(func.count()).select_from(DailyRun)),
    )
    second = reminders.run_daily(db_session, DISTRICT, day, OFFICE)
    assert not second["first_run_today"] and second["newly_overdue"] == 0
    assert _overdue_events(db_session) == events == 1
    assert db_session.scalar(select(func.count()).select_from(DailyRun)) == runs == 1

    # a later day: the step of `stepped` has passed; `late` is not recorded twice
    clock.freeze("2026-06-19T08:00:00+08:00")
    third = reminders.run_daily(db_session, DISTRICT, date(2026, 6, 19), OFFICE)
    assert [r["code"] for r in third["recorded"]] == [stepped.code]
    assert third["recorded"][0]["due"] == "2026-06-18"


def test_daily_records_again_when_a_new_deadline_passes(db_session) -> None:
    site = make_site(db_session, committed_deadline="2026-06-10")
    reminders.run_daily(db_session, DISTRICT, date(2026, 6, 15), OFFICE)
    update_site(
        db_session, site.id, {"committed_deadline": "2026-06-16", "version": site.version}, OFFICE
    )
    clock.freeze("2026-06-17T09:00:00+08:00")
    again = reminders.run_daily(db_session, DISTRICT, date(2026, 6, 17), OFFICE)
    assert [r["due"] for r in again["recorded"]] == ["2026-06-16"]
    assert _overdue_events(db_session) == 2


def test_daily_lists_reports_due(db_session) -> None:
    clock.freeze("2026-06-20T09:00:00+08:00")
    due = reminders.reports_due(db_session)
    months = {r["month"] for r in due if r["street_code"] == DZG}
    assert months == {"2026-06", "2026-05"}  # this month's, and May's (missed)
    assert all(r["past_due"] for r in due if r["month"] == "2026-05")


def test_daily_command_twice(app, connection) -> None:
    from gis_app.cli import cli
    from gis_app.db import session

    db = app.extensions["gis_db"]
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with app.app_context():
            make_site(session(), committed_deadline="2026-06-01")
        runner = CliRunner()
        out1 = runner.invoke(cli, ["daily", "--today", "2026-06-15"], obj={"app": app})
        assert out1.exit_code == 0, out1.output
        summary = json.loads(out1.stdout.strip().splitlines()[-1])
        assert summary["newly_overdue"] == 1 and summary["first_run_today"] is True
        out2 = runner.invoke(cli, ["daily", "--today", "2026-06-15"], obj={"app": app})
        summary2 = json.loads(out2.stdout.strip().splitlines()[-1])
        assert summary2["newly_overdue"] == 0 and summary2["first_run_today"] is False
        assert "今日已运行过" in out2.stderr
        n = connection.execute(
            select(func.count()).select_from(SiteEvent).where(SiteEvent.action == "overdue")
        ).scalar_one()
        assert n == 1
    finally:
        db.factory.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")


# ---------------------------------------------------------------- bureaus


def _flagged(session, **flags):
    site = make_site(session, **{f"flag_{k}": v for k, v in flags.items()})
    return site


def test_civil_affairs_sees_hardship_persons_only(db_session) -> None:
    poor = _flagged(db_session, hardship=True, obstruction=True)
    _flagged(db_session)
    rows = bureaus.civil_affairs(db_session, CIVIL)
    assert [r["site_id"] for r in rows] == [poor.id]
    assert set(rows[0]) == {"site_id", "code", "street", "community", "address", "person_name",
                            "person_contact", "hardship"}  # fmt: skip
    for actor in (HOUSING, POLICE, DZG_OFFICER):
        with pytest.raises(Forbidden):
            bureaus.civil_affairs(db_session, actor)
    assert bureaus.civil_affairs(db_session, OFFICE) == rows


def test_housing_sees_renovation_sites_without_personal_data_and_marks_done(db_session) -> None:
    site = _flagged(db_session, renovation=True)
    _flagged(db_session)
    rows = bureaus.housing(db_session, HOUSING)
    assert [r["site_id"] for r in rows] == [site.id]
    assert not {"person_name", "person_contact", "note"} & set(rows[0])
    with pytest.raises(ValidationError) as err:
        bureaus.mark_renovation_done(db_session, site.id, HOUSING, "2026-07-01")
    assert err.value.field == "done_on"
    work = bureaus.mark_renovation_done(db_session, site.id, HOUSING, "2026-06-14", "外立面完工")
    assert work.done_on == date(2026, 6, 14)
    assert bureaus.housing(db_session, HOUSING)[0]["works_done_on"] == "2026-06-14"
    with pytest.raises(Conflict, match="已于"):
        bureaus.mark_renovation_done(db_session, site.id, HOUSING)
    db_session.rollback()
    plain = _flagged(db_session)
    with pytest.raises(NotFound):  # outside housing's view: not even confirmed to exist
        bureaus.mark_renovation_done(db_session, plain.id, HOUSING)
    db_session.rollback()
    with pytest.raises(Conflict, match="未纳入"):
        bureaus.mark_renovation_done(db_session, plain.id, OFFICE)
    db_session.rollback()
    with pytest.raises(Forbidden):
        bureaus.mark_renovation_done(db_session, site.id, POLICE)
    event = db_session.scalar(
        select(SiteEvent).where(SiteEvent.site_id == site.id, SiteEvent.action == "renovation_done")
    )
    assert event.actor == HOUSING.name


def test_police_sees_obstruction_dates_and_no_hardship(db_session) -> None:
    clock.freeze("2026-06-01T10:00:00+08:00")
    site = _flagged(db_session, hardship=True)
    clock.freeze("2026-06-12T15:00:00+08:00")
    update_site(db_session, site.id, {"flag_obstruction": True, "version": site.version}, OFFICE)
    other = _flagged(db_session, obstruction=True)  # flagged when registered
    rows = {r["site_id"]: r for r in bureaus.police(db_session, POLICE)}
    assert set(rows) == {site.id, other.id}
    assert rows[site.id]["obstruction_dates"] == ["2026-06-12"]
    assert rows[other.id]["obstruction_dates"] == ["2026-06-12"]
    assert not any("hardship" in key for key in rows[site.id])
    assert "note" not in rows[site.id]


def test_bureau_pages(client, connection, auth) -> None:
    from gis_app.db import session
    from tests.accounts_support import csrf_of

    with client.application.app_context():
        site = _flagged(session(), renovation=True, hardship=True)
    civil = client.get("/bureau/civil-affairs", headers=auth.headers("minzheng", "bureau_civil"))
    assert civil.status_code == 200 and "张某" in civil.get_data(as_text=True)
    auth.login(client, "zhujian", "bureau_housing")
    housing = client.get("/bureau/housing")
    text = housing.get_data(as_text=True)
    assert housing.status_code == 200 and site.code in text and "张某" not in text
    assert client.get("/").headers["Location"] == "/bureau/housing"  # its own view only
    denied = client.get("/bureau/police")
    assert denied.status_code == 403
    form = {"done_on": "2026-06-15", "csrf_token": csrf_of(text)}
    assert (
        client.post(f"/bureau/housing/{site.id}/done", data={"done_on": "2026-06-15"}).status_code
        == 403
    )  # no CSRF token
    done = client.post(f"/bureau/housing/{site.id}/done", data=form)
    assert done.status_code == 302
    again = client.post(f"/bureau/housing/{site.id}/done", data=form)
    assert again.status_code == 409 and "已于" in again.get_data(as_text=True)


# ---------------------------------------------------------------- campaign


@pytest.mark.parametrize(
    ("today", "current", "days_left"),
    [
        (date(2021, 2, 22), ["survey"], 28),
        (date(2021, 3, 15), ["survey"], 7),
        (date(2021, 3, 22), ["survey", "implementation"], 0),
        (date(2022, 9, 30), ["implementation"], 0),
        (date(2022, 10, 1), ["consolidation"], 91),
    ],
)
def test_hedong_phases(today, current, days_left) -> None:
    status = load_campaigns().status(today)
    assert [p["key"] for p in status["current"]] == current
    assert status["current"][0]["days_left"] == days_left


def test_before_and_after_the_campaign() -> None:
    plan = load_campaigns()
    before = plan.status(date(2021, 1, 1))
    assert not before["current"] and before["next"]["key"] == "survey"
    assert before["next"]["days_until"] == 52
    after = plan.status(date(2026, 6, 15))
    assert after["ended"] and after["ended_on"] == "2022-12-31" and after["next"] is None
    survey = load_campaigns().status(date(2021, 3, 1))["current"][0]
    assert survey["upcoming_milestones"] == [{"date": "2021-03-15", "name": "各街道报送点位清单"}]


def test_demo_campaign_follows_today() -> None:
    from gis_app.campaign import DEFAULT_FILE

    plan = load_campaigns(DEFAULT_FILE.with_name("demo-today.yaml"))
    status = plan.status(date(2026, 6, 15))
    assert [p["key"] for p in status["current"]] == ["implementation"]
    assert status["current"][0]["days_left"] == 180


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("campaigns: 3", "campaigns"),
        ("campaigns: [{key: a, name: b, phases: []}]", "至少有一个阶段"),
        ("campaigns: [{key: a, name: b, phases: [{key: p, name: q, start: 2021-05-01, "
         "end: 2021-04-01}]}]", "开始日期晚于结束日期"),
        ("campaigns: [{key: a, name: b, phases: [{key: p, name: q, start: 明天, "
         "end: 2021-04-01}]}]", "日期无法识别"),
        ("anchor: today\ncampaigns: [{key: a, name: b, phases: [{key: p, name: q, "
         "start: 2021-05-01, end: 3}]}]", "整数"),
        ("campaigns: [\n", "YAML"),
    ],
)  # fmt: skip
def test_bad_campaign_files(tmp_path, text, message) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CampaignConfigError, match=message):
        load_campaigns(path)


def test_bad_campaign_file_stops_start_up(tmp_path, database_url) -> None:
    from gis_app import create_app

    path = tmp_path / "c.yaml"
    path.write_text("campaigns: []", encoding="utf-8")
    with pytest.raises(RuntimeError, match="专项行动配置有误"):
        create_app({"DATABASE_URL": database_url, "CAMPAIGN_FILE": str(path)})
    with pytest.raises(RuntimeError, match="不存在"):
        create_app({"DATABASE_URL": database_url, "CAMPAIGN_FILE": str(tmp_path / "none.yaml")})
