"""COPY loading: values in COPY's text format, rows and points read back exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2.errors
import pytest
from sqlalchemy import select, text

from gis_app.core.bulk_load import SITE_COLUMNS, copy_rows, copy_value, site_row
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import Street


def test_copy_value_writes_copys_text_format() -> None:
    assert copy_value(None) == "\\N"
    assert copy_value(True) == "t" and copy_value(False) == "f"
    assert copy_value(7) == "7" and copy_value(Decimal("1.50")) == "1.50"
    assert copy_value(0.1) == "0.1" and copy_value(117.2381234) == "117.2381234"
    assert copy_value(date(2026, 6, 15)) == "2026-06-15"
    assert copy_value(datetime(2026, 6, 15, 2, 3, tzinfo=UTC)) == "2026-06-15T02:03:00+00:00"
    assert copy_value("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert copy_value({"状态": ["a", None]}) == '{"状态": ["a", null]}'
    with pytest.raises(TypeError, match="set"):
        copy_value({1, 2})


def _generated_site(**overrides):
    site = {
        "code": "COPY-1",
        "lon": 117.2381234,
        "lat": 39.1100987,
        "street_code": "120102002",
        "address": "大直沽中路\t12号\n院内\\东侧",
        "community": "文华里社区",
        "kind": "courtyard",
        "area_m2": 18.5,
        "person_name": "张某",
        "person_contact": "13800000000",
        "disposition": "demolish",
        "flag_central_inspection": False,
        "flag_hardship": True,
        "flag_renovation": False,
        "flag_obstruction": False,
        "committed_deadline": date(2026, 9, 30),
        "current_deadline": None,
        "status": "registered",
        "created_at": datetime(2025, 3, 1, 1, 2, 3, tzinfo=UTC),
        "source": "ledger",
        "note": "",
    }
    site.update(overrides)
    return site


def test_a_copied_site_reads_back_as_written(db_session) -> None:
    street_id = db_session.scalar(select(Street.id).where(Street.code == "120102002"))
    site = _generated_site()
    n = copy_rows(
        db_session, "sites", SITE_COLUMNS, [site_row(site, "120102", street_id, "copy-test")]
    )
    assert n == 1
    row = db_session.scalars(select(Site).where(Site.code == "COPY-1")).one()
    assert row.address == site["address"]  # tab, newline and backslash survive
    assert row.flag_hardship is True and row.current_deadline is None
    assert row.area_m2 == Decimal("18.50") and row.created_at == site["created_at"]
    assert row.created_by == row.updated_by == "copy-test" and row.version == 1
    # the point is bit-identical to ST_MakePoint of the same floats
    same = db_session.scalar(
        text(
            "SELECT ST_AsEWKB(geom) = ST_AsEWKB(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) "
            "FROM sites WHERE code = 'COPY-1'"
        ),
        {"lon": site["lon"], "lat": site["lat"]},
    )
    assert same is True


def test_a_bad_row_fails_the_whole_copy(db_session) -> None:
    street_id = db_session.scalar(select(Street.id).where(Street.code == "120102002"))
    rows = [
        site_row(_generated_site(code="COPY-A"), "120102", street_id, "t"),
        site_row(_generated_site(code="COPY-B", disposition="推倒"), "120102", street_id, "t"),
    ]
    nested = db_session.begin_nested()
    with pytest.raises(psycopg2.errors.CheckViolation, match="ck_sites_disposition"):
        copy_rows(db_session, "sites", SITE_COLUMNS, rows)
    nested.rollback()
    assert db_session.scalar(select(Site.id).where(Site.code == "COPY-A")) is None
