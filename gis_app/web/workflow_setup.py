"""Attach the rectification workflow to the app: its blueprints, the campaign plan, and the
Jinja globals its templates (and the site page of the map) call."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, get_flashed_messages

from gis_app import clock
from gis_app.campaign import CampaignConfigError, load_campaigns


def init_app(app: Flask) -> None:
    from gis_app.web import actor, bureau, dashboard, workflow_api, workflow_pages

    try:
        app.extensions["campaign"] = load_campaigns(app.config.get("CAMPAIGN_FILE") or None)
    except CampaignConfigError as exc:
        raise RuntimeError(f"专项行动配置有误：{exc}") from exc
    for blueprint in (
        workflow_pages.bp,
        workflow_api.bp,
        dashboard.bp,
        bureau.bp,
    ):
        app.register_blueprint(blueprint)
    app.jinja_env.globals.update(
        site_workflow=site_workflow,
        campaign_status=campaign_status,
        current_actor=actor.page_actor,
        workflow_messages=workflow_messages,
    )


def site_workflow(site_id: int) -> dict[str, Any]:
    """What `site/_workflow.html` shows for a site, for the acting user."""
    from gis_app.db import session
    from gis_app.services.site_workflow import workflow_summary
    from gis_app.web.actor import current_actor

    return workflow_summary(session(), int(site_id), current_actor(), clock.today())


def campaign_status() -> dict[str, Any]:
    return current_app.extensions["campaign"].status(clock.today())


def workflow_messages() -> list[tuple[str, str]]:
    """Flashed messages of the workflow forms (shown once, by whichever page renders them)."""
    return get_flashed_messages(
        with_categories=True, category_filter=["workflow", "workflow-warning"]
    )
