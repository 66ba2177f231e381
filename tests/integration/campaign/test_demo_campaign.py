"""The demo runs one live campaign: Hedong's plan moved as a whole to the load day, stored in
the database; Hedong's real plan (2021 dates, the plan's phase names) stays the reference."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.demo.loader import DEMO_CAMPAIGN_DAYS_BEFORE, load_demo
from gis_app.features.campaign.service import effective_plan, load_campaigns

LOAD_DAY = date(2026, 12, 6)
PLAN_NAMES = ["排查、建档阶段", "实施阶段", "巩固、深化阶段"]


def test_hedong_reference_plan_keeps_its_dates_and_the_plans_phase_names() -> None:
    status = load_campaigns().status(date(2026, 12, 6))
    assert [p["name"] for p in status["phases"]] == PLAN_NAMES
    assert [(p["start"], p["end"]) for p in status["phases"]] == [
        ("2021-02-22", "2021-03-22"),
        ("2021-03-22", "2022-09-30"),
        ("2022-10-01", "2022-12-31"),
    ]
    assert status["ended"] and status["ended_on"] == "2022-12-31"


def _lengths(status: dict) -> list[int]:
    return [
        (date.fromisoformat(p["end"]) - date.fromisoformat(p["start"])).days
        for p in status["phases"]
    ]


def test_the_demo_stores_hedongs_plan_moved_to_the_present(db_session: Session) -> None:
    result = load_demo(db_session, n_sites=30, seed=3, today=LOAD_DAY)
    reference = load_campaigns()
    plan = effective_plan(db_session, reference)
    status = plan.status(LOAD_DAY)
    assert not status["ended"]
    assert [p["key"] for p in status["current"]] == ["implementation"]
    assert status["current"][0]["name"] == "实施阶段"
    assert [p["name"] for p in status["phases"]] == PLAN_NAMES
    assert status["phases"][0]["start"] == "2025-11-01"  # 400 days before the load day
    assert (LOAD_DAY - date(2025, 11, 1)).days == DEMO_CAMPAIGN_DAYS_BEFORE
    ref_status = reference.status(LOAD_DAY)
    assert _lengths(status) == _lengths(ref_status)  # the same plan, shifted as a whole
    milestone = status["phases"][0]["milestones"][0]
    assert milestone["name"] == "各街道报送点位清单"
    assert (date.fromisoformat(milestone["date"]) - date(2025, 11, 1)).days == 21  # 3-15 vs 2-22
    assert "平移" in status["source"] and result["campaign"] == status["source"]
    # the demo's sites are dated around the load day, inside or just before the campaign
    assert "（演示）" in status["phases"][0]["campaign"]
    # a reload replaces the demo's campaign rather than piling them up
    load_demo(db_session, n_sites=10, seed=3, today=date(2027, 3, 1), replace=True)
    again = effective_plan(db_session, reference).status(date(2027, 3, 1))
    assert again["phases"][0]["start"] == "2026-01-25"


def test_the_api_and_home_page_show_the_demo_campaign_live(client, connection, auth) -> None:
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    load_demo(session, n_sites=10, seed=3, today=clock.today())
    session.flush()
    auth.login(client, "区办王", "district_officer")
    body = client.get("/api/v1/campaign").get_json()
    assert not body["ended"] and body["current"][0]["name"] == "实施阶段"
    assert body["current"][0]["days_left"] > 0
    html = client.get("/").get_data(as_text=True)
    assert "当前阶段：<strong>实施阶段</strong>" in html and "结束；暂无后续阶段" not in html


def test_the_demo_has_a_confirmed_frozen_baseline_and_additions(db_session: Session) -> None:
    from gis_app.features.baseline.service import overview
    from gis_app.features.reporting import statistics

    result = load_demo(db_session, n_sites=300, seed=5, today=LOAD_DAY)
    view = overview(db_session, None)
    assert view["frozen"] and view["baseline_sites"] == result["baseline_sites"] > 0
    assert {s["status"] for s in view["streets"]} == {"confirmed"}
    stats = statistics.street_stats(db_session, LOAD_DAY)
    totals = statistics.district_totals(stats)
    assert totals["baseline"]["total"] == result["baseline_sites"]
    assert totals["additions"]["patrol"] > 0 and totals["additions"]["late"] > 0
    assert totals["baseline"]["total"] + totals["additions"]["total"] == totals["total"]
    # every street has its first responsible person (one changed, the earlier one kept)
    assert all(s["first_responsible"] for s in stats)
    from gis_app.features.streets.service import leader_history

    changed = [s for s in stats if len(leader_history(db_session, s["code"])) == 2]
    assert len(changed) == 1 and changed[0]["first_responsible"]["name"] == "孙某某"
    # stage targets: some streets ahead of their pace, some behind (and named for it)
    behind = {s["code"] for s in stats if s["target"] and s["target"]["behind"]}
    ahead = {s["code"] for s in stats if s["target"] and not s["target"]["behind"]}
    assert behind and ahead
    lagging = {s["code"]: s["reasons"] for s in statistics.lagging(stats)}
    assert all(any("阶段目标" in r for r in lagging[code]) for code in behind)
