"""`gis-app basemap import FILE` (an MBTiles or PMTiles basemap for intranets, raster or
vector) and `gis-app basemap show`."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from flask import current_app

from gis_app.core import basemap
from gis_app.core.errors import AppError


def basemap_root() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "basemap"


def register(cli: click.Group) -> None:
    from gis_app.commandline import fail, with_app

    @cli.group("basemap")
    def group() -> None:
        """The offline basemap served by the app (MBTiles or PMTiles)."""

    @group.command("import")
    @click.argument("file", type=click.Path(path_type=Path))
    @with_app
    def import_(file: Path) -> None:
        """Import FILE (MBTiles or PMTiles v3; PNG, JPEG, WebP or vector tiles), replacing the
        basemap there was."""
        try:
            info = basemap.import_file(file, basemap_root())
        except AppError as exc:
            fail(exc)
        kind = "矢量" if info.kind == "vector" else "栅格"
        click.echo(
            f"已导入底图「{info.name}」：{kind}瓦片 {info.tiles} 张（{info.format}），"
            f"缩放级别 {info.minzoom}–{info.maxzoom}"
        )

    @group.command("show")
    @with_app
    def show() -> None:
        """Print the imported basemap's description (JSON)."""
        info = basemap.current(basemap_root())
        click.echo(json.dumps(asdict(info) if info else None, ensure_ascii=False, indent=2))
