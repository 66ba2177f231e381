"""`gis-app daily` (idempotent per day), the bureaus' views, the campaign phases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gis_app.features.campaign.service import CampaignConfigError, load_campaigns
from gis_app.features.ledger.models import SiteEvent
from tests.support.workflow import (
    make_site,
)

DISTRICT = "120102"


def _overdue_events(session) -> int:
    return session.scalar(
        select(func.count()).select_from(SiteEvent).where(SiteEvent.action == "overdue")
    )


# ---------------------------------------------------------------- bureaus


def _flagged(session, **flags):
    site = make_site(session, **{f"flag_{k}": v for k, v in flags.items()})
    return site


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
    from gis_app.features.campaign.service import DEFAULT_FILE

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
