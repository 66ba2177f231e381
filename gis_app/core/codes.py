"""The enumerated values of the ledger: stored codes and their Chinese labels.

These lists are the single source for validation, labels in pages and exports, and the
data dictionary. The database CHECK constraints (in the migrations) repeat the codes, and
`tests/test_codes.py` checks that both agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

STATUSES: Final[Mapping[str, str]] = {
    "new": "新发现",
    "registered": "已建档",
    "in_progress": "治理中",
    "awaiting_acceptance": "待验收",
    "closed": "已销账",
}

DISPOSITIONS: Final[Mapping[str, str]] = {
    "demolish": "拆除",
    "rectify": "规范治理",
}

KINDS: Final[Mapping[str, str]] = {
    "rooftop": "屋顶违建",
    "courtyard": "院内私搭乱建",
    "extension": "接建扩建",
    "steel_shed": "彩钢棚厦",
    "enclosure": "圈占公共空间",
    "storefront": "底商外扩",
    "other": "其他",
}

SOURCES: Final[Mapping[str, str]] = {
    "ledger": "台账导入",
    "manual": "手工登记",
    "patrol": "巡查发现",
}

FLAGS: Final[Mapping[str, str]] = {
    # the plan's words (应拆尽拆 for these sites)
    "central_inspection": "中央第二次环保督查",
    "hardship": "困难户",
    "renovation": "旧楼区改造",
    "obstruction": "阻挠执法",
}

# what identifies the person concerned (相对人) or describes their situation: never in an
# export meant for other agencies (hardship is for the civil-affairs bureau's view only)
PERSONAL_FIELDS: Final = ("person_name", "person_contact", "flag_hardship")


def label(mapping: Mapping[str, str], code: str | None) -> str:
    """The Chinese label of a code ('' for None, the code itself if unknown)."""
    if code is None:
        return ""
    return mapping.get(code, code)


# other spellings found in the streets' own ledgers
ALIASES: Final[Mapping[str, str]] = {
    "拆": "demolish",
    "拆除违建": "demolish",
    "规范整治": "rectify",
    "整治": "rectify",
    "规范": "rectify",
    "新增": "new",
    "建档": "registered",
    "整改中": "in_progress",
    "已完成待验收": "awaiting_acceptance",
    "已销号": "closed",
    "销账": "closed",
}


def lookup(mapping: Mapping[str, str], value: str) -> str | None:
    """Accept a code, its Chinese label or a known alias (case-insensitive); None if unknown."""
    text = value.strip()
    if text in mapping:
        return text
    lowered = text.lower()
    for code, zh in mapping.items():
        if lowered == code.lower() or text == zh:
            return code
    alias = ALIASES.get(text)
    return alias if alias in mapping else None


# ---------------------------------------------------------------- the rectification workflow

PHOTO_KINDS: Final[Mapping[str, str]] = {
    "before": "整改前",
    "after": "整改后",
    "inspection": "巡查/抽查",
}
EXTENSION_STATUSES: Final[Mapping[str, str]] = {
    "pending": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
}
#: the changes of a 中央第二次环保督查 site a street may ask the office for (应拆尽拆)
CENTRAL_CHANGES: Final[Mapping[str, str]] = {
    "rectify": "治理方式改为「规范治理」",
    "unflag": "取消中央第二次环保督查标记",
}
#: the 规范治理 plan of an old-building renovation site before the housing committee (住建委)
RENOVATION_PLAN_STATUSES: Final[Mapping[str, str]] = {
    "submitted": "待住建委审核",
    "returned": "已退回待修改",
    "approved": "已批准",
}
REOPEN_CAUSES: Final[Mapping[str, str]] = {
    "spot_check": "抽查不合格",
    "rebound": "回潮",
}
REPORT_STATUSES: Final[Mapping[str, str]] = {
    "draft": "草稿",
    "submitted": "已报送",
}

#: 融媒体中心's coverage (plan 四(五): 曝光、跟踪报道)
COVERAGE_KINDS: Final[Mapping[str, str]] = {
    "exposure": "曝光",
    "follow_up": "跟踪报道",
    "other": "其他",
}
#: a street's publicity work (plan 六(三)) and the unit its quantity counts
PUBLICITY_KINDS: Final[Mapping[str, str]] = {
    "banner": "横幅",
    "leaflet": "宣传单",
    "board": "展板",
    "screen": "电子屏",
    "door_to_door": "入户宣传",
    "other": "其他",
}
PUBLICITY_UNITS: Final[Mapping[str, str]] = {
    "banner": "条",
    "leaflet": "份",
    "board": "块",
    "screen": "块",
    "door_to_door": "户",
    "other": "件",
}
