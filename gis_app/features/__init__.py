"""The features of the app, one package each: models, service, queries, API routes, pages,
CLI commands and templates. Each package's `register(app)` attaches its web part; its
`cli.register(group)` (where it has one) adds its commands to `gis-app`.

Features use each other only through their public modules (`models`, `schemas`, `service`,
`queries`, `permissions`); `make lint` checks it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: in dependency order: a feature may use the public modules of those before it
FEATURES = (
    "streets",
    "accounts",
    "audit",
    "campaign",
    "ledger",
    "plans",
    "photos",
    "extensions",
    "workflow",
    "baseline",
    "bureaus",
    "reporting",
    "maps",
    "exchange",
    "patrol",
    "sampling",
    "oversight",
    "publicity",
    "field",
    "backup",
    "todo",
    "home",
    "ops",
)


def feature(name: str) -> ModuleType:
    return importlib.import_module(f"gis_app.features.{name}")


def load_models() -> None:
    """Import every feature's models, so that the metadata holds every table."""
    for name in FEATURES:
        try:
            importlib.import_module(f"gis_app.features.{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"gis_app.features.{name}.models":
                raise
