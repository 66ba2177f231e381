"""`gis-app daily` (idempotent per day), the bureaus' views, the campaign phases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gis_app.core import clock
from gis_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from gis_app.features.bureaus import service as bureaus
from gis_app.features.ledger.models import SiteEvent
from gis_app.features.ledger.service import update_site
from tests.support.workflow import (
    CIVIL,
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
    plain = _flagged(db_session)
    with pytest.raises(NotFound):  # outside housing's view: not even confirmed to exist
        bureaus.mark_renovation_done(db_session, plain.id, HOUSING)
    with pytest.raises(Conflict, match="未纳入"):
        bureaus.mark_renovation_done(db_session, plain.id, OFFICE)
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
    from gis_app.http.database import session
    from tests.support.accounts import csrf_of

    with client.application.app_context():
        site = _flagged(session(), renovation=True, hardship=True)
        session().commit()
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
