"""`gis-app daily` (the cron job of the rectification workflow) and `gis-app campaign`."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask import current_app


def register(cli: click.Group) -> None:
    from gis_app.commandline import cli_actor, db_session, with_app

    @cli.command("daily")
    @click.option(
        "--today",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="the day to check (default: today in Asia/Shanghai)",
    )
    @with_app
    def daily(today: datetime | None) -> None:
        """Record sites that became overdue; list deadlines within 7 days and reports due.

        Safe to run more than once a day: a second run records nothing new.
        """
        from gis_app.core import clock
        from gis_app.features.reporting.reminders import run_daily

        day = today.date() if today else clock.today()
        actor = cli_actor()
        # the audit chain's head, anchored outside the database (gis-app audit verify)
        from pathlib import Path

        from gis_app.features.audit import service as audit_service

        anchor = audit_service.append_anchor(
            db_session(),
            Path(current_app.config["AUDIT_HEAD_FILE"]),
            audit_service.anchor_key(current_app.config["SECRET_KEY"]),
        )
        click.echo(
            f"  审计链头已记入 {current_app.config['AUDIT_HEAD_FILE']}：第 {anchor.seq} 号",
            err=True,
        )
        result = run_daily(db_session(), current_app.config["DISTRICT_CODE"], day, actor)
        # the map tiles' version log keeps the newest row of each square (migration 0081)
        from sqlalchemy import text

        db_session().execute(text("SELECT public.compact_tile_versions()"))
        # ... which, like the new day, leaves the map's cell counts to count again (maps.cells)
        from gis_app.features.maps import count_map_cells

        counted = count_map_cells(db_session(), day)
        click.echo(f"  地图网格计数：重新统计 {counted} 个方格", err=True)
        say = click.echo
        say(
            f"{day} 每日检查（{'首次运行' if result['first_run_today'] else '今日已运行过'}）",
            err=True,
        )
        say(f"  新逾期点位：{result['newly_overdue']} 个（已记入点位历史）", err=True)
        for item in result["recorded"][:20]:
            say(f"    {item['code']}（期限 {item['due']}）", err=True)
        say(f"  7 日内到期：{result['due_within_7_days']} 项", err=True)
        say(f"  待报送月报：{result['reports_due']} 份", err=True)
        summary = {k: v for k, v in result.items() if k not in ("recorded", "due_soon", "reports")}
        click.echo(json.dumps(summary, ensure_ascii=False))

    @cli.command("campaign")
    @with_app
    def campaign() -> None:
        """Show the campaign phase of today and the days left."""
        from gis_app.core import clock
        from gis_app.features.campaign.service import effective_plan

        plan = effective_plan(db_session(), current_app.extensions["campaign"])
        status = plan.status(clock.today())
        click.echo(json.dumps(status, ensure_ascii=False, indent=1, default=str))
