"""The patrol pages pass the configured speeds to the route planner (the service reads no
configuration itself)."""

from __future__ import annotations

import pytest

from tests.support.workflow import OFFICE, make_site

CENTRE = (117.2470173, 39.1031997)


@pytest.mark.parametrize(("walk", "bike"), [(4.5, 12.0), (5.0, 15.0)])
def test_preview_times_follow_the_configured_speeds(
    app, client, auth, db_session, monkeypatch, walk, bike
) -> None:
    monkeypatch.setitem(app.config, "PATROL_WALK_KMH", walk)
    monkeypatch.setitem(app.config, "PATROL_BIKE_KMH", bike)
    make_site(db_session, OFFICE, code="SPD-1", lon=CENTRE[0] + 0.001, lat=CENTRE[1], status="new")
    body = {
        "area": {"kind": "circle", "center": list(CENTRE), "radius_m": 200},
        "priorities": ["new"],
        "start": [CENTRE[0] - 0.002, CENTRE[1]],
    }
    response = client.post(
        "/api/v1/patrols/preview", json=body, headers=auth.headers("office.s", "district_officer")
    )
    assert response.status_code == 200, response.get_json()
    route = response.get_json()["route"]
    assert route["total_m"] > 300
    # minutes are rounded to 0.1
    assert route["walk_minutes"] == pytest.approx(route["total_m"] / (walk * 1000) * 60, abs=0.06)
    assert route["bike_minutes"] == pytest.approx(route["total_m"] / (bike * 1000) * 60, abs=0.06)
