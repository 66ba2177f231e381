"""Configuration from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from gis_app.core.database import sqlalchemy_url
from gis_app.core.localdb import PROJECT_ROOT, existing_local_url


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def app_database_url(owner_url: str | None) -> str | None:
    """The web app's own connection: the owner's URL with the app's database role as user and
    no password (trust, peer, a client certificate or ~/.pgpass authenticates it); set
    APP_DATABASE_URL when the app role logs in otherwise."""
    if not owner_url:
        return owner_url
    from urllib.parse import urlsplit, urlunsplit

    from gis_app.core.db_security import app_role

    parts = urlsplit(owner_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{app_role()}@{host}"))


def load_config() -> dict[str, Any]:
    """Flask settings read from the environment (GIS_APP_* and DATABASE_URL)."""
    env = os.environ
    data_dir = Path(env.get("GIS_APP_DATA_DIR", PROJECT_ROOT / "var"))
    owner_url = env.get("DATABASE_URL") or existing_local_url()
    return {
        # the owner (migrations, commands) and the web app's own role (row-level security)
        "DATABASE_URL": sqlalchemy_url(owner_url),
        "APP_DATABASE_URL": sqlalchemy_url(
            env.get("APP_DATABASE_URL") or app_database_url(owner_url)
        ),
        # "app" (the web app) or "owner" (commands); tests also set DB_SET_ROLE
        "DB_CONNECT_AS": "app",
        "SECRET_KEY": env.get("GIS_APP_SECRET_KEY") or _secret_key(data_dir),
        "DATA_DIR": str(data_dir),
        "PHOTO_DIR": env.get("GIS_APP_PHOTO_DIR", str(data_dir / "photos")),
        "DISTRICT_CODE": env.get("GIS_APP_DISTRICT_CODE", "120102"),
        "DISTRICT_NAME": env.get("GIS_APP_DISTRICT_NAME", "河东区"),
        "TIMEZONE": "Asia/Shanghai",
        # basemap: "offline" (default, no internet needed), "tianditu", "osm"
        "BASEMAP": env.get("GIS_APP_BASEMAP", "offline"),
        "TIANDITU_KEY": env.get("GIS_APP_TIANDITU_KEY", ""),
        # "YYYY-MM-DD" or an ISO time: freeze the clock (demos, tests); empty = real time
        "FROZEN_NOW": env.get("GIS_APP_FROZEN_NOW", ""),
        "MAX_CONTENT_LENGTH": int(env.get("GIS_APP_MAX_UPLOAD_MB", "32")) * 1024 * 1024,
        "API_PAGE_MAX": 1000,
        # patrol routes: speeds for the estimated times (km/h)
        "PATROL_WALK_KMH": float(env.get("GIS_APP_PATROL_WALK_KMH", "4.5")),
        "PATROL_BIKE_KMH": float(env.get("GIS_APP_PATROL_BIKE_KMH", "12")),
        # a finding this close (metres, geodesic) to a site is offered as that site
        "PATROL_DUPLICATE_METRES": float(env.get("GIS_APP_PATROL_DUPLICATE_METRES", "30")),
        # the rectification workflow (photos, campaign phases, the dev identity selector)
        "PHOTO_MAX_MB": float(env.get("GIS_APP_PHOTO_MAX_MB", "20")),
        "PHOTO_MAX_PIXELS": int(env.get("GIS_APP_PHOTO_MAX_PIXELS", "60000000")),
        "CAMPAIGN_FILE": env.get("GIS_APP_CAMPAIGN_FILE", ""),
        # accounts: sessions, cookies, login rate limit, passwords, security headers
        "SESSION_COOKIE_SECURE": _bool(env.get("GIS_APP_COOKIE_SECURE"), default=True),
        "SESSION_LIFETIME_HOURS": float(env.get("GIS_APP_SESSION_HOURS", "12")),
        "SESSION_IDLE_MINUTES": float(env.get("GIS_APP_SESSION_IDLE_MINUTES", "120")),
        "LOGIN_WINDOW_MINUTES": float(env.get("GIS_APP_LOGIN_WINDOW_MINUTES", "15")),
        "LOGIN_MAX_FAILURES_USER": int(env.get("GIS_APP_LOGIN_MAX_FAILURES_USER", "5")),
        "LOGIN_MAX_FAILURES_IP": int(env.get("GIS_APP_LOGIN_MAX_FAILURES_IP", "20")),
        "PASSWORD_MIN_LENGTH": int(env.get("GIS_APP_PASSWORD_MIN_LENGTH", "10")),
        "HSTS": _bool(env.get("GIS_APP_HSTS")),
        "TRUSTED_PROXIES": int(env.get("GIS_APP_TRUSTED_PROXIES", "0")),
        "SQL_ECHO": _bool(env.get("GIS_APP_SQL_ECHO")),
        # connections kept per app process (make it at least gunicorn's --threads)
        "DB_POOL_SIZE": int(env.get("GIS_APP_DB_POOL_SIZE", "10")),
        "DB_MAX_OVERFLOW": int(env.get("GIS_APP_DB_MAX_OVERFLOW", "10")),
        "JSON_AS_ASCII": False,
    }


def _secret_key(data_dir: Path) -> str:
    """A per-installation secret kept in the data folder (generated once)."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        path.chmod(0o600)
    except OSError:
        pass
    return key
