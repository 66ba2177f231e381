"""`gis-app load-demo`: the demo district (Hedong's streets, generated sites and history);
`gis-app demo-accounts`: its accounts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask import current_app

from gis_app.commandline import db_session, fail, say, with_app
from gis_app.core.errors import AppError
from gis_app.demo.accounts import DEMO_FILE, create_demo_accounts
from gis_app.demo.loader import load_demo
from gis_app.features.ledger.service import ledger_is_empty


def register(cli: click.Group) -> None:
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
        session = db_session()
        if if_empty and not ledger_is_empty(session):
            click.echo("台账已有数据，不载入示例数据", err=True)
            return
        ref: date | None = today.date() if today else None
        try:
            result = load_demo(
                session, n_sites=n_sites, seed=seed, today=ref, replace=replace, progress=say
            )
        except AppError as exc:
            fail(exc)
            return
        click.echo(json.dumps(result, ensure_ascii=False))

    @cli.command("demo-accounts")
    @click.option("--file", "path", type=click.Path(path_type=Path), default=None)
    @with_app
    def demo_accounts_cmd(path: Path | None) -> None:
        """Create the demo accounts that are missing (one per role, an officer and an inspector
        per street) with random passwords, keep them in DATA_DIR/demo-accounts.txt, print it."""
        target = path or Path(current_app.config["DATA_DIR"]) / DEMO_FILE
        created = create_demo_accounts(db_session(), target)
        if created:
            click.echo(f"[accounts] {created} demo account(s) created", err=True)
        if target.exists():
            click.echo(target.read_text())
        else:
            click.echo(
                "演示账户已存在，但密码文件不在："
                "请用 `gis-app users set-password 用户名` 重新设置密码。",
                err=True,
            )
