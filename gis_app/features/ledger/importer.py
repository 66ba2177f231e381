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
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from gis_app.core import cells, clock, codes
from gis_app.core.actor import Actor
from gis_app.core.errors import (
    Conflict,
    Forbidden,
    ImportRejected,
    NotFound,
    ValidationError,
    excerpt,
)
from gis_app.core.geo.gcj02 import gcj02_to_wgs84
from gis_app.core.text import normal_code
from gis_app.features.ledger.models import ImportBatch, ImportHeaderMapping, KindSynonym, Site
from gis_app.features.ledger.schemas import FIELD_LABELS, FieldError, clean_site_fields, parse_date
from gis_app.features.ledger.service import (
    CENTRAL_FLAG,
    CREATE_STATUSES,
    HISTORICAL_ROLE,
    baseline_frozen,
    central_rule_message,
    clean_historical,
    codes_in_use,
    status_past_registered_message,
)
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
        "中央第二次环保督查",
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
    # a site closed before the system existed (区级管理员 only): where and when
    "historical_source": ("历史来源", "历史销账来源", "historical_source"),
    "historical_closed_on": ("销账日期", "历史销账日期", "historical_closed_on"),
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


def header_key(header: object) -> str:
    """A header as it is matched: full-width narrowed, spaces and a unit in brackets dropped."""
    text_value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header))).lstrip("\ufeff")
    return _UNIT_SUFFIX.sub("", text_value)


#: the mapping a user chose for headers not recognised (header_key -> field), while reading
_CHOSEN: ContextVar[Mapping[str, str]] = ContextVar("chosen_headers", default=MappingProxyType({}))
#: the fields a user may map a column to
MAPPABLE = tuple(HEADER_ALIASES)


def header_field(header: object) -> str | None:
    """The field a column header means, or None; '面积（㎡）' and ' 经度 ' are understood, and
    so are the headers the user mapped (see `chosen_headers`)."""
    if header is None:
        return None
    key = header_key(header)
    return _HEADER_INDEX.get(key.lower()) or _CHOSEN.get().get(key)


@contextmanager
def chosen_headers(mapping: Mapping[str, str] | None) -> Iterator[None]:
    """Read files with the user's own mapping of headers (header -> field) as well."""
    clean: dict[str, str] = {}
    for header, field_name in (mapping or {}).items():
        if field_name not in MAPPABLE:
            raise ValidationError(f"列“{header}”不能对应到“{field_name}”", "mapping")
        clean[header_key(header)] = field_name
    token = _CHOSEN.set(clean)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


@dataclass
class ImportReport:
    rows: int
    imported: int = 0
    batch_id: int | None = None
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    by_street: dict[str, int] = field(default_factory=dict)
    columns: list[tuple[str, str | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "batch_id": self.batch_id,
            "dry_run": self.dry_run,
            "warnings": self.warnings,
            "by_street": self.by_street,
            "columns": [{"header": h, "field": f} for h, f in self.columns],
        }


@dataclass
class RawRow:
    number: int  # row number as the user sees it (spreadsheet row, or feature number)
    values: dict[str, Any]


class RawRows(list[RawRow]):
    """The data rows of a file, and its columns as read: (header, field or None)."""

    columns: list[tuple[str, str | None]]

    def __init__(
        self, rows: Iterable[RawRow] = (), columns: Iterable[tuple[str, str | None]] = ()
    ) -> None:
        super().__init__(rows)
        self.columns = list(columns)


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
        columns = [(str(h).strip(), header_field(h)) for h in headers if h not in (None, "")]
        raise ValidationError(
            f"缺少必需的列：{labels}", "file", missing_columns=missing, columns=columns
        )
    return mapping, warnings


def _table_rows(rows: Iterable[tuple[int, list[object]]]) -> tuple[RawRows, list[str]]:
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
    header, iterator = _merge_header_rows(header, iterator)
    mapping, warnings = _map_headers(header)
    out = RawRows(
        columns=[
            (str(h).strip(), mapping.get(i)) for i, h in enumerate(header) if h not in (None, "")
        ]
    )
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


def _merge_header_rows(
    header: list[object], rows: Iterable[tuple[int, list[object]]]
) -> tuple[list[object], Iterable[tuple[int, list[object]]]]:
    """A header of two rows, as merged cells make it (坐标 over 经度 and 纬度): where the
    row below the header names a field and the header cell does not, the lower name counts."""
    iterator = iter(rows)
    following = next(iterator, None)
    if following is None:
        return header, iterator
    _, below = following
    width = max(len(header), len(below))
    upper = [*header, *([None] * (width - len(header)))]
    lower = [*below, *([None] * (width - len(below)))]
    fills = [i for i in range(width) if header_field(upper[i]) is None and header_field(lower[i])]
    if not fills:
        return header, chain([following], iterator)
    merged = [lower[i] if i in fills else upper[i] for i in range(width)]
    return merged, iterator


def read_csv(data: bytes) -> tuple[RawRows, list[str]]:
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


def read_xlsx(data: bytes) -> tuple[RawRows, list[str]]:
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


def read_geojson(data: bytes) -> tuple[RawRows, list[str]]:
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
    rows = RawRows()
    warnings: set[str] = set()
    seen: dict[str, str | None] = {}
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
            seen.setdefault(str(key), name)
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
    rows.columns = [*seen.items(), ("geometry", "lon"), ("geometry", "lat")]
    return rows, sorted(warnings)


READERS: dict[str, Callable[[bytes], tuple[RawRows, list[str]]]] = {
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
    synonyms: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ImportReport:
    """Check a whole ledger file and write it in one transaction, or raise ImportRejected.

    `synonyms`: the district's own words for the kinds (word -> kind code), beside
    KIND_SYNONYMS; `headers`: the user's mapping of headers not recognised (header -> field)."""
    say = progress or (lambda _m: None)
    if not actor.is_district and actor.role != "street_officer":
        raise Forbidden("台账导入须由区领导小组办公室或街道办事处办理", "role")
    own = actor.street_code if not actor.is_district else None
    if crs not in ("wgs84", "cgcs2000", "gcj02"):
        raise ValidationError("坐标系 crs 只能是 wgs84、cgcs2000 或 gcj02", "crs")
    if not data:
        raise ValidationError("文件是空的", "file")
    fmt = detect_format(filename)
    with chosen_headers(headers):
        rows, warnings = READERS[fmt](data)
    if not rows:
        raise ValidationError("文件中没有数据行", "file")
    say(f"读入 {len(rows)} 行，逐行检查…")

    kinds = {**KIND_SYNONYMS, **(synonyms or {}), **office_synonyms(session)}
    checked = _check_rows(
        rows, fmt, crs, kinds, clock.today().year, historical_ok=actor.role == HISTORICAL_ROLE
    )
    placed = _place_rows(session, checked, fmt, own)
    warnings += checked.notes.warnings(clock.today().year)
    if checked.unknown_sources:
        warnings.append(f"{checked.unknown_sources} 行的来源无法识别，按“台账导入”记录")
    if placed.mismatched_street_text:
        warnings.append(
            f"{placed.mismatched_street_text} 行填写的街道与坐标所在街道不一致：街道按坐标确定"
        )
    _refuse(placed.foreign, checked.errors, len(rows), warnings)
    report = ImportReport(
        rows=len(rows), dry_run=dry_run, warnings=warnings, columns=list(rows.columns)
    )
    for _, _, street in placed.accepted:
        report.by_street[street.code] = report.by_street.get(street.code, 0) + 1
    if dry_run:  # nothing was written: the checks only read
        return report

    if baseline_frozen(session):  # after the baseline: additions, registered late
        for _, clean, _ in placed.accepted:
            clean.setdefault("addition_reason", f"台账导入补录：{PurePath(filename).name}")
    say(f"检查通过，写入 {len(placed.accepted)} 个点位…")
    batch = _write_batch(session, data, filename, fmt, placed.accepted, actor)
    report.imported = len(placed.accepted)
    report.batch_id = batch.id
    say(f"已导入 {report.imported} 个点位（批次 {batch.id}）")
    return report


#: the streets' own words for the kinds of illegal construction, matched as parts of the
#: label (the longest first); the office adds its own in GIS_APP_KIND_SYNONYMS
KIND_SYNONYMS: dict[str, str] = {
    "彩钢": "steel_shed",
    "铁皮": "steel_shed",
    "棚厦": "steel_shed",
    "简易棚": "steel_shed",
    "屋顶": "rooftop",
    "楼顶": "rooftop",
    "房顶": "rooftop",
    "顶层加建": "rooftop",
    "加层": "rooftop",
    "院内": "courtyard",
    "私搭乱建": "courtyard",
    "私搭": "courtyard",
    "接建": "extension",
    "扩建": "extension",
    "接出": "extension",
    "外接": "extension",
    "底商": "storefront",
    "门脸": "storefront",
    "商铺外扩": "storefront",
    "外扩": "storefront",
    "圈占": "enclosure",
    "圈地": "enclosure",
    "占用公共": "enclosure",
    "占道": "enclosure",
}
#: fields whose digits and spaces may be full-width in a street's ledger (Ｈ２０２２，　３５．５)
NARROWED_FIELDS = (
    "code",
    "lon",
    "lat",
    "area_m2",
    "committed_deadline",
    "current_deadline",
    "disposition",
    "status",
    "kind",
    "source",
)
_YEARLESS = re.compile(r"^(\d{1,2})月(?:(\d{1,2})[日号]|底|末)?(?:前|之前)?$")


def office_synonyms(session: Session) -> dict[str, str]:
    """The words the office added on the page 违建类型同义词 (word -> kind)."""
    rows = session.execute(select(KindSynonym.word, KindSynonym.kind)).all()
    return {word: kind for word, kind in rows if kind in codes.KINDS}


def list_synonyms(session: Session) -> list[KindSynonym]:
    return list(session.scalars(select(KindSynonym).order_by(KindSynonym.word)))


def add_synonym(session: Session, actor: Actor, district: str, word: Any, kind: Any) -> KindSynonym:
    """A word of the office's for a kind; the kind as code or Chinese label."""
    text_word = narrow(word) if isinstance(word, str) else ""
    if not text_word:
        raise ValidationError("请填写街道台账中的用词", "word")
    if len(text_word) > 64:
        raise ValidationError("用词最多 64 个字", "word")
    code = codes.lookup(codes.KINDS, kind) if isinstance(kind, str) else None
    if code is None:
        raise ValidationError(f"违建类型只能是：{'、'.join(codes.KINDS.values())}", "kind")
    taken = session.scalar(
        select(KindSynonym).where(
            KindSynonym.district_code == district, KindSynonym.word == text_word
        )
    )
    if taken is not None:
        raise Conflict(
            f"“{text_word}”已对应“{codes.KINDS.get(taken.kind, taken.kind)}”：请先删除", "word"
        )
    synonym = KindSynonym(district_code=district, word=text_word, kind=code, created_by=actor.name)
    session.add(synonym)
    session.flush()
    return synonym


def remove_synonym(session: Session, synonym_id: int) -> None:
    synonym = session.get(KindSynonym, synonym_id) if 0 < synonym_id < 2**31 else None
    if synonym is None:
        raise NotFound(f"没有编号为 {synonym_id} 的同义词", "id")
    session.delete(synonym)
    session.flush()


def mapping_scope(actor: Actor) -> str:
    """Whose remembered header mapping: the street's, or the district office's."""
    return actor.street_code if not actor.is_district and actor.street_code else "district"


def remembered_headers(session: Session, actor: Actor) -> dict[str, str]:
    """The header mapping confirmed at `actor`'s street's last import (header -> field)."""
    rows = session.execute(
        select(ImportHeaderMapping.header, ImportHeaderMapping.field).where(
            ImportHeaderMapping.scope == mapping_scope(actor)
        )
    ).all()
    return {header: name for header, name in rows if name in MAPPABLE}


def remember_headers(session: Session, actor: Actor, mapping: Mapping[str, str]) -> None:
    """Keep a confirmed mapping of headers for the street's next import."""
    scope = mapping_scope(actor)
    for header, name in mapping.items():
        if name not in MAPPABLE:
            continue
        found = session.scalar(
            select(ImportHeaderMapping).where(
                ImportHeaderMapping.scope == scope, ImportHeaderMapping.header == header
            )
        )
        if found is None:
            session.add(
                ImportHeaderMapping(scope=scope, header=header, field=name, updated_by=actor.name)
            )
        elif found.field != name:
            found.field, found.updated_by = name, actor.name
    session.flush()


def narrow(value: Any) -> Any:
    """Full-width letters, digits, punctuation and spaces as their ASCII forms (NFKC)."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFKC", value).strip()


def kind_of(label: str, synonyms: Mapping[str, str]) -> str | None:
    """The kind a street's own word means (a code, a label, or a synonym contained in it)."""
    found = codes.lookup(codes.KINDS, label)
    if found:
        return found
    for word in sorted(synonyms, key=len, reverse=True):
        if word and word in label:
            return synonyms[word]
    return None


@dataclass
class _Notes:
    """What the import changed of a row's words, for the warnings (label -> its rows)."""

    mapped: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    unknown: dict[str, list[int]] = field(default_factory=dict)
    yearless: list[int] = field(default_factory=list)

    def warnings(self, year: int) -> list[str]:
        out = []
        for (label, kind), rows in self.mapped.items():
            out.append(f"违建类型“{label}”按“{codes.KINDS[kind]}”记录（{_rows(rows)}），原文保留")
        for label, rows in self.unknown.items():
            out.append(
                f"违建类型“{label}”无法对应到类型表，按“其他”记录（{_rows(rows)}），原文保留；"
                "区办可在“违建类型同义词”中补充"
            )
        if self.yearless:
            out.append(f"期限未写年份（如“6月底”），按 {year} 年计（{_rows(self.yearless)}）")
        return out


def _rows(numbers: list[int]) -> str:
    shown = "、".join(str(n) for n in numbers[:10])
    more = f" 等 {len(numbers)} 行" if len(numbers) > 10 else ""
    return f"第 {shown} 行{more}"


def _narrow_row(row: RawRow, synonyms: Mapping[str, str], notes: _Notes, year: int) -> None:
    """A street's ledger as this system reads it: full-width characters narrowed, its own
    words for the kind mapped (the word kept), a deadline without a year in this year."""
    for name in NARROWED_FIELDS:
        if name in row.values:
            row.values[name] = narrow(row.values[name])
    label = row.values.get("kind")
    if isinstance(label, str) and label:
        exact = codes.lookup(codes.KINDS, label)
        kind = exact or kind_of(label, synonyms)
        if exact is None:
            row.values["kind_label"] = label[:64]
            if kind is None:
                notes.unknown.setdefault(label, []).append(row.number)
                kind = "other"
            else:
                notes.mapped.setdefault((label, kind), []).append(row.number)
        row.values["kind"] = kind
    for name in ("committed_deadline", "current_deadline"):
        value = row.values.get(name)
        m = _YEARLESS.match(value) if isinstance(value, str) else None
        if m:
            day = f"{m[2]}日" if m[2] else "底"
            row.values[name] = f"{year}年{m[1]}月{day}"
            if row.number not in notes.yearless:
                notes.yearless.append(row.number)


@dataclass
class _CheckedRows:
    """Every row with what of it could be cleaned, whether it is sound, and every error."""

    cleaned: list[tuple[RawRow, dict[str, Any], bool]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    first_seen: dict[str, int] = field(default_factory=dict)  # code -> its row
    unknown_sources: int = 0
    notes: _Notes = field(default_factory=_Notes)


def _row_status_errors(
    clean: dict[str, Any], historical: tuple[object, object], historical_ok: bool
) -> list[FieldError]:
    """A row's 状态 past 已建档 is refused (the workflow's states are reached through it); a
    district administrator's row of 已销账 with its 历史来源 is a historical closure."""
    status = clean.get("status")
    source, closed_on = historical
    given = any(v not in (None, "") for v in historical)
    if status is None or status in CREATE_STATUSES:
        if given:
            return [FieldError("historical_source", "历史来源只用于系统启用前已销账的点位")]
        return []
    if status != "closed" or not historical_ok:
        message = status_past_registered_message(status)
        if status == "closed":
            message += "（系统启用前已销账的点位由区级管理员按历史销账导入，须填历史来源）"
        return [FieldError("status", message)]
    try:
        clean["historical_source"], clean["historical_closed_on"] = clean_historical(
            source, closed_on, clock.today()
        )
    except ValidationError as exc:
        return [FieldError(exc.field or "historical_source", exc.message)]
    return []


def _check_rows(
    rows: list[RawRow],
    fmt: str,
    crs: str,
    synonyms: Mapping[str, str],
    year: int,
    historical_ok: bool = False,
) -> _CheckedRows:
    """Each row's fields on their own (no database): values, coordinates, duplicate codes.
    Every check runs on every row: a row with a bad field is still checked for its code and
    (in `_place_rows`) its point, so one answer names all of a file's problems."""
    checked = _CheckedRows()
    for row in rows:
        if "__error__" in row.values:
            checked.errors.append(_row_error(row, fmt, "geometry", row.values["__error__"]))
        _narrow_row(row, synonyms, checked.notes, year)
        street_text = row.values.pop("street", None)
        kind_label = row.values.pop("kind_label", "")
        source = row.values.get("source")
        if source is not None and not (
            isinstance(source, str) and codes.lookup(codes.SOURCES, source)
        ):
            row.values.pop("source")  # a ledger's own 来源 column: kept as a ledger import
            checked.unknown_sources += bool(str(source).strip())
        current_deadline = row.values.pop("current_deadline", None)
        error = row.values.pop("__error__", None)
        historical = (
            row.values.pop("historical_source", None),
            row.values.pop("historical_closed_on", None),
        )
        clean, field_errors = clean_site_fields(row.values, require_code=True)
        if error is not None:  # a GeoJSON feature without a point: no coordinates to check
            field_errors = [e for e in field_errors if e.field not in ("lon", "lat")]
        if not any(e.field == "status" for e in field_errors):
            field_errors += _row_status_errors(clean, historical, historical_ok)
        if clean.get(CENTRAL_FLAG) and clean.get("disposition", "demolish") != "demolish":
            field_errors.append(FieldError("disposition", central_rule_message()))
        try:
            clean["current_deadline"] = parse_date(current_deadline, "current_deadline")
        except ValidationError as exc:
            field_errors.append(FieldError("current_deadline", exc.message))
        for fe in field_errors:
            checked.errors.append(_row_error(row, fmt, fe.field, fe.message))
        sound = not field_errors and error is None
        if crs == "gcj02" and "lon" in clean:
            clean["lon"], clean["lat"] = gcj02_to_wgs84(clean["lon"], clean["lat"])
        code = clean.get("code")
        key = normal_code(code) if code else None  # DZG-001 and dzg-001 are one code
        if key is not None and key in checked.first_seen:
            checked.errors.append(
                _row_error(row, fmt, "code", f"编号 {code} 与第 {checked.first_seen[key]} 行重复")
            )
            sound = False
        elif key is not None:
            checked.first_seen[key] = row.number
        clean["_street_text"] = street_text
        clean["kind_label"] = kind_label
        checked.cleaned.append((row, clean, sound))
    return checked


@dataclass
class _PlacedRows:
    """The rows to write with their street; those of another street (a street role imports)."""

    accepted: list[tuple[RawRow, dict[str, Any], Street]] = field(default_factory=list)
    foreign: list[dict[str, Any]] = field(default_factory=list)
    mismatched_street_text: int = 0


def _place_rows(session: Session, checked: _CheckedRows, fmt: str, own: str | None) -> _PlacedRows:
    """The checks against the database, on every row that has a code or a point: codes already
    in the ledger, the street of every point (in one query), a street role's own street.
    Errors go to `checked.errors`; only sound rows are accepted."""
    errors = checked.errors
    # every street's codes (not only those the importing street may see): the same answer
    # for a code in use wherever it is
    existing = codes_in_use(session, list(checked.first_seen))
    located = [(row, c, ok) for row, c, ok in checked.cleaned if "lon" in c and "lat" in c]
    street_ids = street_ids_for_points(session, [(c["lon"], c["lat"]) for _, c, _ in located])
    swapped = street_ids_for_points(session, [(c["lat"], c["lon"]) for _, c, _ in located])
    street_of = {
        id(c): (street_id, swapped_id)
        for (_, c, _), street_id, swapped_id in zip(located, street_ids, swapped, strict=True)
    }
    streets = {s.id: s for s in session.scalars(select(Street))}
    placed = _PlacedRows()
    for row, clean, sound in checked.cleaned:
        key = normal_code(clean["code"]) if clean.get("code") else None
        if key is not None and key in existing and checked.first_seen.get(key) == row.number:
            errors.append(
                _row_error(row, fmt, "code", f"编号 {clean['code']} 已被使用（已在台账中）")
            )
            sound = False
        if id(clean) not in street_of:
            continue
        street_id, swapped_id = street_of[id(clean)]
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
        if not sound:
            continue
        stated = clean.pop("_street_text")
        if stated and str(stated).strip() not in (street.name, street.name.removesuffix("街道")):
            placed.mismatched_street_text += 1
        placed.accepted.append((row, clean, street))
    return placed


def _refuse(
    foreign: list[dict[str, Any]], errors: list[dict[str, Any]], rows: int, warnings: list[str]
) -> None:
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
            warnings=warnings,
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
                   || CASE WHEN s.historical_source IS NULL THEN '{}'::jsonb
                      ELSE jsonb_build_object(
                        'historical_source', jsonb_build_array(NULL, s.historical_source))
                      END
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
        "kind_label": clean.get("kind_label", ""),
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
        "addition_reason": clean.get("addition_reason", ""),
        "historical_source": clean.get("historical_source"),
        "historical_closed_on": clean.get("historical_closed_on"),
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


# ---------------------------------------------------------------- the refused file, annotated


def read_ledger(data: bytes, filename: str, headers: Mapping[str, str] | None = None) -> RawRows:
    """The rows of a ledger file as the import reads them (for a preview)."""
    if not data:
        raise ValidationError("文件是空的", "file")
    with chosen_headers(headers):
        rows, _ = READERS[detect_format(filename)](data)
    return rows


def annotated_workbook(rows: RawRows, errors: list[dict[str, Any]]) -> bytes:
    """The file's rows back as .xlsx, the way an office fixes a sheet: each bad cell filled
    red with its reason as a comment, and a last column 错误说明 with all of the row's."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    fields = [f for _, f in rows.columns if f is not None]
    fields = list(dict.fromkeys(fields))
    by_row: dict[int, list[dict[str, Any]]] = {}
    for error in errors:
        by_row.setdefault(error["row"], []).append(error)
    book = Workbook()
    sheet = book.active
    sheet.title = "台账（待改正）"
    sheet.append(["行号", *(FIELD_LABELS.get(f, f) for f in fields), "错误说明"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    red = PatternFill("solid", fgColor="FFC7CE")
    for row in rows:
        problems = by_row.get(row.number, [])
        values = [row.number, *(_cell_value(row.values.get(f)) for f in fields)]
        values.append("；".join(p["message"] for p in problems))
        sheet.append(values)
        line = sheet.max_row
        for cell in sheet[line]:
            if cell.data_type == "f":  # a ledger's "=…" is text here, never a formula
                cell.data_type = "s"
        for problem in problems:
            column = _error_column(problem.get("field"), fields)
            if column is None:
                continue
            cell = sheet.cell(line, column + 2)
            cell.fill = red
            note = (
                problem["message"]
                if cell.comment is None
                else (f"{cell.comment.text}\n{problem['message']}")
            )
            cell.comment = Comment(note, "违建治理一张图")
        if problems:
            sheet.cell(line, len(fields) + 2).fill = red
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _error_column(field_name: str | None, fields: list[str]) -> int | None:
    if field_name in fields:
        return fields.index(field_name)
    if field_name == "geometry" and "lon" in fields:
        return fields.index("lon")
    return None


def _cell_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str, date, datetime)):
        return value
    return str(value)
