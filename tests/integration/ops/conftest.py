"""An app connected to the test database as its own role, with real connections (not the
test's rolled-back one): the readiness probe and the request's application_name need them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.live import FROZEN_NOW


@pytest.fixture()
def make_app(database_url: str, tmp_path) -> Iterator[Callable[..., Any]]:
    from gis_app import create_app
    from gis_app.settings import app_database_url

    made = []

    def make(**config: Any) -> Any:
        settings = {
            "DATABASE_URL": database_url,
            "APP_DATABASE_URL": app_database_url(database_url),
            "TESTING": True,
            "FROZEN_NOW": FROZEN_NOW,
            "PHOTO_DIR": str(tmp_path / "photos"),
        }
        settings.update(config)
        app = create_app(settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["gis_db"].engine.dispose()
        app.extensions["ops_health"]["engine"].dispose()
