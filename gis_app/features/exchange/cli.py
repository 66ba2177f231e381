"""`gis-app export-geojson`, `gis-app export --format …` and `gis-app data-dictionary`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from werkzeug.datastructures import MultiDict

from gis_app.core.errors import AppError

if TYPE_CHECKING:
    from gis_app.core.actor import Actor
    from gis_app.features.exchange.export import ExportResult

FORMAT_CHOICES = ("geojson", "gpkg", "shp", "kml", "csv", "xlsx")


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The same filters as /api/v1/sites (repeat an option or separate values with commas)."""
    options = [
        click.option(
            "--layer",
            type=click.Choice(["sites", "streets"]),
            default="sites",
            show_default=True,
            help="sites (点位) or streets (街道边界)",
        ),
        click.option("--street", multiple=True, help="street code (9 or 12 digits)"),
        click.option("--status", multiple=True, help="status code or Chinese label"),
        click.option("--disposition", multiple=True),
        click.option("--kind", multiple=True),
        click.option("--source", multiple=True),
        click.option("--flag", multiple=True, help="sites with this flag (all given)"),
        click.option("--overdue/--not-overdue", default=None, help="only overdue / not overdue"),
        click.option("--bbox", help="minlon,minlat,maxlon,maxlat"),
        click.option("--q", help="text in the code or address"),
        click.option("--community"),
        click.option("--deadline-from", help="current deadline from (YYYY-MM-DD)"),
        click.option("--deadline-to", help="current deadline to (YYYY-MM-DD)"),
        click.option(
            "--lang",
            type=click.Choice(["en", "zh"]),
            default=None,
            help="field names, code values and field sheet: English codes or Chinese "
            "(default: GIS_APP_EXPORT_LANG, zh)",
        ),
        click.option(
            "--as-user",
            "as_user",
            default=None,
            help="export what this account may see (e.g. an agency's file): its street scope "
            "and the fields its role may filter on",
        ),
        click.option(
            "--personal",
            is_flag=True,
            help="full export with the person concerned (district office only)",
        ),
        click.option(
            "-o",
            "--out",
            "out",
            type=click.Path(path_type=Path),
            default=None,
            help="file to write ('-' for standard output; default: a name with the date)",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _args(params: dict[str, Any]) -> MultiDict:
    args: MultiDict = MultiDict()
    for name in ("street", "status", "disposition", "kind", "source", "flag"):
        for value in params.get(name) or ():
            args.add(name, value)
    if params.get("overdue") is not None:
        args.add("overdue", "true" if params["overdue"] else "false")
    for name in ("bbox", "q", "community", "deadline_from", "deadline_to"):
        if params.get(name):
            args.add(name, params[name])
    return args


def _actor(username: str | None) -> Actor | None:
    """The account a command acts for (`--as-user`), refused like its requests would be."""
    if not username:
        return None
    from gis_app.commandline import db_session
    from gis_app.features.accounts.service import actor_of, get_user

    return actor_of(get_user(db_session(), username))


class _Progress:
    """Features written so far, on stderr, at most about twice a second."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.5:
            return
        self.last = now
        share = f"（{done / total:.0%}）" if total else ""
        click.echo(f"  已导出 {done:,} / {total:,}{share}", err=True)


def run_export(fmt: str, params: dict[str, Any]) -> None:
    from gis_app.commandline import cli_actor, db_session, fail
    from gis_app.core import clock
    from gis_app.features.exchange.export import FORMATS, ExportSpec, export
    from gis_app.features.ledger.queries import SiteFilter

    out: Path | None = params.get("out")
    from flask import current_app

    lang = params["lang"] or current_app.config.get("EXPORT_LANG") or "zh"
    spec = ExportSpec(params["layer"], fmt, lang, params["personal"])
    if str(out) == "-" and not FORMATS[fmt].streamed and sys.stdout.isatty():
        # a binary file (GeoPackage, zipped Shapefile, .xlsx) goes to a pipe, not a terminal
        click.secho(
            f"错误：{fmt} 是二进制文件，不能输出到终端；请重定向（-o - > 文件）或用 -o 文件",
            fg="red",
            err=True,
        )
        sys.exit(1)
    progress = _Progress()
    try:
        flt = SiteFilter.from_args(_args(params))
        actor = _actor(params.get("as_user")) or cli_actor()
        result = export(db_session(), spec, flt, actor, clock.today(), progress=progress)
    except AppError as exc:
        fail(exc)
        return
    target = out or Path(result.filename)
    click.echo(f"导出 {result.count:,} 个要素（{fmt}）→ {target}", err=True)
    _write(result, target)
    click.echo(f"完成：{target}", err=True)


def _write(result: ExportResult, target: Path) -> None:
    """The export into the file (or to standard output for '-'); its temporary files go."""
    try:
        if str(target) == "-":
            for chunk in result.chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                for chunk in result.chunks:
                    fh.write(chunk)
    except OSError as exc:
        click.secho(f"错误：无法写入 {target}：{exc}", fg="red", err=True)
        sys.exit(1)
    finally:
        result.close()


def register(cli: click.Group) -> None:
    from gis_app.commandline import with_app

    @cli.command("export-geojson")
    @_filter_options
    @with_app
    def export_geojson(**params: Any) -> None:
        """Export sites (or --layer streets) as RFC 7946 GeoJSON, with the API's filters."""
        run_export("geojson", params)

    @cli.command("export")
    @click.option(
        "--format", "fmt", type=click.Choice(FORMAT_CHOICES), default="geojson", show_default=True
    )
    @_filter_options
    @with_app
    def export_any(fmt: str, **params: Any) -> None:
        """Export sites or streets as GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or .xlsx."""
        run_export(fmt, params)

    @cli.command("data-dictionary")
    @click.option(
        "-o",
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help="file to write ('-' or nothing: standard output)",
    )
    def data_dictionary(out: Path | None) -> None:
        """Write the data dictionary of the exports (docs/data-dictionary.md)."""
        from gis_app.features.exchange.export.dictionary import render

        text = render()
        if out is None or str(out) == "-":
            click.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            click.echo(f"写入 {out}", err=True)
