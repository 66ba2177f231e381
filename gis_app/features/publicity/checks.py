"""Input checks shared by coverage and publicity: each refusal names its field in Chinese."""

from __future__ import annotations

import re
import sys
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from gis_app.core import clock
from gis_app.core.errors import ValidationError
from gis_app.core.text import clean_text
from gis_app.features.ledger.schemas import parse_date

MAX_URL = 2000
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def text(value: Any, field: str, label: str, limit: int, required: bool = True) -> str:
    """Trimmed text, required or not, at most `limit` characters (the app's free-text check,
    `core.text.clean_text`, with the length found in the refusal)."""
    value = clean_text(value, field, label, required, limit=sys.maxsize)
    if len(value) > limit:
        raise ValidationError(f"{label}过长（最多 {limit} 个字，现为 {len(value)} 个）", field)
    return value


def choice(value: Any, field: str, label: str, options: dict[str, str] | Any) -> str:
    """One of `options` (codes); their Chinese labels are accepted too."""
    if isinstance(value, str):
        value = value.strip()
        for code, name in options.items():
            if value in (code, name):
                return code
    allowed = "、".join(options.values())
    if value in (None, ""):
        raise ValidationError(f"缺少{label}（可选：{allowed}）", field)
    raise ValidationError(f"{label}无效：{str(value)[:40]!r}（可选：{allowed}）", field)


def past_date(value: Any, field: str, label: str) -> date:
    """A date not later than today."""
    day = parse_date(value, field)
    if day is None:
        raise ValidationError(f"缺少{label}", field)
    if day > clock.today():
        raise ValidationError(f"{label}不能晚于今天（{clock.today()}）：{day}", field)
    if day.year < 2000:
        raise ValidationError(f"{label}过早：{day}", field)
    return day


def flag(value: Any, field: str, label: str) -> bool:
    """A yes/no (JSON true/false; a form's "1"/"0", "on")."""
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off"):
        return False
    if value in ("1", "true", "on"):
        return True
    raise ValidationError(f"{label}须是 true 或 false", field)


def web_link(value: Any, field: str = "url", label: str = "链接") -> str:
    """An http(s) address with a host, no spaces or control characters."""
    link = text(value, field, label, MAX_URL)
    if _CONTROL.search(link):
        raise ValidationError(f"{label}不能含空格或控制字符", field)
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{label}须是以 http:// 或 https:// 开头的网址：{link[:60]}", field)
    if parts.username or parts.password:
        raise ValidationError(f"{label}不能含账户或密码", field)
    try:
        parts.port  # noqa: B018 - a bad port raises
    except ValueError:
        raise ValidationError(f"{label}的端口无效：{link[:60]}", field) from None
    return link


def quantity(value: Any, field: str = "quantity", label: str = "数量") -> int:
    """A whole number 1 … 1,000,000 (a form's text too)."""
    if isinstance(value, bool):
        raise ValidationError(f"{label}须是正整数", field)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValidationError(f"缺少{label}", field)
        if not value.isdigit():
            raise ValidationError(f"{label}须是正整数：{value[:20]}", field)
        value = int(value)
    if value is None:
        raise ValidationError(f"缺少{label}", field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValidationError(f"{label}须是正整数", field)
    if not 1 <= value <= 1_000_000:
        raise ValidationError(f"{label}须在 1 到 1000000 之间：{value}", field)
    return value


def code_list(value: Any, field: str, label: str) -> list[str]:
    """Codes given as a JSON list of strings, or a form's text separated by commas, 、 or
    white space; duplicates dropped, order kept."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = [v for v in re.split(r"[\s,，、;；]+", value) if v]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        raise ValidationError(f"{label}须是编号的列表", field)
    if len(items) > 200:
        raise ValidationError(f"{label}过多（最多 200 个）", field)
    return list(dict.fromkeys(items))
