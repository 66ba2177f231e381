"""`make run` shows coverage on the public page and publicity per street and month: the demo
district has published reports (one linked to a site, on its timeline) and publicity work of
the streets this month, with one street left without any."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from gis_app.core.actor import Actor
from gis_app.demo.loader import load_demo
from gis_app.features.publicity import service

OFFICE = Actor("office", "district_officer")


def test_demo_has_coverage_and_publicity(db_session) -> None:
    load_demo(db_session, n_sites=150, seed=7, today=date(2026, 6, 15))
    public = service.coverage.public(db_session)
    assert len(public) == 3 and all(r["streets"] for r in public)
    events = db_session.execute(
        text("SELECT count(*) FROM site_events WHERE action = 'coverage'")
    ).scalar()
    assert events >= 1
    doc = service.monthly.table(db_session, OFFICE, "2026-06")
    assert doc["records"] > 0 and len(doc["streets_without"]) == 1
    assert service.monthly.table(db_session, OFFICE, "2026-05")["records"] > 0
