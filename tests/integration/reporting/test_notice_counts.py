"""The ranking's history counts the 通报 each street received in the campaign (in all and per
month of issue), linking to the street's 通报; a street sees its own count only, as the
ranking is scoped today."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from gis_app.core.actor import Actor
from gis_app.features.campaign.service import current_campaign
from gis_app.features.oversight import service as oversight
from gis_app.features.oversight.models import Notice
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

ZSM_POINT = {"lon": 117.2620, "lat": 39.1010}


def _notices(session) -> None:
    """大直沽 named twice in the campaign, 中山门 once, and 中山门 once before it began."""
    make_site(session)
    make_site(session, **ZSM_POINT)
    campaign = current_campaign(session)
    assert campaign is not None
    old = oversight.issue(session, OFFICE, "上一轮通报", "2026-06-25", [{"street": ZSM}])
    session.execute(
        update(Notice).where(Notice.id == old.id).values(issued_on=campaign[1] - timedelta(days=1))
    )
    oversight.issue(session, OFFICE, "第一期通报", "2026-06-25", [{"street": DZG}, {"street": ZSM}])
    oversight.issue(session, OFFICE, "第二期通报", "2026-06-25", [{"street": DZG}])
    session.flush()


def _row(html: str, table: str, street: str) -> str:
    part = html[html.index(f'id="{table}"') :]
    start = part.index(f'data-street="{street}"')
    return part[start : part.index("</tr>", start)]


def test_service_counts_in_the_campaign_and_per_month(db_session) -> None:
    _notices(db_session)
    since = current_campaign(db_session)[1]
    rows = {r["code"]: r for r in oversight.notice_history(db_session, OFFICE, since)}
    assert len(rows) == 12
    assert (rows[DZG]["notices"], rows[DZG]["by_month"]) == (2, {"2026-06": 2})
    assert (rows[ZSM]["notices"], rows[ZSM]["by_month"]) == (1, {"2026-06": 1})
    assert all(r["notices"] == 0 for code, r in rows.items() if code not in (DZG, ZSM))
    # without a start: every 通报 ever issued
    assert oversight.history_by_street(db_session, OFFICE)[ZSM]["notices"] == 2
    own = oversight.notice_history(db_session, Actor("中山门赵", "street_officer", ZSM), since)
    assert [(r["code"], r["notices"]) for r in own] == [(ZSM, 1)]


def test_ranking_page_shows_the_counts_with_links(db_session, client, auth) -> None:
    _notices(db_session)
    auth.login(client, "区办王", "district_officer")
    page = client.get("/dashboard").text
    dzg = _row(page, "ranking", DZG)
    assert re.search(rf'data-figure="notices"><a href="/notices\?street={DZG}">2</a>', dzg)
    assert 'data-figure="notices"><a href="/notices?street=' in _row(page, "ranking", ZSM)
    assert ">1</a>" in _row(page, "ranking", ZSM)
    history = _row(page, "notice-history-table", DZG)
    assert 'data-month="2026-06">2<' in history
    assert 'data-month="2026-05"><' in history
    listed = client.get(f"/notices?street={DZG}").text
    assert listed.count("期通报") == 2


def test_api_and_the_street_sees_its_own(db_session, client, auth) -> None:
    _notices(db_session)
    office = auth.headers("区办王", "district_officer")
    body = client.get("/api/v1/statistics/notices", headers=office).json
    assert body["since"] == current_campaign(db_session)[1].isoformat()
    counts = {s["code"]: s["notices"] for s in body["streets"]}
    assert (counts[DZG], counts[ZSM], len(counts)) == (2, 1, 12)
    dzg = auth.headers("大直沽李", "street_officer", DZG)
    (own,) = client.get("/api/v1/statistics/notices", headers=dzg).json["streets"]
    assert (own["code"], own["notices"], own["by_month"]) == (DZG, 2, {"2026-06": 2})
    police = auth.headers("公安", "bureau_police")
    assert client.get("/api/v1/statistics/notices", headers=police).status_code == 403

    auth.login(client, "中山门赵", "street_officer", ZSM)
    page = client.get(f"/dashboard/street/{ZSM}").text
    card = page[page.index('id="street-notices"') :]
    assert '<a href="/notices?street=' + ZSM + '">1</a>' in card[: card.index("</div>")]
    assert client.get(f"/dashboard/street/{DZG}").status_code == 404
