"""The whole walk of a demo site through the HTML pages, from 已建档 to 已销账, with the
Flask test client driving the forms as a browser would; and the dashboard agreeing with the
ledger."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import Street
from tests.support.accounts import csrf


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


def test_user_box_and_home_campaign(client) -> None:
    _as(client, "district_officer", None, "区办王")
    html = _page(client, "/")
    assert 'id="userbox"' in html and "退出" in html and 'id="campaign"' in html
    # the tests' clock is 2026-06-15: Hedong's campaign ended on 2022-12-31
    assert "已于 <strong>2022-12-31</strong> 结束" in html
