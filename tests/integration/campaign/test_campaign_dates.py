"""The campaign governs dates (issue 14, point 5): while a campaign runs, a 承诺期限, a step date
or an extension past its end is refused for a street and needs the office's explicit decision
with a reason; the dashboard lists the sites whose deadline lies beyond the end; an extension
asked after the deadline has passed is marked as asked late."""

from __future__ import annotations

import pytest

from gis_app.core.errors import ValidationError
from gis_app.features.campaign.service import current_end, store_plan
from gis_app.features.extensions import service as extensions
from gis_app.features.plans import service as plans
from gis_app.features.reporting import statistics
from tests.support.workflow import DZG_OFFICER, OFFICE, make_site

# the tests' clock: 2026-06-15; a campaign under way that ends on 2026-12-31
LIVE = {
    "campaigns": [
        {
            "key": "live",
            "name": "专项行动（测试）",
            "phases": [
                {
                    "key": "survey",
                    "name": "排查、建档阶段",
                    "start": "2026-01-01",
                    "end": "2026-01-31",
                },
                {
                    "key": "implementation",
                    "name": "实施阶段",
                    "start": "2026-02-01",
                    "end": "2026-12-31",
                },
            ],
        }
    ]
}
END = "2026-12-31"


@pytest.fixture()
def live(db_session):
    store_plan(db_session, "120102", LIVE, "测试", "test")
    assert str(current_end(db_session)) == END
    return db_session


def test_no_campaign_governs_after_hedongs_ended(db_session) -> None:
    assert current_end(db_session) is None  # Hedong's plan ended on 2022-12-31
    site = make_site(db_session, DZG_OFFICER, committed_deadline="2027-06-30")
    assert str(site.committed_deadline) == "2027-06-30"


def test_a_street_cannot_commit_past_the_end(live) -> None:
    with pytest.raises(ValidationError) as refused:
        make_site(live, DZG_OFFICER, committed_deadline="2027-03-31")
    assert refused.value.field == "committed_deadline"
    assert refused.value.message.startswith(
        f"承诺期限 2027-03-31 晚于专项行动结束日 {END}：超出专项行动的期限须由区领导小组办公室决定"
    )
    assert str(make_site(live, OFFICE, committed_deadline="2027-03-31").committed_deadline)


def test_a_street_cannot_plan_a_step_past_the_end(live) -> None:
    site = make_site(live, DZG_OFFICER, committed_deadline=None)
    steps = [
        {"title": "拆除", "due_date": "2026-11-30"},
        {"title": "复绿", "due_date": "2027-01-15"},
    ]
    with pytest.raises(ValidationError) as refused:
        plans.set_plan(live, site.id, DZG_OFFICER, steps)
    assert refused.value.field == "steps[2].due_date" and "第 2 步的日期 2027-01-15" in (
        refused.value.message
    )
    with pytest.raises(ValidationError) as no_reason:
        plans.set_plan(live, site.id, OFFICE, steps)
    assert no_reason.value.field == "reason"
    plans.set_plan(live, site.id, OFFICE, steps, "复绿受季节限制，区办同意")
    assert str(site.current_deadline) == "2027-01-15"
    listed = statistics.beyond_campaign(live, current_end(live))
    assert [(s["code"], s["days_beyond"]) for s in listed] == [(site.code, 15)]


def test_an_extension_past_the_end_needs_the_offices_reason(live) -> None:
    site = make_site(live, DZG_OFFICER, committed_deadline="2026-06-10")  # passed on 06-11
    request = extensions.request_extension(
        live,
        site.id,
        DZG_OFFICER,
        "2027-02-28",
        "冬季停工",
        [{"title": "拆除", "due_date": "2027-02-28"}],
    )
    assert extensions.request_dict(request)["asked_late"] is True
    with pytest.raises(ValidationError) as refused:
        extensions.decide(live, request.id, OFFICE, "approve", "")
    assert refused.value.field == "comment" and "晚于专项行动结束日" in refused.value.message
    extensions.decide(live, request.id, OFFICE, "approve", "经区领导小组研究同意")
    assert str(site.current_deadline) == "2027-02-28"
    on_time = make_site(live, DZG_OFFICER, committed_deadline="2026-07-31")
    asked = extensions.request_extension(
        live,
        on_time.id,
        DZG_OFFICER,
        "2026-09-30",
        "材料未到",
        [{"title": "拆除", "due_date": "2026-09-30"}],
    )
    assert extensions.request_dict(asked)["asked_late"] is False
