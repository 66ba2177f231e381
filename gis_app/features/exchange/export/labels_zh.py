"""The Chinese words of an export's field sheet (字段说明): the description and the type of every
field, so that a Chinese export is Chinese throughout (its columns, code labels and field
sheet); the English ones stay in fields.py. A field without a Chinese description here falls
back to the English one (tests/unit/exchange checks there is none)."""

from __future__ import annotations

from typing import Final

from gis_app.core import codes

TYPES_ZH: Final = {
    "integer": "整数",
    "number": "数值",
    "string": "文本",
    "boolean": "是/否",
    "date": "日期（年-月-日）",
    "datetime": "日期时间（北京时间）",
}
SHEET_HEADINGS: Final = {
    "zh": ["字段", "英文名", "中文名", "类型", "说明", "代码"],
    "en": ["field", "English name", "Chinese name", "type", "description", "codes"],
}
_PERSONAL = "涉及相对人，仅限区领导小组办公室的完整导出。"

SITE_DESCRIPTIONS_ZH: Final = {
    "id": "本系统中的点位标识：点位存续期间不变（GeoJSON 要素的 id）。",
    "code": "台账编号：在本区未删除的点位中唯一。",
    "street_code": "点位所在街道的统计代码（9 位或 12 位），由点位位置确定，不可填写。",
    "street_name": "所在街道的名称。",
    "address": "点位地址。",
    "community": "所在社区。",
    "kind": "违建类型。",
    "area_m2": "面积，单位平方米。",
    "disposition": "治理方式：拆除或规范治理。",
    "status": "点位状态。",
    "overdue": "逾期：当前期限已过（按北京时间）且尚未销账，以导出当天计。",
    **{
        f"flag_{code}": f"标记：{label}。" + (_PERSONAL if code == "hardship" else "")
        for code, label in codes.FLAGS.items()
    },
    "committed_deadline": "街道承诺的期限（年-月-日）。",
    "current_deadline": "现行期限：承诺期限，或最近一次批准的延期（年-月-日）。",
    "source": "点位进入台账的途径。",
    "version": "版本号：每修改一次加一。",
    "created_at": "登记时间（北京时间，+08:00）。",
    "updated_at": "最近修改时间（北京时间，+08:00）；OGC API 的 datetime 筛选按此时间。",
    "person_name": "相对人。" + _PERSONAL,
    "person_contact": "相对人的联系电话。" + _PERSONAL,
    "note": "备注，可能写有人名，" + _PERSONAL,
}
STREET_DESCRIPTIONS_ZH: Final = {
    "code": "街道的统计代码（9 位或 12 位），GeoJSON 要素的 id。",
    "name": "街道名称。",
    "name_en": "街道的英文名。",
    "district_code": "所属区的代码（6 位）。",
    "approximate": "示意边界（非官方边界）。",
    "source": "边界的来源。",
    "area_km2": "面积，单位平方公里。",
    "sites_total": "街道内未删除的点位数（按导出的筛选条件）。",
    **{f"sites_{code}": f"状态为「{label}」的点位数。" for code, label in codes.STATUSES.items()},
    "sites_overdue": "逾期点位数（见点位的“逾期”字段）。",
    "updated_at": "边界最近修改时间（北京时间，+08:00）。",
}
#: the point's columns of the tabular formats (the sites' point; a point inside each street)
POINT_DESCRIPTIONS_ZH: Final = {
    "lon": "经度，WGS 84 / CGCS2000，单位度。",
    "lat": "纬度，WGS 84 / CGCS2000，单位度。",
}
DESCRIPTIONS_ZH: Final = {
    "sites": SITE_DESCRIPTIONS_ZH | POINT_DESCRIPTIONS_ZH,
    "streets": STREET_DESCRIPTIONS_ZH | POINT_DESCRIPTIONS_ZH,
}


def description(layer: str, name: str, english: str, lang: str) -> str:
    """A field's description in the export's language."""
    if lang != "zh":
        return english
    return DESCRIPTIONS_ZH.get(layer, {}).get(name, english)


def type_label(type_: str, lang: str) -> str:
    return TYPES_ZH.get(type_, type_) if lang == "zh" else type_


def code_list(mapping: dict[str, str] | None, lang: str) -> str:
    """The codes of a field: their Chinese labels (a Chinese export writes the labels), or
    code = label pairs in English."""
    if not mapping:
        return ""
    if lang == "zh":
        return "；".join(mapping.values())
    return "; ".join(f"{k} = {v}" for k, v in mapping.items())
