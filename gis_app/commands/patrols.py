"""`gis-app patrol office …` (where a street's patrols start) and `gis-app patrol coverage`."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app

from gis_app.errors import AppError


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def register(cli: click.Group) -> None:
    from gis_app.cli import _actor, _fail, _session, with_app

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
        from gis_app.services.patrol.plans import office_dict, set_street_office

        try:
            result = set_street_office(
                _session(), street, lon, lat, address, current_app.config["DISTRICT_CODE"]
            )
        except AppError as exc:
            _fail(exc)
            return
        _json(office_dict(result))

    @patrol.command("coverage")
    @click.option("--week", help="ISO week, e.g. 2026-W24 (default: this week)")
    @click.option("--days", default=7, show_default=True, type=int, help="stale after N days")
    @with_app
    def coverage_cmd(week: str | None, days: int) -> None:
        """Per street: share of open sites visited in the week; streets not patrolled lately."""
        from gis_app.services.patrol import coverage

        district = current_app.config["DISTRICT_CODE"]
        try:
            monday = coverage.parse_week(week)
            days = coverage.parse_days(days)
            doc = coverage.weekly_coverage(_session(), _actor(), district, monday)
            doc["stale"] = coverage.stale_streets(_session(), _actor(), district, days)
        except AppError as exc:
            _fail(exc)
            return
        _json(doc)
