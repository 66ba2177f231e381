"""`gis-app import-streets FILE`: street boundaries from GeoJSON, GeoPackage or a Shapefile."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gis_app.commandline import db_session, fail, say, with_app
from gis_app.core.errors import AppError
from gis_app.features.streets.service import import_streets


def register(cli: click.Group) -> None:
    @cli.command("import-streets")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--approximate", is_flag=True, help="mark the polygons as approximate")
    @click.option("--source", default="", help="where the boundaries come from (attribution)")
    @with_app
    def import_streets_cmd(file: Path, approximate: bool, source: str) -> None:
        """Import street boundaries from GeoJSON, GeoPackage or a zipped Shapefile."""
        try:
            report = import_streets(
                db_session(),
                file,
                approximate=approximate,
                source=source or file.name,
                progress=say,
            )
        except AppError as exc:
            fail(exc)
            return
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
