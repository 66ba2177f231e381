"""The whole walk of a demo site through the HTML pages, from 已建档 to 已销账, with the
Flask test client driving the forms as a browser would; and the dashboard agreeing with the
ledger."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import select

from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site, SiteEvent
from gis_app.features.streets.models import Street
from gis_app.features.workflow.models import AcceptanceView
from tests.support.accounts import csrf
from tests.support.workflow import image_bytes


@pytest.fixture()
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    return tmp_path / "photos"


_ACCOUNTS: list = []


@pytest.fixture(autouse=True)
def _accounts(auth):
    _ACCOUNTS[:] = [auth]


def _as(client, role: str, street: str | None = None, name: str = "") -> None:
    """Log in (through the form) as a user of that role and street."""
    _ACCOUNTS[0].login(client, name or f"{role}.{street or 'district'}", role, street)


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _post(client, url: str, data: dict, status: int = 302):
    """Post a form as the browser would: with the session's CSRF token."""
    data = {**data, "csrf_token": csrf(client)}
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def _status(connection, site_id: int) -> str:
    return connection.execute(select(Site.status).where(Site.id == site_id)).scalar_one()


def _demo_site(app, connection) -> tuple[int, str, str]:
    from gis_app.http.database import session

    with app.app_context():
        load_demo(session(), n_sites=200, seed=11, today=date(2026, 6, 15))
        session().commit()
    site_id, code, street = connection.execute(
        select(Site.id, Site.code, Street.code)
        .join(Street, Street.id == Site.street_id)
        .where(
            Site.status == "registered",
            Site.current_deadline > date(2026, 10, 1),
            Site.flag_renovation.is_(False),
        )
        .order_by(Site.id)
        .limit(1)
    ).one()
    return site_id, code, street


@pytest.mark.slow
def test_walk_a_demo_site_from_registered_to_closed(app, client, connection, photo_dir) -> None:
    site_id, _code, street = _demo_site(app, connection)
    page = f"/sites/{site_id}/workflow"

    # 1. the street officer opens the site: it is 已建档, and may start
    _as(client, "street_officer", street, "街道李")
    html = _page(client, page)
    assert 'data-status="registered"' in html and "开始治理" in html

    # 2. a step plan within the current deadline
    _post(
        client,
        f"/sites/{site_id}/plan",
        {
            "step_title": ["拆除违建部分", "恢复原状", "规范外立面"],
            "step_date": ["2026-07-10", "2026-08-10", "2026-09-10"],
            "next": page,
        },
    )
    assert "拆除违建部分" in _page(client, page)

    # 3. start: 已建档 → 治理中
    _post(client, f"/sites/{site_id}/transition", {"to": "in_progress", "next": page})
    assert _status(connection, site_id) == "in_progress"
    html = _page(client, page)
    assert "已变为「治理中」" in html  # the flashed message

    # 4. asking for acceptance without photos is refused, on the page, with the reason
    refused = _post(
        client, f"/sites/{site_id}/transition", {"to": "awaiting_acceptance"}, status=409
    )
    assert "整改前照片" in refused.get_data(as_text=True)

    # 5. before and after photos, with EXIF at the site
    lon, lat = connection.execute(
        select(Site.geom.ST_X(), Site.geom.ST_Y()).where(Site.id == site_id)
    ).one()
    before = image_bytes((150, 60, 40), taken="2026:06:15 09:00:00", lonlat=(lon, lat))
    after = image_bytes((60, 150, 60), taken="2026:06:15 16:00:00", lonlat=(lon, lat))
    _post(
        client,
        f"/sites/{site_id}/photos",
        {"kind": "before", "file": (BytesIO(before), "before.jpg"), "next": page},
    )
    _post(
        client,
        f"/sites/{site_id}/photos",
        {"kind": "after", "file": (BytesIO(after), "after.jpg"), "next": page},
    )
    html = _page(client, page)
    assert html.count('class="photo-card"') == 2 and "照片中无拍摄时间" not in html

    # 6. the steps done, with evidence
    step_ids = [int(x) for x in re.findall(r'data-step="(\d+)"', html)]
    assert len(step_ids) == 3
    for sid in step_ids:
        _post(client, f"/steps/{sid}/complete", {"note": "已完成，见照片", "next": page})
    assert "已完成（" in _page(client, page)

    # 7. 治理中 → 待验收
    _post(client, f"/sites/{site_id}/transition", {"to": "awaiting_acceptance", "next": page})
    assert _status(connection, site_id) == "awaiting_acceptance"

    # 8. the street cannot close; the district office must first look at the pair
    refused = _post(client, f"/sites/{site_id}/close", {"comment": "x"}, status=403)
    assert "区领导小组办公室" in refused.get_data(as_text=True)
    _as(client, "district_officer", None, "区办王")
    refused = _post(client, f"/sites/{site_id}/close", {"comment": "x"}, status=409)
    assert "并排查看" in refused.get_data(as_text=True)
    html = _page(client, page)
    assert "进入验收" in html and f"/sites/{site_id}/acceptance" in html

    # 9. the acceptance page: newest before and after side by side; the view is recorded
    html = _page(client, f"/sites/{site_id}/acceptance")
    pair = re.search(r'id="acceptance-pair">(.*?)</div>\s*<p', html, re.S).group(1)
    assert pair.index('data-kind="before"') < pair.index('data-kind="after"')
    assert "验收通过，销账" in html and 'id="view-recorded"' in html
    views = (
        connection.execute(select(AcceptanceView.actor).where(AcceptanceView.site_id == site_id))
        .scalars()
        .all()
    )
    assert views == ["区办王"]

    # 10. close: 待验收 → 已销账
    _post(client, f"/sites/{site_id}/close", {"comment": "前后对比一致，同意销账", "next": page})
    assert _status(connection, site_id) == "closed"
    html = _page(client, page)
    assert "已销账" in html and "重新打开" in html

    # the history tells it step by step
    actions = connection.execute(
        select(SiteEvent.action, SiteEvent.actor, SiteEvent.changes)
        .where(SiteEvent.site_id == site_id)
        .order_by(SiteEvent.id)
    ).all()
    moves = [tuple(c["status"]) for a, _, c in actions if a == "transition"]
    assert moves == [
        ("registered", "in_progress"),
        ("in_progress", "awaiting_acceptance"),
        ("awaiting_acceptance", "closed"),
    ]
    assert [a for a, _, _ in actions].count("photo") == 2
    assert [a for a, _, _ in actions].count("step_done") == 3
    assert actions[-1][1] == "区办王"

    # photos are served through the app, thumbnails as JPEG
    photo_ids = re.findall(r"/photos/(\d+)/thumb", html)
    thumb = client.get(f"/photos/{photo_ids[0]}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    thumb.close()
    original = client.get(f"/photos/{photo_ids[0]}/file")
    assert original.data in (before, after)
    original.close()

    # the dashboard agrees with the ledger for that street (and the district)
    html = _page(client, "/dashboard")
    row = re.search(rf'<tr data-street="{street}">(.*?)</tr>', html, re.S).group(1)
    cells = dict(re.findall(r'data-status="(\w+)">(\d+)<', row))
    counts = client.get(f"/api/v1/sites/counts?street={street}").get_json()
    for status in ("new", "registered", "in_progress", "awaiting_acceptance", "closed"):
        assert int(cells[status]) == counts[status], status
    overdue = re.search(r'data-figure="overdue">(\d+)<', row).group(1)
    assert int(overdue) == counts["overdue"]
    total = re.search(r'id="district-totals">.*?data-figure="total">(\d+)<', html, re.S).group(1)
    assert int(total) == 200
    assert "<svg" in html and 'data-series="销账"' in html


def test_other_street_cannot_act_and_sees_why(app, client, connection, photo_dir) -> None:
    site_id, _code, street = _demo_site(app, connection)
    other = "120102003" if street != "120102003" else "120102002"
    _as(client, "street_officer", other)
    page = client.get(f"/sites/{site_id}/workflow", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "没有编号为" in page.get_data(as_text=True)
    refused = _post(client, f"/sites/{site_id}/transition", {"to": "in_progress"}, status=404)
    assert "没有编号为" in refused.get_data(as_text=True)
    assert _status(connection, site_id) == "registered"
    # the site's own inspector sees it, and why it may not start it (in words that fit an
    # inspector of that street, issue 15)
    _as(client, "inspector", street)
    html = _page(client, f"/sites/{site_id}/workflow")
    assert "开始治理须由本街道的街道办事处办理（执法队员不能办理）" in html


def test_identity_headers_of_old_are_ignored(client) -> None:
    """X-Actor / X-Role / X-Street once chose who acted: they give nobody any access now."""
    spoof = {"X-Actor": "区办王", "X-Role": "district_officer", "Accept": "text/html"}
    response = client.get("/dashboard", headers=spoof)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    api = client.get("/api/v1/sites", headers={**spoof, "Accept": "application/json"})
    assert api.status_code == 401 and api.get_json()["error"] == "unauthorized"
    assert client.post("/identity", data={"role": "district_admin"}).status_code == 404


def test_partial_is_self_sufficient_in_another_page(app, client, connection) -> None:
    """The map's site page includes the partial with only `site` in its context."""
    from flask import render_template_string

    from gis_app.http.database import session
    from tests.support.workflow import make_site

    with app.app_context():
        site_id = make_site(session()).id
        session().commit()
    with app.test_request_context(f"/sites/{site_id}"):
        from flask import g

        from tests.support.workflow import OFFICE

        g.actor = OFFICE  # what authentication puts there for a logged-in office user
        html = render_template_string(
            '<main>{% include "site/_workflow.html" ignore missing %}</main>',
            site={"id": site_id, "code": "x"},
        )
    assert f'data-site="{site_id}"' in html and 'data-status="registered"' in html
    assert "开始治理" in html and "整改前后照片" in html
    assert f'name="next" value="/sites/{site_id}"' in html  # forms come back to that page
