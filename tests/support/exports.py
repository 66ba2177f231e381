"""Helpers for the export and OGC API tests: demo sites, and GDAL (ogr2ogr) as the reader."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.demo.loader import load_demo
from gis_app.features.exchange.export.fields import ExportField

TODAY = date(2026, 6, 15)


def load_sites(session: Session, n: int = 60, seed: int = 5) -> None:
    """Demo sites, plus what the generator never makes: an extension and a patrol site."""
    load_demo(session, n_sites=n, seed=seed, today=TODAY)
    session.execute(
        text(
            "UPDATE sites SET current_deadline = committed_deadline + 30 "
            "WHERE id IN (SELECT id FROM sites WHERE committed_deadline IS NOT NULL "
            "ORDER BY id LIMIT 3)"
        )
    )
    session.execute(
        text(
            "UPDATE sites SET source = 'patrol', status = 'new' "
            "WHERE id = (SELECT max(id) FROM sites)"
        )
    )
    session.commit()


def ogr_read(
    path: Path | str, *options: str, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The features of a file (or an OAPIF server) as GDAL (Debian's ogr2ogr) reads them, as
    GeoJSON dicts; `env` for GDAL's configuration (GDAL_HTTP_HEADERS with a token)."""
    result = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path), *options],
        capture_output=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout)["features"]


def _instant(value: Any) -> datetime:
    text_value = str(value).replace("/", "-").replace(" ", "T").replace("Z", "+00:00")
    moment = datetime.fromisoformat(text_value)
    if moment.tzinfo is None:  # .xlsx cells are Beijing time
        moment = moment.replace(tzinfo=clock.LOCAL_TZ)
    return moment.astimezone(UTC)


def normalise(f: ExportField, value: Any) -> Any:
    """A value as the field's type means it, whatever the format made of it."""
    if value is None or value == "":
        return None
    if f.type == "boolean":
        return value in (True, 1, "1", "true", "True", "T", "是")
    if f.type == "integer":
        return int(float(value))
    if f.type == "number":
        return round(float(value), 2)
    if f.type == "date":
        return str(value)[:10].replace("/", "-")
    if f.type == "datetime":
        return _instant(value)
    return str(value)
