"""The rectification workflow (整改流程): a site's status moves only by its transitions, from
the ledger to 销账 with evidence; a site's workflow page and acceptance page."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.workflow import api, pages
    from gis_app.http import openapi_legacy

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    openapi_legacy.add_paths(app, api.openapi_paths)
    app.jinja_env.globals.update(
        site_workflow=pages.site_workflow, workflow_messages=pages.workflow_messages
    )
