"""The declared settings: every variable parsed to its type, a bad value refused naming it,
the configuration reference generated from the model, and start-up stopping with the message."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from gis_app.settings import (
    Settings,
    SettingsError,
    load_config,
    load_settings,
    reference,
    variables,
)

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "docs" / "operations" / "configuration.md"

#: a valid value for every variable, as the environment gives it, and what it parses to
VALID: dict[str, tuple[str, Any]] = {
    "DATABASE_URL": (
        "postgresql://owner@db.example:5432/gis",
        "postgresql://owner@db.example:5432/gis",
    ),
    "GIS_APP_DB_APP_ROLE": (" gis_web ", "gis_web"),
    "APP_DATABASE_URL": ("postgres://web:pw@db/gis", "postgres://web:pw@db/gis"),
    "GIS_APP_DB_POOL_SIZE": ("4", 4),
    "GIS_APP_DB_MAX_OVERFLOW": ("0", 0),
    "GIS_APP_SQL_ECHO": ("yes", True),
    "GIS_APP_DATA_DIR": ("/srv/gis/data", Path("/srv/gis/data")),
    "GIS_APP_PHOTO_DIR": ("/mnt/photos", Path("/mnt/photos")),
    "GIS_APP_AUDIT_HEAD_FILE": ("/srv/audit/heads.log", Path("/srv/audit/heads.log")),
    "GIS_APP_PHOTO_MAX_MB": ("7.5", 7.5),
    "GIS_APP_PHOTO_MAX_PIXELS": ("1000000", 1_000_000),
    "GIS_APP_PHOTO_CLIENT_MAX_SIDE": ("1600", 1600),
    "GIS_APP_MAX_UPLOAD_MB": ("64", 64),
    "GIS_APP_DISTRICT_CODE": ("120103", "120103"),
    "GIS_APP_DISTRICT_NAME": ("河西区", "河西区"),
    "GIS_APP_KIND_SYNONYMS": (
        "阳光房=屋顶违建；铁皮屋=steel_shed",
        "阳光房=屋顶违建；铁皮屋=steel_shed",
    ),
    "GIS_APP_EXPORT_LANG": ("en", "en"),
    "GIS_APP_CAMPAIGN_FILE": ("/etc/gis/campaign.yaml", Path("/etc/gis/campaign.yaml")),
    "GIS_APP_REGISTRATION_DAYS": ("5", 5),
    "GIS_APP_BASEMAP": ("tianditu", "tianditu"),
    "GIS_APP_TIANDITU_KEY": ("k3y", "k3y"),
    "GIS_APP_MAP_TILE_THRESHOLD": ("5000", 5000),
    "GIS_APP_MAP_VIEW_SITES": ("2000", 2000),
    "GIS_APP_TILE_CACHE_MB": ("16", 16.0),
    "GIS_APP_SECRET_KEY": ("s3cret", "s3cret"),
    "GIS_APP_COOKIE_SECURE": ("off", False),
    "GIS_APP_SESSION_HOURS": ("8.5", 8.5),
    "GIS_APP_SESSION_IDLE_MINUTES": ("30", 30.0),
    "GIS_APP_LOGIN_WINDOW_MINUTES": ("5", 5.0),
    "GIS_APP_LOGIN_MAX_FAILURES_USER": ("3", 3),
    "GIS_APP_LOGIN_MAX_FAILURES_IP": ("50", 50),
    "GIS_APP_PASSWORD_MIN_LENGTH": ("12", 12),
    "GIS_APP_HSTS": ("TRUE", True),
    "GIS_APP_TRUSTED_PROXIES": ("1", 1),
    "GIS_APP_PATROL_WALK_KMH": ("5", 5.0),
    "GIS_APP_PATROL_BIKE_KMH": ("15.5", 15.5),
    "GIS_APP_PATROL_DUPLICATE_METRES": ("50", 50.0),
    "GIS_APP_DIGEST_DIR": ("/srv/digest", Path("/srv/digest")),
    "GIS_APP_DIGEST_WEBHOOK_URL": (
        "https://oapi.example/robot/send?t=1",
        "https://oapi.example/robot/send?t=1",
    ),
    "GIS_APP_DIGEST_WEBHOOK_FORMAT": ("wecom", "wecom"),
    "GIS_APP_DIGEST_TIMEOUT_SECONDS": ("2.5", 2.5),
    "HOST": ("0.0.0.0", "0.0.0.0"),
    "PORT": ("8080", 8080),
    "GIS_APP_BASE_URL": ("https://gis.example.org/", "https://gis.example.org"),
    "NPM_REGISTRY": ("https://registry.npmmirror.com/", "https://registry.npmmirror.com"),
    "GIS_APP_LOG_FORMAT": ("TEXT", "text"),
    "GIS_APP_METRICS_TOKEN": ("scrape-token", "scrape-token"),
    "GIS_APP_PHOTO_ACCEL_REDIRECT": (" /_photos/ ", "/_photos/"),
    "GIS_APP_REPLICA_DATABASE_URL": (
        "postgresql://web@replica/gis",
        "postgresql://web@replica/gis",
    ),
    "GIS_APP_REPLICA_MAX_LAG_SECONDS": ("5", 5.0),
    "GIS_APP_PGBACKREST_CONFIG": ("/etc/pgbackrest/gis.conf", Path("/etc/pgbackrest/gis.conf")),
    "GIS_APP_PGBACKREST_STANZA": ("main", "main"),
    "GIS_APP_PGBACKREST_USER": ("postgres", "postgres"),
    "GIS_APP_PHOTO_BACKUP_DIR": ("/backup/photos", Path("/backup/photos")),
    "PROMETHEUS_MULTIPROC_DIR": ("/run/gis-app/metrics", Path("/run/gis-app/metrics")),
    "GIS_APP_FROZEN_NOW": ("2026-06-15", "2026-06-15"),
    "TEST_DATABASE_URL": ("postgresql://u@h/gis_test", "postgresql://u@h/gis_test"),
}


def _value(settings: Settings, name: str) -> Any:
    var = next(v for v in variables() if v.name == name)
    value = getattr(getattr(settings, var.group), var.attr)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_every_variable_has_a_sample_here() -> None:
    assert [v.name for v in variables()] == list(VALID)
    assert len(set(VALID)) == len(VALID)


@pytest.mark.parametrize("name", list(VALID))
def test_every_variable_is_parsed_to_its_type(name: str) -> None:
    raw, expected = VALID[name]
    value = _value(load_settings({name: raw}), name)
    assert value == expected and type(value) is type(expected)


def test_all_variables_together_reach_the_flask_config() -> None:
    config = load_config({name: raw for name, (raw, _) in VALID.items()})
    assert config["DATABASE_URL"] == "postgresql+psycopg2://owner@db.example:5432/gis"
    assert config["APP_DATABASE_URL"] == "postgresql+psycopg2://web:pw@db/gis"
    assert config["MAX_CONTENT_LENGTH"] == 64 * 1024 * 1024
    assert config["PHOTO_DIR"] == "/mnt/photos" and config["DATA_DIR"] == "/srv/gis/data"
    assert config["SECRET_KEY"] == "s3cret" and config["TIANDITU_KEY"] == "k3y"
    assert config["SESSION_COOKIE_SECURE"] is False and config["HSTS"] is True
    assert config["SESSION_LIFETIME_HOURS"] == 8.5 and config["TRUSTED_PROXIES"] == 1
    assert (config["PATROL_WALK_KMH"], config["PATROL_BIKE_KMH"]) == (5.0, 15.5)
    assert config["CAMPAIGN_FILE"] == "/etc/gis/campaign.yaml"
    assert config["FROZEN_NOW"] == "2026-06-15" and config["DISTRICT_NAME"] == "河西区"


def test_defaults_and_values_computed_from_others(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://owner:pw@db:5432/gis",
            "GIS_APP_DB_APP_ROLE": "web_role",
            "GIS_APP_DATA_DIR": str(tmp_path),
            # an empty variable counts as unset
            "GIS_APP_MAX_UPLOAD_MB": "",
            "GIS_APP_BASEMAP": "  ",
        }
    )
    assert settings.database.app_url == "postgresql://web_role@db:5432/gis"
    assert settings.data.photo_dir == tmp_path / "photos"
    assert settings.data.max_upload_mb == 32 and settings.maps.basemap == "offline"
    config = settings.flask_config()
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert config["CAMPAIGN_FILE"] == "" and config["FROZEN_NOW"] == ""
    assert (
        load_settings({"GIS_APP_DATA_DIR": str(tmp_path)}).flask_config()["SECRET_KEY"]
        == (config["SECRET_KEY"])
    )


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("GIS_APP_MAX_UPLOAD_MB", "abc", "应为大于 0 的整数"),
        ("GIS_APP_MAX_UPLOAD_MB", "0", "应为大于 0 的整数"),
        ("GIS_APP_PHOTO_MAX_PIXELS", "1.5", "应为大于 0 的整数"),
        ("GIS_APP_DB_MAX_OVERFLOW", "-1", "应为不小于 0 的整数"),
        ("PORT", "70000", "应为 1～65535 之间的整数"),
        ("GIS_APP_SESSION_HOURS", "-12", "应为大于 0 的数字"),
        ("GIS_APP_PHOTO_MAX_MB", "twenty", "应为大于 0 的数字"),
        ("GIS_APP_PATROL_WALK_KMH", "inf", "应为大于 0 的数字"),
        ("GIS_APP_PATROL_BIKE_KMH", "nan", "应为大于 0 的数字"),
        ("GIS_APP_HSTS", "enabled", "应为布尔值（1/0、true/false、yes/no、on/off）"),
        ("GIS_APP_LOG_FORMAT", "xml", "应为 json 或 text"),
        ("GIS_APP_PHOTO_ACCEL_REDIRECT", "_photos", "应为以 / 开头并以 / 结尾的路径"),
        ("GIS_APP_BASEMAP", "foo", "不是已知的底图（可选：offline、tianditu、osm、amap）"),
        ("GIS_APP_DISTRICT_CODE", "1201", "应为 6 位行政区划代码"),
        ("GIS_APP_KIND_SYNONYMS", "阳光房=玻璃房", "应为“词=违建类型”"),
        ("GIS_APP_KIND_SYNONYMS", "阳光房", "应为“词=违建类型”"),
        ("DATABASE_URL", "mysql://u@h/db", "应为 PostgreSQL 连接串"),
        ("APP_DATABASE_URL", "gis_app_web@db", "应为 PostgreSQL 连接串"),
        ("TEST_DATABASE_URL", "sqlite:///x", "应为 PostgreSQL 连接串"),
        ("GIS_APP_DB_APP_ROLE", "Web-Role", "应为数据库角色名"),
        ("GIS_APP_FROZEN_NOW", "yesterday", "应为日期（YYYY-MM-DD）或 ISO 时间"),
        ("NPM_REGISTRY", "registry.npmjs.org", "应为 http:// 或 https:// 开头的网址"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, raw: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: raw})
    [problem] = caught.value.problems
    assert problem.startswith(f"{name}={raw!r}：") and expected in problem
    assert str(caught.value).startswith(
        "环境变量配置有误（说明见 docs/operations/configuration.md）"
    )


def test_every_bad_variable_is_named_at_once_and_passwords_are_not_shown() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "DATABASE_URL": "mysql://owner:hunter2@db/gis",
                "GIS_APP_MAX_UPLOAD_MB": "abc",
                "GIS_APP_SESSION_HOURS": "-1",
            }
        )
    message = str(caught.value)
    assert [p.split("=", 1)[0] for p in caught.value.problems] == [
        "DATABASE_URL",
        "GIS_APP_MAX_UPLOAD_MB",
        "GIS_APP_SESSION_HOURS",
    ]
    assert "hunter2" not in message and "mysql://owner:***@db/gis" in message


def _names_read_in_source() -> set[str]:
    pattern = re.compile(r"""(?:environ\.get|environ\[|getenv)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
    found = set()
    for folder in ("gis_app", "layers"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_variable_read_anywhere_is_declared() -> None:
    read = _names_read_in_source()
    assert {"DATABASE_URL", "TEST_DATABASE_URL", "GIS_APP_DB_APP_ROLE"} <= read
    assert read <= {v.name for v in variables()}


def test_every_config_key_the_app_reads_is_always_set() -> None:
    keys = set()
    for path in (ROOT / "gis_app").rglob("*"):
        if path.suffix in (".py", ".html"):
            text = path.read_text(encoding="utf-8")
            keys |= set(re.findall(r"""config\[["']([A-Z][A-Z0-9_]+)["']\]""", text))
            keys |= set(re.findall(r"\bconfig\.([A-Z][A-Z0-9_]+)\b", text))
    assert {"PHOTO_DIR", "PASSWORD_MIN_LENGTH", "PATROL_WALK_KMH", "DB_SET_ROLE"} <= keys
    assert keys <= set(load_config({}))


# ---------------------------------------------------------------- the reference


def test_committed_reference_is_the_generated_one() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == reference(), (
        "docs/operations/configuration.md is stale: "
        "run gis-app settings doc --out docs/operations/configuration.md"
    )


def test_reference_names_every_variable_with_type_default_and_meaning() -> None:
    rows = {
        line.split("|")[1].strip(" `"): [c.strip() for c in line.split("|")[2:5]]
        for line in reference().splitlines()
        if line.startswith("| `")
    }
    assert list(rows) == [v.name for v in variables()]
    for kind, default, meaning in rows.values():
        assert kind and default and meaning
    assert rows["GIS_APP_MAX_UPLOAD_MB"][:2] == ["integer > 0", "`32`"]
    assert rows["GIS_APP_COOKIE_SECURE"][:2] == ["boolean", "`1`"]
    assert rows["GIS_APP_BASEMAP"][0].startswith("one of `offline`")
    assert rows["GIS_APP_PHOTO_MAX_PIXELS"][1] == "`60,000,000`"
    assert str(ROOT) not in reference()  # nothing of this machine


def test_settings_doc_command_prints_the_reference(tmp_path: Path) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    assert runner.invoke(cli, ["settings", "doc"]).output == reference()
    out = tmp_path / "configuration.md"
    result = runner.invoke(cli, ["settings", "doc", "--out", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8") == reference()


def test_settings_check_prints_the_values_with_secrets_masked(monkeypatch) -> None:
    from gis_app.cli import cli

    monkeypatch.setenv("GIS_APP_SECRET_KEY", "do-not-print")
    monkeypatch.setenv("GIS_APP_TIANDITU_KEY", "tk-do-not-print")
    monkeypatch.setenv("DATABASE_URL", "postgresql://owner:pw-do-not-print@db/gis")
    monkeypatch.setenv("GIS_APP_SESSION_HOURS", "8")
    monkeypatch.delenv("GIS_APP_MAX_UPLOAD_MB", raising=False)
    result = CliRunner().invoke(cli, ["settings", "check"])
    assert result.exit_code == 0, result.output
    assert "do-not-print" not in result.output
    lines = dict(line.split("#", 1) for line in result.stdout.splitlines())
    lines = {k.strip(): v.strip() for k, v in lines.items()}
    assert lines["GIS_APP_SECRET_KEY=***"] == "environment"
    assert lines["GIS_APP_TIANDITU_KEY=***"] == "environment"
    assert lines["DATABASE_URL=postgresql://owner:***@db/gis"] == "environment"
    assert lines["GIS_APP_SESSION_HOURS=8"] == "environment"
    assert lines["GIS_APP_MAX_UPLOAD_MB=32"] == "default"
    assert len(lines) == len(VALID)


def test_settings_check_refuses_a_bad_environment(monkeypatch) -> None:
    from gis_app.cli import cli

    monkeypatch.setenv("GIS_APP_BASEMAP", "google")
    result = CliRunner().invoke(cli, ["settings", "check"])
    assert result.exit_code == 1
    assert "GIS_APP_BASEMAP='google'：不是已知的底图" in result.output


# ---------------------------------------------------------------- start-up stops


def test_create_app_stops_before_anything_is_set_up(monkeypatch) -> None:
    from gis_app import create_app

    monkeypatch.setenv("GIS_APP_MAX_UPLOAD_MB", "abc")
    with pytest.raises(SettingsError, match="GIS_APP_MAX_UPLOAD_MB='abc'：应为大于 0 的整数"):
        create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})


def _run(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("db", "current"),
        ("serve",),
        ("settings", "check"),
        ("backup", "-o", "x.tar"),
        ("assets", "fetch"),
    ],
)
def test_gis_app_stops_with_the_message_and_no_traceback(args: tuple[str, ...]) -> None:
    result = _run(
        "import sys; sys.argv[0] = 'gis-app'; from gis_app.cli import main; main()",
        {"GIS_APP_SESSION_HOURS": "-1"},
        *args,
    )
    assert result.returncode == 1, result.stderr
    assert "错误：环境变量配置有误" in result.stderr
    assert "GIS_APP_SESSION_HOURS='-1'：应为大于 0 的数字" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_wsgi_module_stops_gunicorn_with_the_message() -> None:
    result = _run("import gis_app.wsgi", {"GIS_APP_HSTS": "sometimes"})
    assert result.returncode == 4  # gunicorn's "app failed to load": no restart loop
    assert "GIS_APP_HSTS='sometimes'：应为布尔值" in result.stderr
    assert "Traceback" not in result.stderr
