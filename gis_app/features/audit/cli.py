"""The audit trail on the command line: `gis-app audit verify` walks the hash chain."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from gis_app.commandline import db_session, with_app


def _anchor(head: str | None) -> Any:
    """The head to check against: given, else the last one of the anchors file."""
    from flask import current_app

    from gis_app.features.audit import service as audit_service

    if head:
        return audit_service.Anchor.parse(head)
    path = Path(current_app.config["AUDIT_HEAD_FILE"])
    key = audit_service.anchor_key(current_app.config["SECRET_KEY"])
    anchors = audit_service.read_anchors(path, key)
    return anchors[-1][1] if anchors else None


def register(cli: click.Group) -> None:
    @cli.group()
    def audit() -> None:
        """The audit trail (hash-chained, written by the database's triggers)."""

    @audit.command("verify")
    @click.option(
        "--head",
        default=None,
        help="a head recorded earlier (HASH or SEQ:HASH); default: the last line of "
        "GIS_APP_AUDIT_HEAD_FILE, if any",
    )
    @click.option(
        "--rows",
        is_flag=True,
        help="also look for rows whose last change has no audit event (triggers bypassed)",
    )
    @with_app
    def audit_verify(head: str | None, rows: bool) -> None:
        """Walk the whole chain: every hash recomputed, no event changed, missing or added,
        and the head recorded outside the database still in it."""
        from gis_app.features.audit import service as audit_service

        def progress(n: int) -> None:
            click.echo(f"  已校验 {n} 条", err=True)

        try:
            anchor = _anchor(head)
        except ValueError as exc:
            click.secho(f"错误：{exc}", fg="red", err=True)
            sys.exit(1)
        if anchor is not None:
            click.echo(f"  对照链头：第 {anchor.seq} 号 {anchor.hash}", err=True)
        report = audit_service.verify(db_session(), progress=progress, anchor=anchor)
        if rows and report.ok:
            report.problems += audit_service.unaudited_rows(db_session())
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        if not report.ok:
            click.secho(f"审计链校验失败：{report.problems[0].message}", fg="red", err=True)
            sys.exit(1)
        click.echo(
            f"审计链完好：{report.checked} 条事件，链头第 {report.head_seq} 号 {report.head_hash}",
            err=True,
        )
