"""WSGI entry point for gunicorn: `gunicorn gis_app.wsgi:app`."""

import sys

from gis_app import create_app
from gis_app.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    # the message without a traceback; 4 is gunicorn's "app failed to load": it stops
    # instead of starting the worker again
    print(f"错误：{exc}", file=sys.stderr)
    raise SystemExit(4) from None
