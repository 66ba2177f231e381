"""Typed, validated settings: every environment variable the app reads, with its type, default
and meaning, in one declared model (`Settings`, one group per concern).

`load_settings(env)` reads and validates the environment; a bad value raises `SettingsError`,
whose Chinese message names each bad variable and what it expects, and start-up stops with it
(`create_app`, every `gis-app` command). An empty variable counts as unset.
`Settings.flask_config()` gives the Flask config keys the app reads (app.config["PHOTO_DIR"], ...),
every one always present, so the code indexes them without repeating a default.
The configuration reference, docs/operations/configuration.md, is generated from these
declarations (`reference()`, `gis-app settings doc`); `gis-app settings check` prints the
effective values.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo

from gis_app.core import clock
from gis_app.core.database import sqlalchemy_url
from gis_app.core.db_security import DEFAULT_APP_ROLE, app_role, valid_role_name
from gis_app.core.localdb import PROJECT_ROOT, existing_local_url

REFERENCE = "docs/operations/configuration.md"
POSTGRES_URL = "PostgreSQL URL"  # the `kind` of the database URLs (their passwords are masked)
BOOLEAN_WORDS = "1/0、true/false、yes/no、on/off"


class SettingsError(RuntimeError):
    """One or more environment variables have values the app cannot use."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"环境变量配置有误（说明见 {REFERENCE}）：\n{lines}")


def setting(
    name: str,
    meaning: str,
    default: Any = None,
    *,
    shown: str | None = None,
    kind: str | None = None,
    secret: bool = False,
    **field: Any,
) -> Any:
    """A field read from the environment variable `name`. `shown`: the default as the
    reference states it (when it is computed); `kind`: the type as the reference states it
    (when a validator, not the type, says what is accepted); `secret`: masked when printed."""
    extra: dict[str, Any] = {"secret": secret}
    if shown is not None:
        extra["shown"] = shown
    if kind is not None:
        extra["kind"] = kind
    if "default_factory" not in field:
        field["default"] = default
    return Field(alias=name, description=meaning, json_schema_extra=extra, **field)


# ---------------------------------------------------------------- value checks (Chinese messages)


def _postgres_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
        raise ValueError("应为 PostgreSQL 连接串（postgresql://用户@主机:端口/库名）")
    return value


def _role_name(value: str) -> str:
    value = value.strip()
    if not valid_role_name(value):
        raise ValueError("应为数据库角色名：小写字母、数字和下划线，以字母或下划线开头")
    return value


def _district_code(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"\d{6}", value):
        raise ValueError("应为 6 位行政区划代码（如河东区 120102）")
    return value


def _basemap(value: str) -> str:
    from layers import basemaps

    value = value.strip()
    if value not in basemaps.providers():
        raise ValueError(f"不是已知的底图（可选：{'、'.join(basemaps.providers())}）")
    return value


def _instant(value: str) -> str:
    try:
        clock.parse_instant(value)
    except ValueError:
        raise ValueError("应为日期（YYYY-MM-DD）或 ISO 时间（如 2026-06-15T09:30）") from None
    return value.strip()


def _web_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"https?://[^/\s]+", value):
        raise ValueError("应为 http:// 或 https:// 开头的网址")
    return value.rstrip("/")


def _base_url(value: str) -> str:
    return _web_url(value) if value.strip() else ""


def _digest_format(value: str) -> str:
    value = value.strip()
    if value not in ("dingtalk", "wecom"):
        raise ValueError("应为 dingtalk（政务钉钉）或 wecom（企业微信）")
    return value


def _strip(value: str) -> str:
    return value.strip()


def parse_kind_synonyms(value: str) -> dict[str, str]:
    """`彩钢房=steel_shed;加层=屋顶违建` -> {word: kind code}; a kind as code or Chinese label."""
    from gis_app.core import codes

    out: dict[str, str] = {}
    for part in re.split(r"[;；\n]", value):
        if not part.strip():
            continue
        word, eq, kind = part.replace("＝", "=").partition("=")
        code = codes.lookup(codes.KINDS, kind) if kind.strip() else None
        if not eq or not word.strip() or code is None:
            raise ValueError(
                f"“{part.strip()}”应为“词=违建类型”（类型用代码或中文名：{'、'.join(codes.KINDS.values())}）"
            )
        out[word.strip()] = code
    return out


def _kind_synonyms(value: str) -> str:
    parse_kind_synonyms(value)
    return value.strip()


PostgresUrl = Annotated[str, AfterValidator(_postgres_url)]
Text = Annotated[str, AfterValidator(_strip)]


def app_database_url(owner_url: str | None, role: str | None = None) -> str | None:
    """The web app's own connection: the owner's URL with the app's database role as user and
    no password (the project-local cluster's URL names its password file, which holds the app
    role's too; elsewhere peer, a client certificate or ~/.pgpass); set APP_DATABASE_URL when
    the app role logs in otherwise."""
    if not owner_url:
        return owner_url
    parts = urlsplit(owner_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role or app_role()}@{host}"))


# ---------------------------------------------------------------- the settings, by group


class Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DatabaseSettings(Group):
    model_config = ConfigDict(title="Database")

    url: PostgresUrl | None = setting(
        "DATABASE_URL",
        "PostgreSQL + PostGIS database of the app; migrations and every `gis-app` command "
        "connect as this user, the owner of the tables",
        default_factory=existing_local_url,
        shown="the project-local cluster (`make db` prints its URL)",
        kind=POSTGRES_URL,
    )
    app_role: Annotated[str, AfterValidator(_role_name)] = setting(
        "GIS_APP_DB_APP_ROLE",
        "database role the web app connects as (owns nothing, subject to row-level security); "
        "migrations grant to it",
        DEFAULT_APP_ROLE,
        kind="role name",
    )
    app_url: PostgresUrl | None = setting(
        "APP_DATABASE_URL",
        "the web app's own connection, as `GIS_APP_DB_APP_ROLE`; the app refuses to start "
        "as any other role",
        default_factory=lambda data: app_database_url(
            data.get("url"), data.get("app_role") or DEFAULT_APP_ROLE
        ),
        shown="`DATABASE_URL` with the user `GIS_APP_DB_APP_ROLE` and no password",
        kind=POSTGRES_URL,
    )
    pool_size: int = setting(
        "GIS_APP_DB_POOL_SIZE",
        "database connections kept per app process: at least gunicorn's `--threads`",
        10,
        ge=1,
    )
    max_overflow: int = setting(
        "GIS_APP_DB_MAX_OVERFLOW",
        "connections allowed beyond the pool per app process (closed after their request)",
        10,
        ge=0,
    )
    sql_echo: bool = setting("GIS_APP_SQL_ECHO", "log every SQL statement (debugging)", False)


class DataSettings(Group):
    model_config = ConfigDict(title="Data and photos")

    data_dir: Path = setting(
        "GIS_APP_DATA_DIR",
        "folder of the app's own files: photos, the generated secret key, demo accounts",
        default_factory=lambda: PROJECT_ROOT / "var",
        shown="`var/` in the project folder",
    )
    photo_dir: Path = setting(
        "GIS_APP_PHOTO_DIR",
        "where photos and their thumbnails are stored (`gis-app backup` archives it)",
        default_factory=lambda data: Path(data.get("data_dir") or PROJECT_ROOT / "var") / "photos",
        shown="`$GIS_APP_DATA_DIR/photos`",
    )
    audit_head_file: Path = setting(
        "GIS_APP_AUDIT_HEAD_FILE",
        "file (outside the database) each `gis-app daily` appends the audit chain's head to, "
        "keyed with an HMAC of the secret key; `gis-app audit verify` checks the chain against "
        "its last line. Keep a copy elsewhere (another machine, syslog)",
        default_factory=lambda data: (
            Path(data.get("data_dir") or PROJECT_ROOT / "var") / "audit-heads.log"
        ),
        shown="`$GIS_APP_DATA_DIR/audit-heads.log`",
    )
    photo_max_mb: float = setting(
        "GIS_APP_PHOTO_MAX_MB", "largest photo accepted, in MB (larger gets 413)", 20.0, gt=0
    )
    photo_max_pixels: int = setting(
        "GIS_APP_PHOTO_MAX_PIXELS",
        "a photo with more pixels is refused (decompression bombs); read from its header "
        "before anything is decoded",
        60_000_000,
        gt=0,
    )
    photo_client_max_side: int = setting(
        "GIS_APP_PHOTO_CLIENT_MAX_SIDE",
        "the pages shrink a larger JPEG in the browser before uploading it, to this longest "
        "side in pixels (its EXIF time and GPS kept); 0 sends photos as chosen",
        2560,
        ge=0,
    )
    max_upload_mb: int = setting(
        "GIS_APP_MAX_UPLOAD_MB",
        "largest request body accepted, in MB (Flask's `MAX_CONTENT_LENGTH`; larger gets 413)",
        32,
        gt=0,
    )


class DistrictSettings(Group):
    model_config = ConfigDict(title="District and campaign")

    code: Annotated[str, AfterValidator(_district_code)] = setting(
        "GIS_APP_DISTRICT_CODE",
        "the district's administrative division code: its outline, streets and sample batches",
        "120102",
        kind="6-digit code",
    )
    name: Text = setting(
        "GIS_APP_DISTRICT_NAME", "the district's name in page titles and exports", "河东区"
    )
    kind_synonyms: Annotated[str, AfterValidator(_kind_synonyms)] = setting(
        "GIS_APP_KIND_SYNONYMS",
        "the district's own words for the kinds of illegal construction in the streets' "
        "ledgers, beside the built-in ones: a ledger's 违建类型 containing the word is "
        "recorded as that kind (the word is kept); an unknown word is recorded as 其他 "
        "with a warning",
        "",
        kind="`词=类型;…`, e.g. `阳光房=屋顶违建;铁皮屋=steel_shed`",
    )
    export_lang: Literal["zh", "en"] = setting(
        "GIS_APP_EXPORT_LANG",
        "language of the exports' field names, code values and field sheet unless a request "
        "asks for the other (`lang=en` / `lang=zh`): `zh` for a Chinese office",
        "zh",
        kind="zh or en",
    )
    campaign_file: Path | None = setting(
        "GIS_APP_CAMPAIGN_FILE",
        "the campaign's phases and milestones (YAML); a bad file stops start-up",
        shown="Hedong's plan, `gis_app/features/campaign/campaigns/hedong-2021.yaml`",
    )
    registration_days: int = setting(
        "GIS_APP_REGISTRATION_DAYS",
        "days within which a site found on patrol (新发现) must be registered (建档: "
        "disposition, deadline, plan); after them it is overdue for its street",
        3,
        ge=0,
        le=365,
    )


class MapSettings(Group):
    model_config = ConfigDict(title="Map")

    basemap: Annotated[str, AfterValidator(_basemap)] = setting(
        "GIS_APP_BASEMAP",
        "basemap of the map pages: a provider of `layers/basemaps.yaml`; `offline` needs no "
        "internet",
        "offline",
    )
    tianditu_key: SecretStr = setting(
        "GIS_APP_TIANDITU_KEY",
        "browser key of the 天地图 basemap; without it the offline basemap is used and the page "
        "says so",
        SecretStr(""),
        secret=True,
    )
    map_tile_threshold: int = setting(
        "GIS_APP_MAP_TILE_THRESHOLD",
        "the district and street maps draw every site (with its popup) while at most this many "
        "sites of the filter are in view, and counts by status per grid cell from vector tiles "
        "above it (the default keeps a district of 100,000 sites on the array page, whose first "
        "draw is faster: docs/operations/performance.md, Map modes)",
        150_000,
        ge=0,
    )
    map_view_sites: int = setting(
        "GIS_APP_MAP_VIEW_SITES",
        "above the threshold, the map draws the sites of a view from the vector tiles and fetches "
        "them (each with its hover and popup, as below the threshold) once at most this many are "
        "in view",
        3_000,
        ge=0,
    )
    tile_cache_mb: float = setting(
        "GIS_APP_TILE_CACHE_MB",
        "memory each app process may keep vector tiles of the sites in, in MB, keyed by their "
        "ETag (an edited site changes the ETag of its tiles, so nothing stale is served); 0 "
        "turns the cache off",
        64.0,
        ge=0,
    )


class AccountSettings(Group):
    model_config = ConfigDict(title="Accounts and security")

    secret_key: SecretStr | None = setting(
        "GIS_APP_SECRET_KEY",
        "the app's signing key (Flask `SECRET_KEY`); the same on every process of a deployment",
        shown="generated once into `$GIS_APP_DATA_DIR/secret_key`",
        secret=True,
    )
    cookie_secure: bool = setting(
        "GIS_APP_COOKIE_SECURE",
        "send the session cookies over https only; `0` only for a plain-http intranet",
        True,
    )
    session_hours: float = setting(
        "GIS_APP_SESSION_HOURS",
        "a session ends this many hours after the login",
        12.0,
        gt=0,
        allow_inf_nan=False,
    )
    session_idle_minutes: float = setting(
        "GIS_APP_SESSION_IDLE_MINUTES",
        "a session ends after this many minutes without a request",
        120.0,
        gt=0,
        allow_inf_nan=False,
    )
    login_window_minutes: float = setting(
        "GIS_APP_LOGIN_WINDOW_MINUTES",
        "the login rate limit counts the failures of this many minutes",
        15.0,
        gt=0,
        allow_inf_nan=False,
    )
    login_max_failures_user: int = setting(
        "GIS_APP_LOGIN_MAX_FAILURES_USER",
        "failed logins for one username (since its last success) before it is refused for a while",
        5,
        ge=1,
    )
    login_max_failures_ip: int = setting(
        "GIS_APP_LOGIN_MAX_FAILURES_IP",
        "failed logins from one address before it is refused for a while",
        20,
        ge=1,
    )
    password_min_length: int = setting(
        "GIS_APP_PASSWORD_MIN_LENGTH", "shortest password accepted", 10, ge=1
    )
    hsts: bool = setting(
        "GIS_APP_HSTS", "send `Strict-Transport-Security` (https-only deployments)", False
    )
    trusted_proxies: int = setting(
        "GIS_APP_TRUSTED_PROXIES",
        "reverse proxies in front of the app whose `X-Forwarded-For` / `-Proto` are trusted",
        0,
        ge=0,
    )


class PatrolSettings(Group):
    model_config = ConfigDict(title="Patrol")

    walk_kmh: float = setting(
        "GIS_APP_PATROL_WALK_KMH",
        "walking speed of the patrol routes' estimated times, in km/h",
        4.5,
        gt=0,
        allow_inf_nan=False,
    )
    bike_kmh: float = setting(
        "GIS_APP_PATROL_BIKE_KMH",
        "cycling speed of the patrol routes' estimated times, in km/h",
        12.0,
        gt=0,
        allow_inf_nan=False,
    )
    duplicate_metres: float = setting(
        "GIS_APP_PATROL_DUPLICATE_METRES",
        "a finding this close to an open site (metres, geodesic) is offered as that site",
        30.0,
        gt=0,
        allow_inf_nan=False,
    )


def _webhook_url(value: str) -> str:
    value = value.strip()
    if value and not re.match(r"https?://[^/\s]+", value):
        raise ValueError("应为 http:// 或 https:// 开头的网址（留空：不推送）")
    return value


class DigestSettings(Group):
    model_config = ConfigDict(title="Daily digest (待办推送)")

    folder: Path | None = setting(
        "GIS_APP_DIGEST_DIR",
        "folder `gis-app daily` writes each user's to-do list of the day to (one JSON file per "
        "user, for a mail gateway to pick up); unset: no files",
    )
    webhook_url: Annotated[str, AfterValidator(_webhook_url)] = setting(
        "GIS_APP_DIGEST_WEBHOOK_URL",
        "group robot webhook `gis-app daily` posts each user's to-do list to (政务钉钉 or "
        "企业微信, see GIS_APP_DIGEST_WEBHOOK_FORMAT); unset: no posts",
        "",
        kind="URL",
        secret=True,
    )
    webhook_format: Annotated[str, AfterValidator(_digest_format)] = setting(
        "GIS_APP_DIGEST_WEBHOOK_FORMAT",
        "the robot's message format: `dingtalk` (政务钉钉 markdown: title, text) or `wecom` "
        "(企业微信 markdown: content)",
        "dingtalk",
        kind="dingtalk or wecom",
    )
    timeout_seconds: float = setting(
        "GIS_APP_DIGEST_TIMEOUT_SECONDS",
        "how long one post may take; a receiver down or slower stops this run's posts (they "
        "stay in the outbox and are sent by the next `gis-app daily` or `gis-app digest send`)",
        5.0,
        gt=0,
        le=60,
        allow_inf_nan=False,
    )


class ServingSettings(Group):
    model_config = ConfigDict(title="Serving and set-up")

    host: Text = setting("HOST", "address `gis-app serve` (and `make run`) listens on", "127.0.0.1")
    port: int = setting(
        "PORT", "port `gis-app serve` (and `make run`) listens on", 5000, ge=1, le=65535
    )
    base_url: Annotated[str, AfterValidator(_base_url)] = setting(
        "GIS_APP_BASE_URL",
        "the app's public address (e.g. `https://gis.example.org`): absolute links, redirects "
        "and the API's and OGC links are built from it, never from the request's `Host` header "
        "(set it on every deployment; unset, the `Host` header is used, for development)",
        "",
        kind="URL",
    )
    npm_registry: Annotated[str, AfterValidator(_web_url)] = setting(
        "NPM_REGISTRY",
        "npm registry (or a mirror) `gis-app assets fetch` downloads the browser assets from",
        "https://registry.npmjs.org",
        kind="URL",
    )


def _log_format(value: str) -> str:
    value = value.strip().lower()
    if value not in ("json", "text"):
        raise ValueError("应为 json 或 text")
    return value


def _accel_prefix(value: str) -> str:
    value = value.strip()
    if value and not re.fullmatch(r"/[A-Za-z0-9_./-]*/", value):
        raise ValueError("应为以 / 开头并以 / 结尾的路径（如 /_photos/）")
    return value


class OperationsSettings(Group):
    model_config = ConfigDict(title="Operations: health, metrics, logs")

    log_format: Annotated[str, AfterValidator(_log_format)] = setting(
        "GIS_APP_LOG_FORMAT",
        "`json`: one JSON object per log line with the request id (`X-Request-ID`), for a log "
        "collector; `text`: plain lines for a terminal",
        "json",
        kind="json or text",
    )
    metrics_token: SecretStr = setting(
        "GIS_APP_METRICS_TOKEN",
        "token a Prometheus scraper sends as `Authorization: Bearer …` to read `/metrics`; "
        "unset: `/metrics` answers only requests from the server itself (127.0.0.1, ::1)",
        SecretStr(""),
        secret=True,
    )
    photo_accel_redirect: Annotated[str, AfterValidator(_accel_prefix)] = setting(
        "GIS_APP_PHOTO_ACCEL_REDIRECT",
        "behind nginx: the internal location (e.g. `/_photos/`) that serves `GIS_APP_PHOTO_DIR`; "
        "the app checks who may see a photo and answers with `X-Accel-Redirect`, nginx sends "
        "the file; unset: the app sends photo files itself",
        "",
        kind="path",
    )
    replica_url: PostgresUrl | None = setting(
        "GIS_APP_REPLICA_DATABASE_URL",
        "a streaming replica, connected as the app's role: read-only work (map data, tiles, "
        "exports, OGC, statistics) is sent there while its lag is within "
        "`GIS_APP_REPLICA_MAX_LAG_SECONDS`; unset: everything on the primary",
        kind=POSTGRES_URL,
    )
    replica_max_lag_seconds: float = setting(
        "GIS_APP_REPLICA_MAX_LAG_SECONDS",
        "a replica further behind than this (seconds of replay) is not read from: the primary "
        "answers instead",
        30.0,
        gt=0,
        allow_inf_nan=False,
    )
    pgbackrest_config: Path = setting(
        "GIS_APP_PGBACKREST_CONFIG",
        "pgBackRest's configuration (repository, encryption, retention) that `gis-app pitr` and "
        "`gis-app recover` use",
        Path("/etc/pgbackrest/pgbackrest.conf"),
    )
    pgbackrest_stanza: Text = setting(
        "GIS_APP_PGBACKREST_STANZA", "the pgBackRest stanza of the app's cluster", "gis-app"
    )
    pgbackrest_user: Text = setting(
        "GIS_APP_PGBACKREST_USER",
        "OS user that owns the PostgreSQL cluster: pgBackRest and the recovered cluster run as it",
        "postgres",
    )
    photo_backup_dir: Path | None = setting(
        "GIS_APP_PHOTO_BACKUP_DIR",
        "where `gis-app pitr photos-sync` copies new photo files (another disk), with a manifest "
        "per run; `gis-app recover` takes the photos from there; unset: no continuous photo copy",
    )
    prometheus_multiproc_dir: Path | None = setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "an empty folder the app may write (systemd: `RuntimeDirectory`): with several gunicorn "
        "workers, `/metrics` adds up their counters kept there (prometheus_client's multiprocess "
        "mode); unset: one process's counters",
    )


class DevelopmentSettings(Group):
    model_config = ConfigDict(title="Demos and tests")

    frozen_now: Annotated[str, AfterValidator(_instant)] = setting(
        "GIS_APP_FROZEN_NOW",
        "freeze the app's clock at this day or time (demos, tests); unset: the real time",
        "",
        kind="date or ISO time",
    )
    test_database_url: PostgresUrl | None = setting(
        "TEST_DATABASE_URL",
        "database of the test suite, dropped and created again on every run; its name must "
        "end in `_test`",
        shown="`<DATABASE_URL's database>_test`",
        kind=POSTGRES_URL,
    )


class Settings(BaseModel):
    """Every setting of the app, by group (see the module's docstring)."""

    model_config = ConfigDict(frozen=True)

    database: DatabaseSettings
    data: DataSettings
    district: DistrictSettings
    maps: MapSettings
    accounts: AccountSettings
    patrol: PatrolSettings
    digest: DigestSettings
    serving: ServingSettings
    operations: OperationsSettings
    development: DevelopmentSettings

    def flask_config(self) -> dict[str, Any]:
        """The Flask config keys the app reads; a few are fixed, not from the environment."""
        db, data, district, accounts = self.database, self.data, self.district, self.accounts
        secret_key = accounts.secret_key.get_secret_value() if accounts.secret_key else ""
        return {
            # the owner (migrations, commands) and the web app's own role (row-level security)
            "DATABASE_URL": sqlalchemy_url(db.url),
            "APP_DATABASE_URL": sqlalchemy_url(db.app_url),
            # "app" (the web app) or "owner" (commands); tests also set DB_SET_ROLE
            "DB_CONNECT_AS": "app",
            "DB_SET_ROLE": None,
            "DB_CHECK_ROLE": True,
            "DB_POOL_SIZE": db.pool_size,
            "DB_MAX_OVERFLOW": db.max_overflow,
            "SQL_ECHO": db.sql_echo,
            "SECRET_KEY": secret_key or _secret_key(data.data_dir),
            "DATA_DIR": str(data.data_dir),
            "PHOTO_DIR": str(data.photo_dir),
            "AUDIT_HEAD_FILE": str(data.audit_head_file),
            "PHOTO_MAX_MB": data.photo_max_mb,
            "PHOTO_MAX_PIXELS": data.photo_max_pixels,
            "PHOTO_CLIENT_MAX_SIDE": data.photo_client_max_side,
            "MAX_CONTENT_LENGTH": data.max_upload_mb * 1024 * 1024,
            "DISTRICT_CODE": district.code,
            "DISTRICT_NAME": district.name,
            "CAMPAIGN_FILE": str(district.campaign_file or ""),
            "KIND_SYNONYMS": parse_kind_synonyms(district.kind_synonyms),
            "REGISTRATION_DAYS": district.registration_days,
            "EXPORT_LANG": district.export_lang,
            "BASEMAP": self.maps.basemap,
            "TIANDITU_KEY": self.maps.tianditu_key.get_secret_value(),
            "TILE_CACHE_MB": self.maps.tile_cache_mb,
            "MAP_TILE_THRESHOLD": self.maps.map_tile_threshold,
            "MAP_VIEW_SITES": self.maps.map_view_sites,
            "SESSION_COOKIE_SECURE": accounts.cookie_secure,
            "SESSION_LIFETIME_HOURS": accounts.session_hours,
            "SESSION_IDLE_MINUTES": accounts.session_idle_minutes,
            "LOGIN_WINDOW_MINUTES": accounts.login_window_minutes,
            "LOGIN_MAX_FAILURES_USER": accounts.login_max_failures_user,
            "LOGIN_MAX_FAILURES_IP": accounts.login_max_failures_ip,
            "PASSWORD_MIN_LENGTH": accounts.password_min_length,
            "HSTS": accounts.hsts,
            "TRUSTED_PROXIES": accounts.trusted_proxies,
            "BASE_URL": self.serving.base_url,
            "PATROL_WALK_KMH": self.patrol.walk_kmh,
            "PATROL_BIKE_KMH": self.patrol.bike_kmh,
            "PATROL_DUPLICATE_METRES": self.patrol.duplicate_metres,
            "LOG_FORMAT": self.operations.log_format,
            "METRICS_TOKEN": self.operations.metrics_token.get_secret_value(),
            "PHOTO_ACCEL_REDIRECT": self.operations.photo_accel_redirect,
            "REPLICA_DATABASE_URL": sqlalchemy_url(self.operations.replica_url),
            "REPLICA_MAX_LAG_SECONDS": self.operations.replica_max_lag_seconds,
            "PGBACKREST_CONFIG": str(self.operations.pgbackrest_config),
            "PGBACKREST_STANZA": self.operations.pgbackrest_stanza,
            "PGBACKREST_USER": self.operations.pgbackrest_user,
            "PHOTO_BACKUP_DIR": str(self.operations.photo_backup_dir or ""),
            "PROMETHEUS_MULTIPROC_DIR": str(self.operations.prometheus_multiproc_dir or ""),
            "DIGEST_DIR": str(self.digest.folder or ""),
            "DIGEST_WEBHOOK_URL": self.digest.webhook_url,
            "DIGEST_WEBHOOK_FORMAT": self.digest.webhook_format,
            "DIGEST_TIMEOUT_SECONDS": self.digest.timeout_seconds,
            "FROZEN_NOW": self.development.frozen_now,
            "TIMEZONE": "Asia/Shanghai",
            "API_PAGE_MAX": 1000,
            "JSON_AS_ASCII": False,
        }


class Variable(NamedTuple):
    """One environment variable: its group (a field of Settings) and its field there."""

    name: str
    group: str
    attr: str
    field: FieldInfo

    @property
    def secret(self) -> bool:
        return bool(_extra(self.field).get("secret"))

    @property
    def url(self) -> bool:
        return _extra(self.field).get("kind") == POSTGRES_URL


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def variables() -> Iterator[Variable]:
    """Every environment variable, in the order of the reference."""
    for group, group_field in Settings.model_fields.items():
        model = group_field.annotation
        assert isinstance(model, type) and issubclass(model, Group)
        for attr, field in model.model_fields.items():
            assert field.alias, f"{model.__name__}.{attr} names no environment variable"
            yield Variable(field.alias, group, attr, field)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings from `env` (default: the process environment); SettingsError when a value
    does not fit, naming every bad variable."""
    source = os.environ if env is None else env
    given = {v.name: source[v.name] for v in variables() if (source.get(v.name) or "").strip()}
    try:
        return Settings.model_validate({group: given for group in Settings.model_fields})
    except PydanticValidationError as exc:
        by_name = {v.name: v for v in variables()}
        problems = []
        for error in exc.errors():
            if error["type"] == "default_factory_not_called":
                continue  # a value computed from another one that is itself refused
            var = by_name[str(error["loc"][1])]
            value = shown_value(var, given[var.name])
            problems.append(f"{var.name}={value!r}：{_expected(var, error)}")
        raise SettingsError(problems) from None


def load_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Flask config from the environment (`load_settings(env).flask_config()`)."""
    return load_settings(env).flask_config()


def _expected(var: Variable, error: Any) -> str:
    """What the variable expects, in Chinese, for one pydantic error."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    annotation = var.field.annotation
    if annotation is bool:
        return f"应为布尔值（{BOOLEAN_WORDS}）"
    if annotation in (int, float):
        noun = "整数" if annotation is int else "数字"
        gt, ge, le = _bounds(var.field)
        if ge is not None and le is not None:
            return f"应为 {ge}～{le} 之间的{noun}"
        if gt is not None:
            return f"应为大于 {gt} 的{noun}"
        if ge is not None:
            return f"应为不小于 {ge} 的{noun}"
        return f"应为{noun}"
    return f"无效（{error['msg']}）"


def _bounds(field: FieldInfo) -> tuple[Any, Any, Any]:
    found: dict[str, Any] = {"gt": None, "ge": None, "le": None}
    for meta in field.metadata:
        for key in found:
            if getattr(meta, key, None) is not None:
                found[key] = getattr(meta, key)
    return found["gt"], found["ge"], found["le"]


def shown_value(var: Variable, value: Any) -> str:
    """A value as it may be printed: secrets masked, a URL's password masked."""
    if value is None or value == "":
        return ""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if var.secret:
        return "***" if value else ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if var.url:
        parts = urlsplit(text)
        if parts.password:
            user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
            host = parts.netloc.rsplit("@", 1)[1]
            text = urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    return text


def effective(settings: Settings, env: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(NAME=value, where it comes from) per variable, secrets masked, for `settings check`."""
    source = os.environ if env is None else env
    lines = []
    for var in variables():
        value = getattr(getattr(settings, var.group), var.attr)
        text = shown_value(var, value)
        shown = _extra(var.field).get("shown")
        if (source.get(var.name) or "").strip():
            origin = "environment"
        elif shown and (not text or var.secret):
            origin = "default: " + shown.replace("`", "")
        else:
            origin = "default"
        lines.append((f"{var.name}={text}", origin))
    return lines


# ---------------------------------------------------------------- the reference (docs)


def _kind(var: Variable) -> str:
    """The type of a variable as the reference states it."""
    extra = _extra(var.field)
    annotation = var.field.annotation
    if var.name == "GIS_APP_BASEMAP":
        from layers import basemaps

        return "one of " + ", ".join(f"`{p}`" for p in basemaps.providers())
    if "kind" in extra:
        return extra["kind"]
    if annotation is bool:
        return "boolean"
    if annotation in (int, float):
        noun = "integer" if annotation is int else "number"
        gt, ge, le = _bounds(var.field)
        if ge is not None and le is not None:
            return f"{noun} {ge}–{le}"
        if gt is not None:
            return f"{noun} > {gt}"
        if ge is not None:
            return f"{noun} ≥ {ge}"
        return noun
    if annotation in (Path, Path | None):
        return "path"
    if var.secret:
        return "text (secret)"
    return "text"


def _default(var: Variable) -> str:
    extra = _extra(var.field)
    if "shown" in extra:
        return extra["shown"]
    value = var.field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"`{value:_}`".replace("_", ",") if value >= 10_000 else f"`{value}`"
    return f"`{value}`" if value not in (None, "") else "empty"


def reference() -> str:
    """docs/operations/configuration.md: every variable by group (`gis-app settings doc`)."""
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated from gis_app/settings.py by `gis-app settings doc`; do not edit. -->",
        "",
        "Every setting is an environment variable, read and validated once when the app or a",
        "`gis-app` command starts (`gis_app/settings.py`). A value that does not fit stops the",
        "start with a message naming the variable and what it expects. An empty variable counts",
        f"as unset. Booleans: {BOOLEAN_WORDS.replace('、', ', ')}.",
        "`gis-app settings check` validates the current environment and prints the effective",
        "values (secrets masked).",
    ]
    current = None
    for var in variables():
        if var.group != current:
            current = var.group
            model = Settings.model_fields[var.group].annotation
            title = model.model_config.get("title") if model else var.group
            out += ["", f"## {title}", "", "| variable | type | default | meaning |"]
            out.append("|---|---|---|---|")
        out.append(f"| `{var.name}` | {_kind(var)} | {_default(var)} | {var.field.description} |")
    return "\n".join(out) + "\n"


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
