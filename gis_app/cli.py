"""The `gis-app` command: the root group with the database, asset and serving commands; each
feature adds its own (`gis_app.features.<feature>.cli.register`)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click
from alembic import command
from flask import current_app

from gis_app import create_app
from gis_app.commandline import say, with_app
from gis_app.core import assets as assets_mod
from gis_app.core import database as dbmod
from gis_app.features import FEATURES
from gis_app.settings import Settings, SettingsError, effective, load_settings, reference


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """违建治理一张图 — district ledger of illegal construction."""
    ctx.ensure_object(dict).setdefault("app_factory", create_app)


def main() -> None:
    """The `gis-app` entry point: a bad setting stops any command with its message, no
    traceback (the commands that start the app report it themselves: `with_app`)."""
    try:
        cli.main(prog_name="gis-app")
    except SettingsError as exc:
        click.secho(f"错误：{exc}", fg="red", err=True)
        sys.exit(1)


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.secho(f"错误：{exc}", fg="red", err=True)
        sys.exit(1)


# ---------------------------------------------------------------- database


@cli.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_app
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema (or REVISION)."""
    dbmod.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}", err=True)


@db.command("downgrade")
@click.argument("revision")
@with_app
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION ('base' drops every table of the app)."""
    dbmod.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}", err=True)


@db.command("current")
@with_app
def db_current() -> None:
    """Show the schema revision of the database."""
    command.current(dbmod.alembic_config(current_app.config["DATABASE_URL"]))


# ---------------------------------------------------------------- settings


@cli.group("settings")
def settings_group() -> None:
    """The environment variables the app reads (gis_app/settings.py)."""


@settings_group.command("doc")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="file to write (default: standard output)",
)
def settings_doc(out: Path | None) -> None:
    """Print the configuration reference (docs/operations/configuration.md)."""
    text = reference()
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}", err=True)


@settings_group.command("check")
def settings_check() -> None:
    """Validate the environment and print the effective values (secrets masked)."""
    settings = _settings_or_exit()
    lines = effective(settings)
    width = max(len(line) for line, _ in lines)
    for line, origin in lines:
        click.echo(f"{line.ljust(width)}  # {origin}")
    click.echo(f"settings valid ({len(lines)} variables)", err=True)


# ---------------------------------------------------------------- assets and serving


@cli.group()
def assets() -> None:
    """Browser assets served by the app itself (no CDN)."""


@assets.command("fetch")
def assets_fetch() -> None:
    """Download the pinned Leaflet files from the npm registry into static/vendor."""
    try:
        n = assets_mod.fetch_all(_settings_or_exit().serving.npm_registry, echo=say)
    except (OSError, RuntimeError) as exc:
        click.secho(
            f"错误：浏览器资源下载失败：{exc}；请检查到 npm 源的网络（可用 NPM_REGISTRY 指定镜像）",
            fg="red",
            err=True,
        )
        sys.exit(1)
    click.echo(f"[assets] {n} package(s) fetched, all in place", err=True)


@cli.command("serve")
@click.option("--host", default=None, help="address to listen on  [default: $HOST or 127.0.0.1]")
@click.option("--port", default=None, type=int, help="port  [default: $PORT or 5000]")
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the app with gunicorn (the settings are checked first)."""
    settings = _settings_or_exit()
    host = host or settings.serving.host
    port = port or settings.serving.port
    gunicorn = Path(sys.executable).with_name("gunicorn")
    args = [
        str(gunicorn),
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--bind",
        f"{host}:{port}",
        "--timeout",
        "120",
        "gis_app.wsgi:app",
    ]
    if settings.operations.log_format == "text":  # json: the app logs each request itself
        args[-1:-1] = ["--access-logfile", "-"]
    os.execv(args[0], args)


def _register_feature_commands() -> None:
    """Each feature's `cli` module (where it has one) adds its commands; then the demo's."""
    for name in FEATURES:
        try:
            module = importlib.import_module(f"gis_app.features.{name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"gis_app.features.{name}.cli":
                raise
            continue
        module.register(cli)
    importlib.import_module("gis_app.demo.cli").register(cli)


_register_feature_commands()
