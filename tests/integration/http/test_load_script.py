"""The load test's script works: every locust task of bench/locustfile.py once against a served
app, with no failure. Not a timed test (bench/load_bench.py measures); it only makes sure a
broken load script fails here rather than in the middle of a five-minute run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_app.features.ledger.models import Site
from gis_app.features.photos.models import Photo
from gis_app.features.streets.models import Street
from tests.support.accounts import PASSWORD, Accounts
from tests.support.exports import load_sites
from tests.support.live import serve_app

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def test_every_locust_task_runs_once_without_failure(
    database_url, engine, demo_streets, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("GIS_APP_PHOTO_DIR", str(tmp_path / "photos"))
    monkeypatch.setenv("GIS_APP_COOKIE_SECURE", "0")  # plain http on 127.0.0.1, as the bench
    with Session(engine) as session, session.begin():
        load_sites(session, n=40, seed=11)
    with engine.begin() as conn:
        accounts = Accounts(conn)
        token = accounts.token("load.office", "district_officer")
        street = conn.execute(
            select(Street.code)
            .join(Site, Site.street_id == Street.id)
            .group_by(Street.code)
            .order_by(text("count(*) DESC"))
            .limit(1)
        ).scalar_one()
        accounts.user("load.street", "street_officer", street)
        ids = conn.execute(select(Site.id).order_by(Site.id)).scalars().all()
        in_street = select(Site.id).join(Street, Site.street_id == Street.id)
        street_ids = conn.execute(in_street.where(Street.code == street)).scalars().all()
        extent = conn.execute(
            text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                 "(SELECT ST_Extent(geom) AS e FROM sites) x")
        ).one()  # fmt: skip
    cfg = tmp_path / "load.json"
    cfg.write_text(
        json.dumps(
            {
                "token": token,
                # the street office logs in: its uploads and pages go through its own street
                "logins": [{"username": "load.street", "password": PASSWORD, "street": street}],
                "site_ids": ids,
                "street_sites": {street: street_ids},
                "extent": list(extent),
            }
        )
    )
    with serve_app(database_url, engine) as url:
        result = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "locustfile.py"), "--check", url],
            env={**os.environ, "GIS_LOAD_CONFIG": str(cfg)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout.strip().splitlines()[-1])
        with engine.connect() as conn:
            uploaded = conn.execute(select(Photo.site_id)).scalars().all()
    assert report["failures"] == []
    done = set(report["requests"])
    for expected in (
        "GET /map",
        "GET /sites/{id}",
        "GET /api/v1/sites?limit=100",
        "GET /api/v1/sites?bbox=",
        "GET /api/v1/sites/{id}",
        "GET /api/v1/exports/sites.geojson?street=",
        "POST /login",
        "POST /api/v1/sites/{id}/photos",
    ):
        assert expected in done, expected
    # two uploads really stored (the token's and the logged-in street office's, with CSRF)
    assert len(uploaded) == 2 and set(uploaded) <= set(ids)
    assert any(site in street_ids for site in uploaded)
