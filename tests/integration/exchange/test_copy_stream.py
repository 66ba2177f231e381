"""The GeoJSON export read through COPY: the same bytes as through a named cursor, text of
any kind kept exactly, and a reader that stops early leaves a usable session."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from sqlalchemy import text

from gis_app.features.exchange.export import copy_stream
from gis_app.features.exchange.export.fields import fields_for
from gis_app.features.exchange.export.geojson import geojson_chunks
from gis_app.features.exchange.export.source import iter_batches, site_source
from gis_app.features.ledger.queries import SiteFilter
from tests.support.workflow import make_site

TODAY = date(2026, 6, 15)
AWKWARD = 'line\nbreak \\ back "quote" \x01\x02 tab\t逗号,分号;' + "长" * 40


def _export(session, flt: SiteFilter | None = None) -> bytes:
    src = site_source(flt or SiteFilter(), TODAY)
    return b"".join(geojson_chunks(session, src, fields_for("sites"), "zh"))


def _through_a_cursor(session, flt: SiteFilter | None = None) -> list[dict]:
    """The same features read row by row through a named cursor: the reference."""
    query = site_source(flt or SiteFilter(), TODAY).features(fields_for("sites"), "zh")
    return [json.loads(row[0]) for batch in iter_batches(session, query) for row in batch]


def _strip_time(body: bytes) -> dict:
    doc = json.loads(body)
    doc.pop("timeStamp")
    return doc


@pytest.fixture()
def sites(db_session):
    made = [make_site(db_session, address=f"{AWKWARD} {i}", status="registered") for i in range(3)]
    db_session.flush()
    return made


def test_copy_and_cursor_give_the_same_features(db_session, sites) -> None:
    by_copy = _strip_time(_export(db_session))
    assert by_copy["features"] == _through_a_cursor(db_session)
    ours = {s.id for s in sites}
    addresses = {f["properties"]["地址"] for f in by_copy["features"] if f["id"] in ours}
    assert addresses == {f"{AWKWARD} {i}" for i in range(3)}


def test_filters_with_lists_reach_the_copy(db_session, sites) -> None:
    flt = SiteFilter(statuses=["registered"])
    by_copy = _strip_time(_export(db_session, flt))
    assert by_copy["features"] == _through_a_cursor(db_session, flt) and by_copy["features"]
    assert {f["properties"]["状态"] for f in by_copy["features"]} == {"已建档"}


def test_a_reader_that_stops_early_leaves_a_usable_session(db_session, monkeypatch) -> None:
    for i in range(40):
        make_site(db_session, address="甲" * 190 + str(i))
    db_session.flush()
    monkeypatch.setattr(copy_stream, "CHUNK_BYTES", 4096)  # many chunks for 40 sites
    src = site_source(SiteFilter(), TODAY)
    chunks = geojson_chunks(db_session, src, fields_for("sites"), "zh")
    next(chunks)
    next(chunks)
    chunks.close()  # the client hung up
    running = [t for t in threading.enumerate() if t.name == "copy-stream" and t.is_alive()]
    assert running == []  # the COPY's thread has ended
    assert db_session.execute(text("SELECT 1")).scalar_one() == 1


def test_small_chunks_keep_whole_features(db_session, monkeypatch, sites) -> None:
    """Chunks end between rows (libpq hands COPY data over one row at a time), so features
    are never cut: with chunks of a few kilobytes the export is the same."""
    for i in range(30):
        make_site(db_session, address="乙" * 150 + str(i))
    db_session.flush()
    monkeypatch.setattr(copy_stream, "CHUNK_BYTES", 1000)
    by_copy = _strip_time(_export(db_session))
    assert by_copy["features"] == _through_a_cursor(db_session)
    assert len(by_copy["features"]) >= 33
