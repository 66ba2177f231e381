"""The `gis-app` command: database, imports, demo data, assets, serving."""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import current_app

from gis_app.actor import Actor
from gis_app.errors import AppError, ImportRejected


@click.group()
def cli() -> None:
    """违建治理一张图 — district ledger of illegal construction."""


def with_app(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command inside an app context (config, database session)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from gis_app import create_app
        from gis_app.db import DbScope, get_db

        given = (click.get_current_context().find_root().obj or {}).get("app")
        try:
            app = given or create_app({"DB_CONNECT_AS": "owner"})
        except RuntimeError as exc:
            click.secho(f"错误：{exc}", fg="red", err=True)
            sys.exit(1)
        with app.app_context():
            # commands act as the owner, as a district administrator (for RLS and the audit)
            actor = _actor()
            get_db().use_scope(DbScope(actor.role, "", actor.name))
            return func(*args, **kwargs)

    return wrapper


def main() -> None:
    cli.main(prog_name="gis-app")


def _actor() -> Actor:
    """Commands run by whoever holds the server: a district administrator."""
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    return Actor(f"cli:{user}", "district_admin")


def _session():  # noqa: ANN202
    from gis_app.db import session

    return session()


def _fail(exc: AppError) -> None:
    click.secho(f"错误：{exc.message}", fg="red", err=True)
    if isinstance(exc, ImportRejected):
        for err in exc.errors:
            field = f"[{err['field']}] " if err.get("field") else ""
            click.echo(f"  {field}{err['message']}", err=True)
        click.echo(f"共 {len(exc.errors)} 处错误；未写入任何数据。", err=True)
    elif exc.field:
        click.echo(f"  相关字段：{exc.field}", err=True)
    sys.exit(1)


def _say(message: str) -> None:
    click.echo(message, err=True)


# ---------------------------------------------------------------- database


@cli.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_app
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema (or REVISION)."""
    from gis_app import db as dbmod

    dbmod.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}", err=True)


@db.command("downgrade")
@click.argument("revision")
@with_app
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION ('base' drops every table of the app)."""
    from gis_app import db as dbmod

    dbmod.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}", err=True)


@db.command("current")
@with_app
def db_current() -> None:
    """Show the schema revision of the database."""
    from alembic import command

    from gis_app import db as dbmod

    command.current(dbmod.alembic_config(current_app.config["DATABASE_URL"]))


# ---------------------------------------------------------------- imports


@cli.command("import-streets")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--approximate", is_flag=True, help="mark the polygons as approximate")
@click.option("--source", default="", help="where the boundaries come from (attribution)")
@with_app
def import_streets_cmd(file: Path, approximate: bool, source: str) -> None:
    """Import street boundaries from GeoJSON, GeoPackage or a zipped Shapefile."""
    from gis_app.services.streets import import_streets

    try:
        report = import_streets(
            _session(), file, approximate=approximate, source=source or file.name, progress=_say
        )
    except AppError as exc:
        _fail(exc)
        return
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False))


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
    from gis_app.services.site_import import import_sites

    if not file.is_file():
        click.secho(f"错误：文件不存在：{file}", fg="red", err=True)
        sys.exit(1)
    try:
        report = import_sites(
            _session(),
            file.read_bytes(),
            file.name,
            _actor(),
            crs=crs,
            dry_run=dry_run,
            progress=_say,
        )
    except AppError as exc:
        _fail(exc)
        return
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False))


@cli.command("load-demo")
@click.option("--sites", "n_sites", default=1500, show_default=True, type=int)
@click.option("--seed", default=20210222, show_default=True, type=int)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="reference date the deadlines are set around (default: today)",
)
@click.option("--if-empty", is_flag=True, help="do nothing when the ledger has streets already")
@click.option("--replace", is_flag=True, help="delete every site first (demo databases only)")
@with_app
def load_demo_cmd(n_sites: int, seed: int, today, if_empty: bool, replace: bool) -> None:  # noqa: ANN001
    """Build the demo district: Hedong's 12 streets (approximate) and N sites."""
    from gis_app.services.demo import load_demo
    from gis_app.services.sites import ledger_is_empty

    session = _session()
    if if_empty and not ledger_is_empty(session):
        click.echo("台账已有数据，不载入示例数据", err=True)
        return
    ref: date | None = today.date() if today else None
    try:
        result = load_demo(
            session, n_sites=n_sites, seed=seed, today=ref, replace=replace, progress=_say
        )
    except AppError as exc:
        _fail(exc)
        return
    click.echo(json.dumps(result, ensure_ascii=False))


# ---------------------------------------------------------------- assets and serving


@cli.group()
def assets() -> None:
    """Browser assets served by the app itself (no CDN)."""


@assets.command("fetch")
def assets_fetch() -> None:
    """Download the pinned Leaflet files from the npm registry into static/vendor."""
    from gis_app import assets as assets_mod

    try:
        n = assets_mod.fetch_all(echo=_say)
    except (OSError, RuntimeError) as exc:
        click.secho(
            f"错误：浏览器资源下载失败：{exc}；请检查到 npm 源的网络（可用 NPM_REGISTRY 指定镜像）",
            fg="red",
            err=True,
        )
        sys.exit(1)
    click.echo(f"[assets] {n} package(s) fetched, all in place", err=True)


@cli.command("serve")
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port",
    default=lambda: int(os.environ.get("PORT", "5000")),
    type=int,
    show_default="5000 or $PORT",
)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    args = [
        str(gunicorn),
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--bind",
        f"{host}:{port}",
        "--access-logfile",
        "-",
        "--timeout",
        "120",
        "gis_app.wsgi:app",
    ]
    os.execv(args[0], args)


# feature areas add their commands in modules of their own, each with `register(cli)`
COMMAND_MODULES: tuple[str, ...] = (
    "gis_app.commands.workflow",
    "gis_app.commands.exports",
    "gis_app.commands.sampling",
    "gis_app.commands.accounts",
    "gis_app.commands.backup",
    "gis_app.commands.patrols",
    "gis_app.commands.roads",
)


def _register_feature_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(cli)


_register_feature_commands()
