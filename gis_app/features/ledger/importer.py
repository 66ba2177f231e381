"""Import the ledgers the streets already keep: CSV (UTF-8 or GBK), .xlsx, GeoJSON.

All-or-nothing: every row is checked first (fields, coordinates, street, duplicate codes), and
one bad row means nothing is written; the answer lists every bad row with its row number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from gis_app.core import cells, clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import Forbidden, ImportRejected, ValidationError, excerpt
from gis_app.core.geo.gcj02 import gcj02_to_wgs84
from gis_app.core.text import normal_code
from gis_app.features.ledger.models import ImportBatch, Site
from gis_app.features.ledger.schemas import FIELD_LABELS, FieldError, clean_site_fields, parse_date
from gis_app.features.ledger.service import codes_in_use
from gis_app.features.streets.models import Street
from gis_app.features.streets.service import street_ids_for_points

MAX_ROWS = 200_000
HEADER_SEARCH_ROWS = 20  # title rows a ledger may have above its header
SUPPORTED = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
}

# header spellings seen in the streets' ledgers -> field
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("编号", "点位编号", "违建编号", "台账编号", "code", "site_code"),
    "address": ("地址", "具体地址", "点位地址", "详细地址", "位置", "address"),
    "community": ("社区", "所属社区", "社区名称", "community"),
    "lon": ("经度", "lon", "lng", "long", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "disposition": ("治理方式", "处置方式", "治理措施", "治理类型", "disposition"),
    "area_m2": ("面积", "违建面积", "占地面积", "建筑面积", "area", "area_m2"),
    "committed_deadline": (
        "承诺期限",
        "承诺完成时限",
        "承诺时限",
        "完成时限",
        "治理期限",
        "承诺完成时间",
        "committed_deadline",
        "deadline",
    ),
    "kind": ("违建类型", "类型", "建设类型", "违法建设类型", "kind"),
    "person_name": ("相对人", "当事人", "违建人", "产权人", "person_name", "person"),
    "person_contact": ("联系电话", "联系方式", "电话", "person_contact", "contact", "phone"),
    "status": ("状态", "治理状态", "进度", "status"),
    "flag_central_inspection": (
        "中央环保督查",
        "是否中央环保督查",
        "中央环保督查点位",
        "环保督查",
        "central_inspection",
        "flag_central_inspection",
    ),
    "flag_hardship": ("困难户", "是否困难户", "生活困难", "hardship", "flag_hardship"),
    "flag_renovation": (
        "旧楼区改造",
        "纳入旧楼区改造",
        "旧楼改造",
        "renovation",
        "flag_renovation",
    ),
    "flag_obstruction": ("阻挠执法", "暴力抗法", "obstruction", "flag_obstruction"),
    "note": ("备注", "说明", "note", "notes", "remarks"),
    "street": ("街道", "所属街道", "street", "street_name"),
    # written by this system's own exports (a re-import keeps them)
    "current_deadline": ("当前期限", "current_deadline"),
    "source": ("来源", "source"),
}
# columns of this system's exports that the system computes itself: read silently, not used
DERIVED_HEADERS = frozenset(
    {"id", "标识", "street_code", "街道代码", "overdue", "逾期", "version", "版本"}
    | {"created_at", "创建时间", "updated_at", "更新时间"}
)
_HEADER_INDEX = {
    alias.lower(): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}
_UNIT_SUFFIX = re.compile(r"[（(][^）)]*[）)]$")
REQUIRED_COLUMNS = ("code", "address", "lon", "lat", "disposition")


def header_field(header: object) -> str | None:
    """The field a column header means, or None; '面积（㎡）' and ' 经度 ' are understood."""
    if header is None:
        return None
    text_value = re.sub(r"\s+", "", str(header)).lstrip("\ufeff")
    text_value = _UNIT_SUFFIX.sub("", text_value)
    return _HEADER_INDEX.get(text_value.lower())


@dataclass
class ImportReport:
    rows: int
    imported: int = 0
    batch_id: int | None = None
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    by_street: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "batch_id": self.batch_id,
            "dry_run": self.dry_run,
            "warnings": self.warnings,
            "by_street": self.by_street,
        }


@dataclass
class RawRow:
    number: int  # row number as the user sees it (spreadsheet row, or feature number)
    values: dict[str, Any]


# ---------------------------------------------------------------- reading files


def detect_format(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xls":
        raise ValidationError("不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 后再导入", "file")
    fmt = SUPPORTED.get(suffix)
    if fmt is None:
        raise ValidationError(
            f"不支持的文件类型 {suffix or '（无扩展名）'}：请用 CSV、.xlsx 或 GeoJSON", "file"
        )
    return fmt


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030 as Chinese Excel writes it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("无法识别文件编码：请保存为 UTF-8 或 GBK 编码的 CSV", "file")


def _map_headers(headers: list[object]) -> tuple[dict[int, str], list[str]]:
    mapping: dict[int, str] = {}
    warnings: list[str] = []
    for i, header in enumerate(headers):
        name = header_field(header)
        if name is None:
            if header not in (None, "") and str(header).strip().lower() not in DERIVED_HEADERS:
                warnings.append(f"未识别的列“{header}”已忽略")
            continue
        if name in mapping.values():
            raise ValidationError(
                f"列“{header}”与另一列都表示{FIELD_LABELS.get(name, name)}", "file"
            )
        mapping[i] = name
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping.values()]
    if missing:
        labels = "、".join(FIELD_LABELS[c] for c in missing)
        raise ValidationError(f"缺少必需的列：{labels}", "file", missing_columns=missing)
    return mapping, warnings


def _table_rows(rows: Iterable[tuple[int, list[object]]]) -> tuple[list[RawRow], list[str]]:
    """Find the header row (title rows above it are skipped), then read the data rows."""
    iterator = iter(rows)
    header: list[object] | None = None
    first_nonempty: list[object] | None = None
    for scanned, (_, values) in enumerate(iterator):
        if not any(v not in (None, "") for v in values):
            continue
        first_nonempty = first_nonempty or values
        if sum(header_field(v) is not None for v in values) >= 3:
            header = values
            break
        if scanned >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        if first_nonempty is None:
            raise ValidationError("文件是空的：没有表头和数据行", "file")
        header = first_nonempty  # reports which columns are missing
    mapping, warnings = _map_headers(header)
    out: list[RawRow] = []
    for number, values in iterator:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        out.append(
            RawRow(
                number,
                # an exported cell's apostrophe against formulas (core.cells) goes again
                {
                    name: cells.restore(values[i]) if i < len(values) else None
                    for i, name in mapping.items()
                },
            )
        )
        if len(out) > MAX_ROWS:
            raise ValidationError(f"文件行数超过上限 {MAX_ROWS:,}：请分批导入", "file")
    return out, warnings


def read_csv(data: bytes) -> tuple[list[RawRow], list[str]]:
    content = decode_csv(data)
    sample = content[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    try:
        return _table_rows((reader.line_num, row) for row in reader)
    except csv.Error as exc:
        raise ValidationError(f"CSV 格式错误：{exc}", "file") from exc


def read_xlsx(data: bytes) -> tuple[list[RawRow], list[str]]:
    import zipfile

    from openpyxl import load_workbook

    check_zip_expansion(data)
    refuse_dtd(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as exc:
        raise ValidationError(
            f"无法读取 .xlsx 文件（文件损坏或不是 Excel 文件）：{exc}", "file"
        ) from exc
    try:
        if not book.worksheets:
            raise ValidationError(".xlsx 文件中没有工作表", "file")
        sheet = book.worksheets[0]
        rows = ((i, list(r)) for i, r in enumerate(sheet.iter_rows(values_only=True), start=1))
        return _table_rows(rows)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError, TypeError) as exc:
        # a sheet whose XML is broken (lxml's and ElementTree's parse errors are SyntaxErrors)
        raise ValidationError(f"无法读取 .xlsx 文件的工作表（文件损坏）：{exc}", "file") from exc
    finally:
        book.close()


#: an .xlsx may inflate to this much (a ledger of 200,000 rows is well under it)
MAX_XLSX_EXPANDED = 256 * 1024 * 1024


_DTD_MARKS = tuple(
    mark.encode(enc)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for enc in ("utf-8", "utf-16-le", "utf-16-be")
)


def refuse_dtd(data: bytes) -> None:
    """Refuse an .xlsx whose XML declares a DTD or entities (no spreadsheet needs one; nested
    internal entities expand 5 KB into megabytes). Checked before openpyxl reads anything;
    defusedxml, which openpyxl then uses, refuses entities as well."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: the reader says so
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            tail = b""
            with archive.open(info) as member:
                while chunk := member.read(1 << 20):
                    window = tail + chunk
                    if any(mark in window for mark in _DTD_MARKS):
                        raise ValidationError(
                            f".xlsx 文件中的 {excerpt(info.filename)} 含有 DTD 或实体声明"
                            "（表格文件不需要，拒绝读取）",
                            "file",
                        )
                    tail = window[-32:]


def check_zip_expansion(data: bytes, limit: int = MAX_XLSX_EXPANDED) -> None:
    """Refuse a zip bomb before anything is inflated: the sizes its directory declares
    (Python's zipfile never inflates a member past its declared size)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValidationError(
            f"无法读取 .xlsx 文件（文件损坏或不是 Excel 文件）：{exc}", "file"
        ) from exc
    if total > limit:
        raise ValidationError(
            f".xlsx 文件解压后达 {total / 1048576:,.0f} MB（上限 {limit // 1048576} MB），"
            "疑似压缩炸弹，已拒收",
            "file",
        )


def read_geojson(data: bytes) -> tuple[list[RawRow], list[str]]:
    try:
        doc = json.loads(decode_csv(data))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"GeoJSON 格式错误（第 {exc.lineno} 行）：{exc.msg}", "file") from exc
    except RecursionError:  # "[[[[…" deeper than the parser goes
        raise ValidationError("GeoJSON 嵌套层数过深，不是有效的台账文件", "file") from None
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise ValidationError("GeoJSON 必须是 FeatureCollection", "file")
    rows: list[RawRow] = []
    warnings: set[str] = set()
    for number, feature in enumerate(doc["features"], start=1):
        values: dict[str, Any] = {}
        if not isinstance(feature, dict):
            rows.append(RawRow(number, {"__error__": "要素不是对象"}))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        for key, value in props.items():
            name = header_field(key)
            if name is None:
                if key.strip().lower() not in DERIVED_HEADERS:
                    warnings.add(f"未识别的属性“{key}”已忽略")
            elif name not in ("lon", "lat"):
                values[name] = value
        geometry = feature.get("geometry")
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            values["__error__"] = "几何必须是点（Point）"
        elif not isinstance(coords, list) or len(coords) < 2:
            values["__error__"] = "点的坐标不完整"
        else:
            values["lon"], values["lat"] = coords[0], coords[1]
        rows.append(RawRow(number, values))
        if len(rows) > MAX_ROWS:
            raise ValidationError(f"要素数超过上限 {MAX_ROWS:,}：请分批导入", "file")
    return rows, sorted(warnings)


READERS: dict[str, Callable[[bytes], tuple[list[RawRow], list[str]]]] = {
    "csv": read_csv,
    "xlsx": read_xlsx,
    "geojson": read_geojson,
}


# ---------------------------------------------------------------- checking and writing


def _row_error(row: RawRow, fmt: str, field_name: str | None, message: str) -> dict[str, Any]:
    where = f"第 {row.number} 个要素" if fmt == "geojson" else f"第 {row.number} 行"
    return {"row": row.number, "field": field_name, "message": f"{where}：{message}"}


def import_sites(
    session: Session,
    data: bytes,
    filename: str,
    actor: Actor,
    *,
    crs: str = "wgs84",
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Check a whole ledger file and write it in one transaction, or raise ImportRejected."""
    say = progress or (lambda _m: None)
    if not actor.is_district and actor.role != "street_officer":
        raise Forbidden("台账导入须由区领导小组办公室或街道办事处办理", "role")
    own = actor.street_code if not actor.is_district else None
    if crs not in ("wgs84", "cgcs2000", "gcj02"):
        raise ValidationError("坐标系 crs 只能是 wgs84、cgcs2000 或 gcj02", "crs")
    if not data:
        raise ValidationError("文件是空的", "file")
    fmt = detect_format(filename)
    rows, warnings = READERS[fmt](data)
    if not rows:
        raise ValidationError("文件中没有数据行", "file")
    say(f"读入 {len(rows)} 行，逐行检查…")

    checked = _check_rows(rows, fmt, crs)
    placed = _place_rows(session, checked, fmt, own)
    if checked.unknown_sources:
        warnings.append(f"{checked.unknown_sources} 行的来源无法识别，按“台账导入”记录")
    if placed.mismatched_street_text:
        warnings.append(
            f"{placed.mismatched_street_text} 行填写的街道与坐标所在街道不一致：街道按坐标确定"
        )
    _refuse(placed.foreign, checked.errors, len(rows))
    report = ImportReport(rows=len(rows), dry_run=dry_run, warnings=warnings)
    for _, _, street in placed.accepted:
        report.by_street[street.code] = report.by_street.get(street.code, 0) + 1
    if dry_run:  # nothing was written: the checks only read
        return report

    say(f"检查通过，写入 {len(placed.accepted)} 个点位…")
    batch = _write_batch(session, data, filename, fmt, placed.accepted, actor)
    report.imported = len(placed.accepted)
    report.batch_id = batch.id
    say(f"已导入 {report.imported} 个点位（批次 {batch.id}）")
    return report


@dataclass
class _CheckedRows:
    """The rows whose fields passed (with their cleaned values), and every error so far."""

    cleaned: list[tuple[RawRow, dict[str, Any]]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    first_seen: dict[str, int] = field(default_factory=dict)  # code -> its row
    unknown_sources: int = 0


def _check_rows(rows: list[RawRow], fmt: str, crs: str) -> _CheckedRows:
    """Each row's fields on their own (no database): values, coordinates, duplicate codes."""
    checked = _CheckedRows()
    for row in rows:
        if "__error__" in row.values:
            checked.errors.append(_row_error(row, fmt, "geometry", row.values["__error__"]))
            continue
        street_text = row.values.pop("street", None)
        source = row.values.get("source")
        if source is not None and not (
            isinstance(source, str) and codes.lookup(codes.SOURCES, source)
        ):
            row.values.pop("source")  # a ledger's own 来源 column: kept as a ledger import
            checked.unknown_sources += bool(str(source).strip())
        current_deadline = row.values.pop("current_deadline", None)
        clean, field_errors = clean_site_fields(row.values, require_code=True)
        try:
            clean["current_deadline"] = parse_date(current_deadline, "current_deadline")
        except ValidationError as exc:
            field_errors.append(FieldError("current_deadline", exc.message))
        for fe in field_errors:
            checked.errors.append(_row_error(row, fmt, fe.field, fe.message))
        if field_errors:
            continue
        if crs == "gcj02":
            clean["lon"], clean["lat"] = gcj02_to_wgs84(clean["lon"], clean["lat"])
        code = clean["code"]
        key = normal_code(code)  # DZG-001 and dzg-001 are one code
        if key in checked.first_seen:
            checked.errors.append(
                _row_error(row, fmt, "code", f"编号 {code} 与第 {checked.first_seen[key]} 行重复")
            )
            continue
        checked.first_seen[key] = row.number
        clean["_street_text"] = street_text
        checked.cleaned.append((row, clean))
    return checked


@dataclass
class _PlacedRows:
    """The rows to write with their street; those of another street (a street role imports)."""

    accepted: list[tuple[RawRow, dict[str, Any], Street]] = field(default_factory=list)
    foreign: list[dict[str, Any]] = field(default_factory=list)
    mismatched_street_text: int = 0


def _place_rows(session: Session, checked: _CheckedRows, fmt: str, own: str | None) -> _PlacedRows:
    """The checks against the database: codes already in the ledger, the street of every point
    (in one query), a street role's own street. Errors go to `checked.errors`."""
    errors = checked.errors
    cleaned = checked.cleaned
    # every street's codes (not only those the importing street may see): the same answer
    # for a code in use wherever it is
    existing = codes_in_use(session, list(checked.first_seen))
    street_ids = street_ids_for_points(session, [(c["lon"], c["lat"]) for _, c in cleaned])
    swapped = street_ids_for_points(session, [(c["lat"], c["lon"]) for _, c in cleaned])
    streets = {s.id: s for s in session.scalars(select(Street))}
    placed = _PlacedRows()
    for (row, clean), street_id, swapped_id in zip(cleaned, street_ids, swapped, strict=True):
        if normal_code(clean["code"]) in existing:
            errors.append(
                _row_error(row, fmt, "code", f"编号 {clean['code']} 已被使用（已在台账中）")
            )
            continue
        if street_id is None:
            hint = "；经纬度是否填反了？" if swapped_id is not None else ""
            errors.append(
                _row_error(
                    row,
                    fmt,
                    "lon",
                    f"坐标不在本区任何街道范围内"
                    f"（经度 {clean['lon']:.6f}，纬度 {clean['lat']:.6f}）{hint}",
                )
            )
            continue
        street = streets[street_id]
        if own is not None and street.code != own:
            placed.foreign.append(
                # which street it is in is not told: another street's business
                _row_error(row, fmt, "lon", "坐标不在本街道范围内")
            )
            continue
        stated = clean.pop("_street_text")
        if stated and str(stated).strip() not in (street.name, street.name.removesuffix("街道")):
            placed.mismatched_street_text += 1
        placed.accepted.append((row, clean, street))
    return placed


def _refuse(foreign: list[dict[str, Any]], errors: list[dict[str, Any]], rows: int) -> None:
    """All or nothing: one row of another street, or one bad row, and nothing is written."""
    if foreign:
        raise Forbidden(
            f"{len(foreign)} 行的坐标不在本街道：街道只能导入本街道的点位，未导入任何数据",
            "lon",
            errors=foreign,
        )
    if errors:
        errors.sort(key=lambda e: (e["row"], e["field"] or ""))
        raise ImportRejected(
            f"{len({e['row'] for e in errors})} 行有错误，未导入任何数据：请改正后重新导入",
            errors,
            rows=rows,
        )


def _write_batch(
    session: Session,
    data: bytes,
    filename: str,
    fmt: str,
    accepted: list[tuple[RawRow, dict[str, Any], Street]],
    actor: Actor,
) -> ImportBatch:
    """The import batch, its sites and one 'import' event per site."""
    now = clock.now()
    batch = ImportBatch(
        district_code=accepted[0][2].district_code,
        filename=PurePath(filename).name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        file_format=fmt,
        rows=len(accepted),
        actor=actor.name,
        at=now,
    )
    session.add(batch)
    session.flush()
    insert_sites(
        session, [_site_row(clean, street, batch.id, actor, now) for _, clean, street in accepted]
    )
    session.execute(
        text(
            """
            INSERT INTO site_events (district_code, site_id, at, actor, action, reason, changes)
            SELECT s.district_code, s.id, :now, :actor, 'import', :reason,
                   jsonb_build_object('code', jsonb_build_array(NULL, s.code),
                                      'status', jsonb_build_array(NULL, s.status),
                                      'import_batch', jsonb_build_array(NULL, s.import_batch_id))
            FROM sites s WHERE s.import_batch_id = :batch
            """
        ),
        {
            "now": now,
            "actor": actor.name,
            "batch": batch.id,
            "reason": f"台账导入：{batch.filename}",
        },
    )
    session.flush()
    return batch


def _site_row(
    clean: dict[str, Any], street: Street, batch_id: int, actor: Actor, now: datetime
) -> dict[str, Any]:
    """The columns of one imported site (the geometry as a SQL expression)."""
    deadline = clean.get("committed_deadline")
    return {
        "district_code": street.district_code,
        "code": clean["code"],
        "street_id": street.id,
        "address": clean["address"],
        "community": clean.get("community", ""),
        "kind": clean.get("kind", "other"),
        "area_m2": clean.get("area_m2"),
        "person_name": clean.get("person_name", ""),
        "person_contact": clean.get("person_contact", ""),
        "disposition": clean["disposition"],
        "flag_central_inspection": clean.get("flag_central_inspection", False),
        "flag_hardship": clean.get("flag_hardship", False),
        "flag_renovation": clean.get("flag_renovation", False),
        "flag_obstruction": clean.get("flag_obstruction", False),
        "committed_deadline": deadline,
        "current_deadline": clean.get("current_deadline") or deadline,
        "status": clean.get("status", "registered"),
        "source": clean.get("source", "ledger"),
        "note": clean.get("note", ""),
        "geom": func.ST_SetSRID(func.ST_MakePoint(clean["lon"], clean["lat"]), 4326),
        "import_batch_id": batch_id,
        "version": 1,
        "created_by": actor.name,
        "updated_by": actor.name,
        "created_at": now,
        "updated_at": now,
    }


def insert_sites(session: Session, values: list[dict[str, Any]], chunk: int = 2000) -> None:
    """Insert many site rows (geometry given as a SQL expression per row)."""
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        geoms = [v.pop("geom") for v in part]
        stmt = insert(Site).values([{**v, "geom": g} for v, g in zip(part, geoms, strict=True)])
        session.execute(stmt)
