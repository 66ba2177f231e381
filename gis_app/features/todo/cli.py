"""`gis-app digest send` (deliver what the outbox holds), and the digest step of
`gis-app daily`: after the day's checks are committed, each user's to-do list is queued and
delivered (GIS_APP_DIGEST_DIR, GIS_APP_DIGEST_WEBHOOK_URL)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click
from flask import current_app, url_for


def _config() -> Any:
    from gis_app.features.todo.digest import DigestConfig

    cfg = current_app.config
    return DigestConfig(
        folder=cfg["DIGEST_DIR"],
        webhook_url=cfg["DIGEST_WEBHOOK_URL"],
        webhook_format=cfg["DIGEST_WEBHOOK_FORMAT"],
        timeout_seconds=cfg["DIGEST_TIMEOUT_SECONDS"],
    )


def run_digest(day: date) -> dict[str, int]:
    """Queue the day's digests and deliver the pending ones (inside a command's app context)."""
    from gis_app.commandline import db_session
    from gis_app.features.todo.digest import deliver, queue

    config = _config()
    with current_app.test_request_context():  # the items' links (paths of this app)
        queued = queue(
            db_session(),
            current_app.config["DISTRICT_CODE"],
            day,
            config,
            lambda item: url_for(item["endpoint"], **item["args"]),
        )
    return {"queued": queued, **deliver(db_session(), config)}


def register(cli: click.Group) -> None:
    from gis_app.commandline import db_session, with_app

    @cli.group("digest")
    def digest() -> None:
        """The daily digest of the to-do lists (outbox)."""

    @digest.command("send")
    @with_app
    def send() -> None:
        """Deliver the digests still pending (a receiver was down or slow before)."""
        from gis_app.features.todo.digest import deliver

        result = deliver(db_session(), _config())
        click.echo(f"待办推送：已送达 {result['sent']}，失败 {result['failed']}，"
                   f"待下次 {result['left']}", err=True)  # fmt: skip

    daily = cli.commands.get("daily")
    if daily is None or daily.callback is None:
        return
    checks = daily.callback

    @with_app
    def digest_step(today: datetime | None) -> None:
        from gis_app.core import clock

        result = run_digest(today.date() if today else clock.today())
        click.echo(
            f"  待办推送：新排队 {result['queued']}，已送达 {result['sent']}，"
            f"失败 {result['failed']}，待下次 {result['left']}",
            err=True,
        )

    def daily_with_digest(**kwargs: Any) -> None:
        checks(**kwargs)  # committed before the digest: a receiver's trouble cannot undo it
        digest_step(**kwargs)

    daily.callback = daily_with_digest
