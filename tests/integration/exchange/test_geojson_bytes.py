"""The GeoJSON export over HTTP is, byte for byte, the feature texts PostgreSQL builds with COPY
(what bench/export_bench.py times as "PostgreSQL alone"), joined into one FeatureCollection,
also with the late steps' sites read first and put into the query as an array (issue 20)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from sqlalchemy import text

from gis_app.features.exchange import export as export_service
from gis_app.features.exchange.export import copy_stream
from gis_app.features.exchange.export.fields import fields_for
from gis_app.features.exchange.export.source import local_time, site_source
from gis_app.features.ledger.queries import SiteFilter, late_step_sites
from tests.support.exports import TODAY, load_sites

pytestmark = pytest.mark.slow


@pytest.fixture()
def sites(db_session) -> list[int]:
    load_sites(db_session, n=80)
    ids = db_session.execute(text("SELECT id FROM sites ORDER BY id")).scalars().all()
    # open steps past their due date on a few sites whose own deadline has not passed: only
    # the steps make them 逾期
    for site_id in ids[:5]:
        db_session.execute(
            text(
                "UPDATE sites SET status = 'in_progress', current_deadline = :later WHERE id = :id"
            ),
            {"id": site_id, "later": date(2026, 12, 31)},
        )
        db_session.execute(
            text(
                "INSERT INTO site_steps (district_code, site_id, position, title, due_date, "
                "evidence_note, created_by, created_at) SELECT district_code, id, 1, '拆除', "
                ":due, '', 'test', now() FROM sites WHERE id = :id"
            ),
            {"id": site_id, "due": date(2026, 6, 1)},
        )
    db_session.flush()
    return ids


def _postgres_alone(db_session, lang: str) -> bytes:
    """COPY of the feature texts with the overdue subquery, as the table owner sees them."""
    query = site_source(SiteFilter(), TODAY).features(fields_for("sites"), lang)
    local_time(db_session)
    sql = copy_stream.copy_sql(db_session, query)
    out = io.BytesIO()
    with db_session.connection().connection.dbapi_connection.cursor() as cur:
        cur.copy_expert(f"COPY ({sql}) TO STDOUT", out)
    return out.getvalue()


@pytest.mark.parametrize(("lang", "inline_max"), [("en", 200_000), ("zh", 200_000), ("en", 2)])
def test_http_body_is_postgres_bytes(
    office, db_session, sites, monkeypatch, lang, inline_max
) -> None:
    """Also with more late steps' sites than go into the query (then the subquery)."""
    monkeypatch.setattr(export_service, "LATE_SITES_INLINE_MAX", inline_max)
    statements: list[str] = []
    real_copy_sql = copy_stream.copy_sql

    def recording(session, query):
        statements.append(real_copy_sql(session, query))
        return statements[-1]

    late = set(late_step_sites(db_session, TODAY))
    assert set(sites[:5]) <= late
    features = _postgres_alone(db_session, lang)
    monkeypatch.setattr(copy_stream, "copy_sql", recording)
    response = office.get(f"/exports/sites.geojson?lang={lang}")
    assert response.status_code == 200
    body = response.get_data()
    head, rest = body.split(b"\n", 1)
    assert json.loads(head + b"]}")["type"] == "FeatureCollection"
    assert rest == features.rstrip(b"\n").replace(b"\n", b",\n") + b"\n]}\n"
    overdue = "逾期" if lang == "zh" else "overdue"
    by_id = {f["id"]: f["properties"] for f in json.loads(body)["features"]}
    assert len(by_id) == len(sites) == int(response.headers["X-Feature-Count"])
    assert all(by_id[i][overdue] is True for i in sites[:5])
    inlined = "= ANY (CAST(ARRAY[" in statements[-1]
    assert inlined == (len(late) <= inline_max), statements[-1][:2000]
    assert ("FROM site_steps" in statements[-1]) != inlined
