"""The whole walk of a demo site through the HTML pages, from 已建档 to 已销账, with the
Flask test client driving the forms as a browser would; and the dashboard agreeing with the
ledger."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import select

from gis_app.demo.loader import load_demo
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import Street
from tests.support.accounts import csrf
from tests.support.workflow import SITE_LONLAT, image_bytes


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


def test_photo_upload_refusals_on_the_page(app, client, connection, photo_dir) -> None:
    site_id, _code, street = _demo_site(app, connection)
    _as(client, "street_officer", street)
    bad = _post(
        client,
        f"/sites/{site_id}/photos",
        {"kind": "before", "file": (BytesIO(b"not an image"), "x.jpg")},
        status=422,
    )
    assert "JPEG、PNG 或 WebP" in bad.get_data(as_text=True)
    far = image_bytes(lonlat=(SITE_LONLAT[0] + 0.05, SITE_LONLAT[1]))
    response = client.post(
        f"/sites/{site_id}/photos",
        data={"kind": "before", "file": (BytesIO(far), "far.jpg"), "csrf_token": csrf(client)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "注意：照片拍摄位置距点位" in response.get_data(as_text=True)
