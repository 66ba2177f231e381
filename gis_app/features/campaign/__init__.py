"""The campaign (专项行动): named phases with dates and milestones, from configuration."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.campaign import api, service

    try:
        app.extensions["campaign"] = service.load_campaigns(app.config["CAMPAIGN_FILE"] or None)
    except service.CampaignConfigError as exc:
        raise RuntimeError(f"专项行动配置有误：{exc}") from exc
    service.configure(app.extensions["campaign"])
    app.register_blueprint(api.bp)
    app.jinja_env.globals.update(campaign_status=api.campaign_status)
