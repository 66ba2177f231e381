"""What the features' commands share: the app context a command runs in (one transaction,
committed when the command succeeds), the acting user, progress and error output."""

from __future__ import annotations

import functools
import getpass
import sys
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.core.database import DbScope
from gis_app.core.errors import AppError, ImportRejected
from gis_app.http.database import get_db
from gis_app.http.database import session as request_session


def with_app(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command inside an app context (settings, database session), acting as a
    district administrator. The root group puts the app (or its factory) in `ctx.obj`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        obj = click.get_current_context().find_root().obj or {}
        try:
            app = obj.get("app") or obj["app_factory"]({"DB_CONNECT_AS": "owner"})
        except RuntimeError as exc:
            click.secho(f"错误：{exc}", fg="red", err=True)
            sys.exit(1)
        with app.app_context():
            # commands act as the owner, as a district administrator (for RLS and the audit)
            actor = cli_actor()
            get_db().use_scope(DbScope(actor.role, "", actor.name))
            try:
                result = func(*args, **kwargs)
            except BaseException:
                request_session().rollback()
                raise
            request_session().commit()  # the one place a command's work is committed
            return result

    return wrapper


def cli_actor() -> Actor:
    """Commands run by whoever holds the server: a district administrator."""
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    return Actor(f"cli:{user}", "district_admin")


def db_session() -> Session:
    """The session of the running command."""
    return request_session()


def fail(exc: AppError) -> None:
    """Print a refusal (every bad row of an import) and exit with status 1."""
    click.secho(f"错误：{exc.message}", fg="red", err=True)
    if isinstance(exc, ImportRejected):
        for err in exc.errors:
            field = f"[{err['field']}] " if err.get("field") else ""
            click.echo(f"  {field}{err['message']}", err=True)
        for warning in exc.details.get("warnings") or ():
            click.echo(f"  提示：{warning}", err=True)
        click.echo(f"共 {len(exc.errors)} 处错误；未写入任何数据。", err=True)
    elif exc.field:
        click.echo(f"  相关字段：{exc.field}", err=True)
    sys.exit(1)


def say(message: str) -> None:
    """Progress on standard error (standard output carries the command's result)."""
    click.echo(message, err=True)
