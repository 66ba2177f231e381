"""WSGI entry point for gunicorn: `gunicorn gis_app.wsgi:app`."""

from gis_app import create_app

app = create_app()
