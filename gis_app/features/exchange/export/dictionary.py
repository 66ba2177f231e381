"""The data dictionary of the exports (docs/data-dictionary.md), generated from the field lists.

`gis-app data-dictionary --out docs/data-dictionary.md` writes it; a test checks that the
committed file is what this module generates, so it cannot go stale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gis_app.core import codes
from gis_app.features.exchange.export.fields import (
    LAT,
    LON,
    SITE_FIELDS,
    STREET_FIELDS,
    ExportField,
)

CODE_LISTS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "status": ("状态", codes.STATUSES),
    "disposition": ("治理方式", codes.DISPOSITIONS),
    "kind": ("违建类型", codes.KINDS),
    "source": ("来源", codes.SOURCES),
}

INTRO = """\
# Data dictionary of the exports (数据字典)

Generated from `gis_app/features/exchange/export/fields.py` and `gis_app/core/codes.py` by
`gis-app data-dictionary --out docs/data-dictionary.md`; do not edit by hand (a test compares).

Every export of the sites and the street boundaries — GeoJSON, GeoPackage, zipped Shapefile,
KML, CSV, .xlsx, and the OGC API – Features at `/ogc` — has the fields below, in this order.

- **Names.** The English name is canonical (GeoJSON properties, columns, OGC API). With
  `lang=zh` (web page, API) or `--lang zh` (command line) the Chinese names are used instead and
  code values are given as their Chinese labels. In a GeoPackage the other language's name is
  the column's alias. Shapefile (dBASE) names are limited to 10 characters: the *shp* column.
- **Coordinates.** WGS 84 / CGCS2000 longitude and latitude (EPSG:4326, axis order longitude,
  latitude), 7 decimals (about 1 cm). GeoJSON follows RFC 7946: no `crs` member, polygons'
  exterior rings counter-clockwise. CSV and .xlsx carry the point as `lon`/`lat` (经度/纬度); for
  streets that is a point inside the polygon, and the CSV also has the polygon as `WKT`.
- **Ids.** The site id (`id`, also the GeoJSON feature id) never changes for a site; the
  ledger code (`code`) is the business key that survives a re-import. A street's id is its
  code.
- **Types.** `date` is `YYYY-MM-DD` (Asia/Shanghai calendar day); `datetime` is RFC 3339 in
  Asia/Shanghai (`2026-06-15T10:00:00+08:00`); in a GeoPackage it is a DateTime (stored in
  UTC), in .xlsx a date-time cell in Beijing time, in Shapefile and KML text. `boolean` is
  `true`/`false` (CSV with `lang=zh` and .xlsx with `lang=zh`: 是/否; Shapefile: T/F).
- **Shapefile.** Text is UTF-8 and the archive has a `.cpg` saying so; a text field holds at
  most 254 bytes (about 84 Chinese characters), longer text is cut.
- **KML.** The Placemark name is the site code (streets: the street name).
- **Personal data.** Fields marked *personal* (the person concerned, the contact, free notes)
  are never in an export for other agencies nor in the OGC API; only the district office's
  roles get the full export (`/exports/sites-personal.<format>`, `gis-app export --personal`).
- **Import.** An exported sites file (GeoJSON, CSV or .xlsx, English or Chinese names) is read
  back by the ledger import; fields marked *derived* are computed by the system and ignored
  on import.
"""


def _type(f: ExportField) -> str:
    return f.type + (" (code)" if f.codes else "")


def _notes(f: ExportField) -> str:
    notes = []
    if f.personal:
        notes.append("**personal**")
    if f.derived:
        notes.append("derived")
    return ", ".join(notes)


def _field_table(fields: Sequence[ExportField]) -> list[str]:
    lines = [
        "| field | 中文名 | type | shp | notes | description |",
        "|---|---|---|---|---|---|",
    ]
    for f in fields:
        description = f.description
        if f.codes:
            description += " Codes: see below."
        lines.append(
            f"| `{f.name}` | {f.zh} | {_type(f)} | `{f.shp}` | {_notes(f)} | {description} |"
        )
    return lines


def render() -> str:
    """The whole dictionary as Markdown."""
    out = [INTRO]
    out.append("## Sites (违建点位): layer `sites`\n")
    out += _field_table(SITE_FIELDS)
    out.append("")
    out.append("CSV and .xlsx add the point:\n")
    out += _field_table((LON, LAT))
    out.append("")
    out.append("## Street boundaries (街道边界): layer `streets`\n")
    out += _field_table(STREET_FIELDS)
    out.append("")
    out.append(
        "The site counts are of the live sites matching the export's filters (status, kind, "
        "overdue, ...).\n"
    )
    out.append("## Codes (代码表)\n")
    for name, (zh, mapping) in CODE_LISTS.items():
        out.append(f"### `{name}` ({zh})\n")
        out.append("| code | 中文 |")
        out.append("|---|---|")
        out += [f"| `{code}` | {label} |" for code, label in mapping.items()]
        out.append("")
    out.append("### Flags (标记)\n")
    out.append("| field | 中文 |")
    out.append("|---|---|")
    out += [f"| `flag_{code}` | {label} |" for code, label in codes.FLAGS.items()]
    out.append("")
    return "\n".join(out)
