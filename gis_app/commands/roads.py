"""`gis-app import-roads FILE [--replace]`: the road network patrol routes follow."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from gis_app.errors import AppError


def register(cli: click.Group) -> None:
    from gis_app.cli import _fail, _say, _session, with_app

    @cli.command("import-roads")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--replace", is_flag=True, help="replace the district's imported roads")
    @click.option("--district", default=None, help="district code (default: GIS_APP_DISTRICT_CODE)")
    @click.option("--source", default="", help="where the lines come from (attribution)")
    @with_app
    def import_roads_cmd(file: Path, replace: bool, district: str | None, source: str) -> None:
        """Import road lines (GeoJSON, GeoPackage; any CRS): all lines or none."""
        from gis_app.services.patrol.roads_import import import_roads

        code = district or str(current_app.config["DISTRICT_CODE"])
        try:
            report = import_roads(
                _session(), file, code, replace=replace, source=source, progress=_say
            )
        except AppError as exc:
            _fail(exc)
            return
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
