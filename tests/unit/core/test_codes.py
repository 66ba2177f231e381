"""The code lists of gis_app.core.codes and the CHECK constraints of the schema agree."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gis_app.core import codes

CHECKS = {
    "ck_sites_status": codes.STATUSES,
    "ck_sites_disposition": codes.DISPOSITIONS,
    "ck_sites_kind": codes.KINDS,
    "ck_sites_source": codes.SOURCES,
    "ck_photos_kind": codes.PHOTO_KINDS,
    "ck_extension_requests_status": codes.EXTENSION_STATUSES,
    "ck_monthly_reports_status": codes.REPORT_STATUSES,
}


@pytest.mark.parametrize("constraint", sorted(CHECKS))
def test_check_constraint_matches_code_list(engine, constraint: str) -> None:
    with engine.connect() as conn:
        definition = conn.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
            {"n": constraint},
        ).scalar_one()
    values = set(re.findall(r"'([a-z_]+)'::", definition))
    assert values == set(CHECKS[constraint])


def test_lookup_accepts_code_label_and_alias() -> None:
    assert codes.lookup(codes.DISPOSITIONS, "拆除") == "demolish"
    assert codes.lookup(codes.DISPOSITIONS, " Rectify ") == "rectify"
    assert codes.lookup(codes.DISPOSITIONS, "规范整治") == "rectify"
    assert codes.lookup(codes.DISPOSITIONS, "推倒") is None
    assert codes.lookup(codes.STATUSES, "已销账") == "closed"
