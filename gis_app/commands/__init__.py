"""CLI commands of the feature areas; each module has `register(cli)` (see gis_app.cli)."""
