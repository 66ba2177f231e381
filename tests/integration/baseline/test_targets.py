"""Stage targets (issue 14, point 2): proposed from the baseline and the campaign phases, set
by the office per street; progress against the current target on the dashboard, in the
statistics and the report; a street behind its target is on the lagging list with that reason."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from gis_app.core import clock
from gis_app.core.errors import Forbidden, ValidationError
from gis_app.features.baseline import service as baseline
from gis_app.features.ledger.models import Site
from gis_app.features.reporting import statistics
from gis_app.features.streets.models import Street
from tests.support.baseline import officer, street_site
from tests.support.workflow import DZG, OFFICE, ZSM


def _frozen_district(session):
    ahead = [street_site(session, DZG) for _ in range(4)]
    behind = [street_site(session, ZSM) for _ in range(4)]
    rectify = street_site(session, ZSM, disposition="rectify")
    for code in session.scalars(select(Street.code)):
        baseline.submit_list(session, code, officer(code))
        baseline.review_list(session, code, OFFICE, "confirm", "")
    baseline.freeze(session, OFFICE, "120102")
    return ahead, behind, rectify


def test_targets_proposed_set_and_followed(db_session) -> None:
    ahead, behind, _rectify = _frozen_district(db_session)
    proposed = baseline.propose_targets(db_session, date(2026, 9, 30), date(2026, 12, 31))
    zsm = [p for p in proposed if p["street"] == ZSM]
    assert zsm == [
        {"street": ZSM, "due": "2026-09-30", "scope": "demolish", "target": 4},
        {"street": ZSM, "due": "2026-12-31", "scope": "all", "target": 5},
    ]
    with pytest.raises(Forbidden):
        baseline.set_targets(db_session, officer(DZG), proposed)
    with pytest.raises(ValidationError) as bad:
        baseline.set_targets(db_session, OFFICE, [{**proposed[0], "scope": "some"}])
    assert bad.value.field == "targets[1].scope"
    with pytest.raises(ValidationError) as bad:
        baseline.set_targets(db_session, OFFICE, [{**proposed[0], "target": -1}])
    assert bad.value.field == "targets[1].target"
    wanted = [p for p in proposed if p["street"] in (DZG, ZSM)]
    baseline.set_targets(db_session, OFFICE, wanted)

    db_session.execute(
        update(Site).where(Site.id.in_([s.id for s in ahead])).values(status="closed")
    )
    db_session.execute(update(Site).where(Site.id == behind[0].id).values(status="closed"))
    db_session.expire_all()
    clock.freeze("2026-10-01T09:00:00+08:00")  # the 拆除 target's date has passed
    stats = statistics.street_stats(db_session, clock.today())
    by_code = {s["code"]: s for s in stats}
    assert by_code[DZG]["target"]["behind"] is False
    assert by_code[ZSM]["target"] == {
        "due": "2026-12-31",
        "scope": "all",
        "scope_label": "基数全部点位",
        "target": 5,
        "achieved": 1,
        "expected_by_today": 2,  # 5 × 108 of 199 days since the freeze on 2026-06-15
        "progress": 0.2,
        "behind": True,
    }
    reasons = {s["code"]: s["reasons"] for s in statistics.lagging(stats)}
    assert any(
        r.startswith("落后于阶段目标（2026-12-31 前完成基数全部点位 5 个）") for r in reasons[ZSM]
    )
    assert not any("阶段目标" in r for r in reasons.get(DZG, []))


def test_targets_over_the_api_and_on_the_dashboard(client, auth) -> None:
    office = auth.headers("区办王", "district_officer")
    street = auth.headers("街道李", "street_officer", DZG)
    body = {"targets": [{"street": DZG, "due": "2026-12-31", "scope": "all", "target": 3}]}
    assert client.post("/api/v1/targets", json=body, headers=street).status_code == 403
    bad = {"targets": [{"street": "999", "due": "2026-12-31", "scope": "all", "target": 3}]}
    r = client.post("/api/v1/targets", json=bad, headers=office)
    assert r.status_code == 422 and r.get_json()["field"] == "targets[1].street"
    assert client.post("/api/v1/targets", json=body, headers=office).status_code == 200
    answer = client.get("/api/v1/targets", headers=street).get_json()
    assert answer["progress"][DZG]["target"] == 3
    from tests.support.sites import site_payload

    assert client.post("/api/v1/sites", json=site_payload(), headers=street).status_code == 201
    auth.login(client, "区办王", "district_officer")
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'data-figure="target"' in html and "0/3（应 " in html and "排名怎么算" in html
