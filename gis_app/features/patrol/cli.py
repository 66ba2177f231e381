"""`gis-app patrol office …` (where a street's patrols start), `gis-app patrol coverage`, and
`gis-app import-roads FILE [--replace]` (the road network patrol routes follow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import current_app

from gis_app.core.errors import AppError


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def register(cli: click.Group) -> None:
    _register_patrol(cli)
    _register_import_roads(cli)


def _register_patrol(cli: click.Group) -> None:
    """`gis-app patrol office` and `gis-app patrol coverage`."""
    from gis_app.commandline import cli_actor, db_session, fail, with_app

    @cli.group("patrol")
    def patrol() -> None:
        """Patrols (巡查): street offices, coverage."""

    @patrol.command("office")
    @click.argument("street")
    @click.argument("lon", type=float)
    @click.argument("lat", type=float)
    @click.option("--address", default="", help="the office's address, shown on patrol sheets")
    @with_app
    def office(street: str, lon: float, lat: float, address: str) -> None:
        """Set STREET's office point (LON LAT, WGS84): its patrols start there by default."""
        from gis_app.features.patrol.plans import office_dict, set_street_office

        try:
            result = set_street_office(
                db_session(), street, lon, lat, address, current_app.config["DISTRICT_CODE"]
            )
        except AppError as exc:
            fail(exc)
            return
        _json(office_dict(result))

    @patrol.command("coverage")
    @click.option("--week", help="ISO week, e.g. 2026-W24 (default: this week)")
    @click.option("--days", default=7, show_default=True, type=int, help="stale after N days")
    @with_app
    def coverage_cmd(week: str | None, days: int) -> None:
        """Per street: share of open sites visited in the week; streets not patrolled lately."""
        from gis_app.features.patrol import coverage

        district = current_app.config["DISTRICT_CODE"]
        try:
            monday = coverage.parse_week(week)
            days = coverage.parse_days(days)
            doc = coverage.weekly_coverage(db_session(), cli_actor(), district, monday)
            doc["stale"] = coverage.stale_streets(db_session(), cli_actor(), district, days)
        except AppError as exc:
            fail(exc)
            return
        _json(doc)


def _register_import_roads(cli: click.Group) -> None:
    """`gis-app import-roads FILE`."""
    from gis_app.commandline import db_session, fail, say, with_app

    @cli.command("import-roads")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--replace", is_flag=True, help="replace the district's imported roads")
    @click.option("--district", default=None, help="district code (default: GIS_APP_DISTRICT_CODE)")
    @click.option("--source", default="", help="where the lines come from (attribution)")
    @with_app
    def import_roads_cmd(file: Path, replace: bool, district: str | None, source: str) -> None:
        """Import road lines (GeoJSON, GeoPackage; any CRS): all lines or none."""
        from gis_app.features.patrol.roads_import import import_roads

        code = district or str(current_app.config["DISTRICT_CODE"])
        try:
            report = import_roads(
                db_session(), file, code, replace=replace, source=source, progress=say
            )
        except AppError as exc:
            fail(exc)
            return
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
