"""The export field lists, the data dictionary generated from them, and personal data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gis_app.core import codes
from gis_app.features.exchange.export.dictionary import CODE_LISTS, render
from gis_app.features.exchange.export.fields import (
    LAT,
    LAYERS,
    LON,
    SITE_FIELDS,
    STREET_FIELDS,
    fields_for,
)
from gis_app.features.exchange.export.ogr import fit_bytes
from gis_app.features.ledger.importer import DERIVED_HEADERS, header_field
from gis_app.features.ledger.queries import feature_expr

DICTIONARY = Path(__file__).resolve().parents[3] / "docs" / "data-dictionary.md"


def test_committed_dictionary_is_the_generated_one() -> None:
    assert DICTIONARY.read_text(encoding="utf-8") == render(), (
        "docs/data-dictionary.md is stale: "
        "run gis-app data-dictionary --out docs/data-dictionary.md"
    )


def test_dictionary_names_every_field_and_every_code() -> None:
    text = render()
    sites_part, _, rest = text.partition("## Street boundaries")
    streets_part = rest.partition("## Codes")[0]
    for part, fields in (
        (sites_part, (*SITE_FIELDS, LON, LAT)),
        (streets_part, STREET_FIELDS),
    ):
        for f in fields:
            row = next(line for line in part.splitlines() if line.startswith(f"| `{f.name}` |"))
            assert f.zh in row and f"`{f.shp}`" in row and f.type in row
            assert ("**personal**" in row) == f.personal
    for _, mapping in CODE_LISTS.values():
        for code, label in mapping.items():
            assert f"| `{code}` | {label} |" in text
    for code, label in codes.FLAGS.items():
        assert f"| `flag_{code}` | {label} |" in text
    # every coded field's list is in the dictionary
    coded = {f.name for fields in LAYERS.values() for f in fields if f.codes}
    assert coded <= set(CODE_LISTS)


def test_agency_exports_never_have_personal_fields_or_notes() -> None:
    names = {f.name for fields in LAYERS.values() for f in fields if not f.personal}
    names |= {LON.name, LAT.name}
    assert not names & set(codes.PERSONAL_FIELDS)
    assert "note" not in names
    full = {f.name for f in fields_for("sites", personal=True)}
    assert set(codes.PERSONAL_FIELDS) | {"note"} <= full
    assert all(not f.personal for f in fields_for("sites"))


def test_site_export_fields_are_the_api_feature_properties() -> None:
    """The API's agency feature and the exports agree on names and order."""
    expr = feature_expr(date(2026, 6, 15))
    properties = expr.clauses.clauses[-1]  # json_build_object(...) of the properties
    keys = [c.value for c in properties.clauses.clauses[::2]]
    assert keys == [f.name for f in fields_for("sites")]


def test_shapefile_names_fit_dbase_and_are_unique() -> None:
    for fields in LAYERS.values():
        names = [f.shp for f in fields]
        assert len(set(names)) == len(names)
        assert all(len(name.encode()) <= 10 for name in names)
        assert all(f.width is None or f.width <= 254 for f in fields)
    assert {f.name for f in SITE_FIELDS} >= {"id", "code", "status"}
    assert STREET_FIELDS[0].name == "code"


def test_ledger_import_reads_every_export_column() -> None:
    """English or Chinese, each exported site column is read or knowingly ignored."""
    for f in (*fields_for("sites", personal=True), LON, LAT):
        for name in (f.name, f.zh):
            understood = header_field(name) is not None
            assert understood or name.lower() in DERIVED_HEADERS, name
            assert understood == (not f.derived or f.name == "street_name"), name


def test_fit_bytes_cuts_at_a_character() -> None:
    assert fit_bytes("大直沽中路", 7) == "大直"
    assert fit_bytes("abc", 254) == "abc"
    assert len(fit_bytes("街" * 100, 254).encode()) == 252
