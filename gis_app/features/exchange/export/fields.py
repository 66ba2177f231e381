"""The fields of every export: canonical English name, Chinese name, type, codes, Shapefile name.

One list per layer is the single source for the GeoJSON properties, the columns of GeoPackage,
Shapefile, KML, CSV and .xlsx, the OGC API, and the data dictionary (docs/data-dictionary.md),
so that a field cannot appear in one without the others. The values come from PostgreSQL
(`gis_app.features.exchange.export.source`); this module only describes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from gis_app.core import codes

FieldType = Literal["integer", "number", "string", "boolean", "date", "datetime"]
Lang = Literal["en", "zh"]
LANGS: Final = ("en", "zh")
LANG_MESSAGE: Final = f"字段名语言 lang 只能是 {' 或 '.join(LANGS)}"


@dataclass(frozen=True)
class ExportField:
    name: str  # canonical English name: GeoJSON property, column name
    zh: str  # Chinese name: lang=zh property / column header
    type: FieldType
    description: str
    shp: str  # dBASE field name (at most 10 characters)
    codes: Mapping[str, str] | None = None  # code -> Chinese label
    width: int | None = None  # Shapefile field width in bytes (UTF-8; at most 254)
    personal: bool = False  # only in the district office's full export
    derived: bool = False  # computed by the system; a ledger import ignores it

    def title(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.name


def _flag(code: str, shp: str, personal: bool = False) -> ExportField:
    why = (
        " Says something about the person concerned: district office export only."
        if personal
        else ""
    )
    return ExportField(
        f"flag_{code}",
        codes.FLAGS[code],
        "boolean",
        f"Flag: {codes.FLAGS[code]} ({code.replace('_', ' ')}).{why}",
        shp,
        personal=personal,
    )


SITE_FIELDS: Final[tuple[ExportField, ...]] = (
    ExportField(
        "id",
        "标识",
        "integer",
        "Site id in this system: stable for the life of the site (the GeoJSON feature id).",
        "id",
        derived=True,
    ),
    ExportField(
        "code",
        "编号",
        "string",
        "Ledger code (台账编号); unique among the live sites of the district.",
        "code",
        width=192,
    ),
    ExportField(
        "street_code",
        "街道代码",
        "string",
        "Statistical code (9 or 12 digits) of the street the point lies in (derived from the "
        "point, never typed).",
        "street_cd",
        width=12,
        derived=True,
    ),
    ExportField(
        "street_name", "街道", "string", "Name of that street.", "street", width=192, derived=True
    ),
    ExportField("address", "地址", "string", "Address of the site.", "address", width=254),
    ExportField("community", "社区", "string", "Community (社区).", "community", width=192),
    ExportField(
        "kind", "违建类型", "string", "Kind of construction.", "kind", codes.KINDS, width=32
    ),
    ExportField("area_m2", "面积（㎡）", "number", "Area in square metres.", "area_m2"),
    ExportField(
        "disposition",
        "治理方式",
        "string",
        "Disposition: demolish or rectify in place.",
        "dispositn",
        codes.DISPOSITIONS,
        width=16,
    ),
    ExportField(
        "status", "状态", "string", "Status of the site.", "status", codes.STATUSES, width=24
    ),
    ExportField(
        "overdue",
        "逾期",
        "boolean",
        "Overdue: the current deadline has passed (Asia/Shanghai calendar) and the site is not "
        "closed, on the day of the export.",
        "overdue",
        derived=True,
    ),
    _flag("central_inspection", "f_central"),
    # a household in hardship is the civil-affairs bureau's business, not other agencies'
    _flag("hardship", "f_hardshp", personal=True),
    _flag("renovation", "f_renovat"),
    _flag("obstruction", "f_obstruct"),
    ExportField(
        "committed_deadline",
        "承诺期限",
        "date",
        "Deadline the street committed to (YYYY-MM-DD).",
        "commit_dl",
    ),
    ExportField(
        "current_deadline",
        "当前期限",
        "date",
        "Deadline in force: the committed one, or the last approved extension (YYYY-MM-DD).",
        "current_dl",
    ),
    ExportField(
        "source",
        "来源",
        "string",
        "How the site entered the ledger.",
        "source",
        codes.SOURCES,
        width=16,
    ),
    ExportField(
        "version",
        "版本",
        "integer",
        "Version: grows by one with every change.",
        "version",
        derived=True,
    ),
    ExportField(
        "created_at",
        "创建时间",
        "datetime",
        "When the site was registered (RFC 3339, Asia/Shanghai, +08:00).",
        "created",
        width=25,
        derived=True,
    ),
    ExportField(
        "updated_at",
        "更新时间",
        "datetime",
        "Last change (RFC 3339, Asia/Shanghai, +08:00); the OGC API `datetime` filter applies "
        "to it.",
        "updated",
        width=25,
        derived=True,
    ),
    ExportField(
        "person_name",
        "相对人",
        "string",
        "Person concerned (相对人). Personal data: district office export only.",
        "person",
        width=192,
        personal=True,
    ),
    ExportField(
        "person_contact",
        "联系电话",
        "string",
        "Contact of the person concerned. Personal data: district office export only.",
        "contact",
        width=192,
        personal=True,
    ),
    ExportField(
        "note",
        "备注",
        "string",
        "Free note; may name people, so district office export only.",
        "note",
        width=254,
        personal=True,
    ),
)

# the point as two columns, in CSV and .xlsx (other formats carry the geometry itself)
LON = ExportField("lon", "经度", "number", "Longitude, WGS 84 / CGCS2000 degrees.", "lon")
LAT = ExportField("lat", "纬度", "number", "Latitude, WGS 84 / CGCS2000 degrees.", "lat")

STREET_FIELDS: Final[tuple[ExportField, ...]] = (
    ExportField(
        "code",
        "街道代码",
        "string",
        "Statistical code of the street (9 digits, or 12); the GeoJSON feature id.",
        "code",
        width=12,
    ),
    ExportField("name", "街道名称", "string", "Name of the street.", "name", width=192),
    ExportField("name_en", "英文名", "string", "English name.", "name_en", width=128),
    ExportField(
        "district_code",
        "区代码",
        "string",
        "Code of the district (6 digits).",
        "district",
        width=12,
    ),
    ExportField(
        "approximate",
        "示意边界",
        "boolean",
        "The polygon is approximate (not an official boundary).",
        "approx",
    ),
    ExportField(
        "source", "边界来源", "string", "Where the boundary comes from.", "source", width=254
    ),
    ExportField(
        "area_km2", "面积（km²）", "number", "Area in square kilometres.", "area_km2", derived=True
    ),
    ExportField(
        "sites_total",
        "点位总数",
        "integer",
        "Live sites in the street (matching the export's filters).",
        "n_total",
        derived=True,
    ),
    *(
        ExportField(
            f"sites_{code}",
            f"{label}点位数",
            "integer",
            f"Sites with status {code} ({label}).",
            shp,
            derived=True,
        )
        for (code, label), shp in zip(
            codes.STATUSES.items(),
            ("n_new", "n_regist", "n_inprog", "n_await", "n_closed"),
            strict=True,
        )
    ),
    ExportField(
        "sites_overdue",
        "逾期点位数",
        "integer",
        "Overdue sites (see the sites' `overdue`).",
        "n_overdue",
        derived=True,
    ),
    ExportField(
        "updated_at",
        "更新时间",
        "datetime",
        "Last change of the boundary (RFC 3339, +08:00).",
        "updated",
        width=25,
        derived=True,
    ),
)

LAYERS: Final[Mapping[str, tuple[ExportField, ...]]] = {
    "sites": SITE_FIELDS,
    "streets": STREET_FIELDS,
}
LAYER_TITLES: Final[Mapping[str, str]] = {"sites": "违建点位", "streets": "街道边界"}


def fields_for(layer: str, personal: bool = False) -> tuple[ExportField, ...]:
    """The fields of a layer's export; personal fields only for the district office's."""
    return tuple(f for f in LAYERS[layer] if personal or not f.personal)
