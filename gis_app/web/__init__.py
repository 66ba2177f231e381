"""Blueprints: the JSON API and the HTML pages."""
