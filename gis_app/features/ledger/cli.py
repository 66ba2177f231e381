"""`gis-app import-sites FILE [--crs] [--dry-run]`: a street's ledger, all rows or none."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app

from gis_app.commandline import cli_actor, db_session, fail, say, with_app
from gis_app.core.errors import AppError
from gis_app.features.ledger.importer import import_sites


def register(cli: click.Group) -> None:
    @cli.command("import-sites")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option(
        "--crs",
        type=click.Choice(["wgs84", "cgcs2000", "gcj02"]),
        default="wgs84",
        show_default=True,
        help="coordinate system of the file (gcj02 is converted)",
    )
    @click.option("--dry-run", is_flag=True, help="check the file, write nothing")
    @with_app
    def import_sites_cmd(file: Path, crs: str, dry_run: bool) -> None:
        """Import a ledger (CSV in UTF-8 or GBK, .xlsx, GeoJSON): all rows or none."""
        if not file.is_file():
            click.secho(f"错误：文件不存在：{file}", fg="red", err=True)
            sys.exit(1)
        try:
            report = import_sites(
                db_session(),
                file.read_bytes(),
                file.name,
                cli_actor(),
                crs=crs,
                dry_run=dry_run,
                progress=say,
                synonyms=current_app.config.get("KIND_SYNONYMS"),
            )
        except AppError as exc:
            fail(exc)
            return
        for warning in report.warnings:
            click.echo(f"  提示：{warning}", err=True)
        if dry_run:
            click.echo(f"检查通过（--dry-run）：{report.rows} 行均可导入，未写入任何数据", err=True)
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
