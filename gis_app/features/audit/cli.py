"""The audit trail on the command line: `gis-app audit verify` walks the hash chain."""

from __future__ import annotations

import json
import sys

import click

from gis_app.commandline import db_session, with_app


def register(cli: click.Group) -> None:
    @cli.group()
    def audit() -> None:
        """The audit trail (hash-chained, written by the database's triggers)."""

    @audit.command("verify")
    @with_app
    def audit_verify() -> None:
        """Walk the whole chain: every hash recomputed, no event changed, missing or added."""
        from gis_app.features.audit import service as audit_service

        def progress(n: int) -> None:
            click.echo(f"  已校验 {n} 条", err=True)

        report = audit_service.verify(db_session(), progress=progress)
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        if not report.ok:
            click.secho(f"审计链校验失败：{report.problems[0].message}", fg="red", err=True)
            sys.exit(1)
        click.echo(
            f"审计链完好：{report.checked} 条事件，链头第 {report.head_seq} 号 {report.head_hash}",
            err=True,
        )
