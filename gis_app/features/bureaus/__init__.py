"""The other bureaus' views: civil affairs (hardship), housing (renovation works), police
(obstruction) — each sees only the fields its task needs; and what they do: 住建委 reviews the
规范治理 plans of renovation sites and records the works, 公安 answers support requests, 民政
records relief."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from gis_app.features.bureaus import api, pages, renovation_pages  # noqa: F401 (routes)

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
