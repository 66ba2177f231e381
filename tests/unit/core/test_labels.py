"""No field name in a refusal a person reads (issue 15, point 4): every message the services
raise, as AppError carries it (core/labels.readable), names fields in Chinese; the field names
messages are built from (`f"{name} 必须是整数"`) all have a label."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import gis_app
import gis_app.features.ledger.schemas  # registers the site fields' labels
from gis_app.core.errors import Conflict, ValidationError
from gis_app.core.labels import WORDS, readable

ROOT = Path(gis_app.__file__).parent
ERRORS = {
    "AppError", "BadRequest", "ValidationError", "NotFound", "Forbidden", "Conflict",
    "Unauthorized", "TooManyAttempts", "ImportRejected", "PhotoTooLarge",
}  # fmt: skip
#: words people know as they are: formats, units, standards, protocol words of API-only
#: refusals (a JSON body, an HTTP header), coordinate systems an import form offers
TECHNICAL = {
    "ASCII", "Authorization", "Basic", "Bearer", "CSRF", "CSV", "Content", "Type", "DTD",
    "EPSG", "Excel", "FeatureCollection", "GB", "GBK", "GeoJSON", "GeoPackage", "ISO", "JPEG",
    "JSON", "MB", "MBTiles", "MultiPolygon", "NUL", "PMTiles", "PNG", "POST", "Point",
    "Polygon", "PostGIS", "RFC", "SQLite", "Shapefile", "UTF", "UUID", "WGS84", "WebP", "X",
    "Street", "application", "json", "html", "api", "v1", "cgcs2000", "gcj02", "wgs84",
    "xls", "xlsx", "zip", "gzip", "prj", "x00", "f", "http", "https",
}  # fmt: skip
#: fields only machine requests name (headers, OGC parameters, URL parts)
API_ONLY = {"Authorization", "X-Street", "bbox-crs", "collectionId", "featureId", "endpoint",
            "method", "f", "size", "mode", "wanted"}  # fmt: skip
#: command lines for the administrator, API paths, OGC parameters (API-only) left out
COMMAND = re.compile(r"gis-app[^）)]*|--[a-z-]+|/api/v1/\S*|\{[^{}]*\}|bbox-crs")
#: a name: letters first, not inside a number or a time (2026-W24, 2026-06-15T09:30)
NAME = re.compile(r"(?<![A-Za-z0-9_./\-])[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _raises() -> list[tuple[str, str, str | None]]:
    """(where, message with each placeholder as 〇, literal field) of every raise."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ERRORS:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                text = first.value
            elif isinstance(first, ast.JoinedStr):
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else "〇" for v in first.values
                )
            else:
                continue
            field = None
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                field = node.args[1].value
            found.append((f"{path.relative_to(ROOT)}:{node.lineno}", text, field))
    return found


RAISES = _raises()


def test_the_walk_finds_the_services_refusals() -> None:
    assert len(RAISES) > 400
    assert any("缺少版本号" in text for _, text, _ in RAISES)


def test_no_refusal_names_a_field_in_latin_letters() -> None:
    left = []
    for where, text, _field in RAISES:
        shown = COMMAND.sub("", readable(text))
        latin = [w for w in NAME.findall(shown) if w not in TECHNICAL]
        if latin:
            left.append(f"{where}: {shown} → {latin}")
    assert left == []


def test_every_field_a_refusal_names_has_a_chinese_label() -> None:
    fields = {field for _, _, field in RAISES if isinstance(field, str)}
    missing = sorted(f for f in fields - API_ONLY if f not in WORDS)
    assert missing == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "缺少版本号 version：请带上读取点位时得到的 version",
            "缺少版本号：请带上读取点位时得到的版本号",
        ),
        ("原因 reason 必须是文字", "原因必须是文字"),
        ("缺少任职起始日期（since）", "缺少任职起始日期"),
        ("area.radius_m 必须是数字", "半径必须是数字"),
        ("核查结果必须是 pass（合格）或 fail（不合格）", "核查结果必须是合格或不合格"),
        ("请至少上传一张现场照片（photos）", "请至少上传一张现场照片"),
        ("面积 area_m2 须为数字", "面积须为数字"),
        ("没有名为“insp.dzg”的执法队员", "没有名为“insp.dzg”的执法队员"),
    ],
)
def test_readable_puts_labels_for_names(raw: str, shown: str) -> None:
    assert readable(raw) == shown


def test_an_app_error_carries_the_readable_message_and_the_field_name() -> None:
    error = ValidationError("每人上限 cap 必须是整数：'abc'", "cap")
    assert error.message == "每人上限必须是整数：'abc'" and error.field == "cap"
    assert error.to_dict()["field"] == "cap"
    assert "attach_to" not in Conflict("请选择 attach_to 或 force_reason", "attach_to").message
