"""Exports for other agencies and GIS desks: GeoJSON, GeoPackage, Shapefile, KML, CSV, .xlsx.

`export()` takes the layer (sites or streets), the format, the language of the field names
and the same SiteFilter as /api/v1/sites. Exports for agencies never hold personal data
(gis_app.core.codes.PERSONAL_FIELDS) nor notes; the full export with them is for the district
office's roles only (Actor.is_district). A street role exports its own street only.

GeoJSON streams straight from COPY and CSV from a server-side cursor; the other formats are
written to a temporary file batch by batch (memory stays flat) and then streamed (the .xlsx's
sheet rows are built by PostgreSQL and streamed into the zip through COPY).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.core.errors import Forbidden, ValidationError
from gis_app.features.exchange.export.fields import LANG_MESSAGE, LANGS, LAYERS, Lang, fields_for
from gis_app.features.exchange.export.geojson import geojson_chunks
from gis_app.features.exchange.export.ogr import write_ogr
from gis_app.features.exchange.export.source import make_source
from gis_app.features.exchange.export.tabular import csv_chunks
from gis_app.features.exchange.export.xlsx import write_xlsx
from gis_app.features.ledger.queries import SiteFilter, late_step_sites

__all__ = ["FORMATS", "ExportFormat", "ExportResult", "ExportSpec", "export"]


@dataclass(frozen=True)
class ExportFormat:
    key: str
    title: str
    media_type: str
    suffix: str
    streamed: bool = False


FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("geojson", "GeoJSON", "application/geo+json", ".geojson", streamed=True),
        ExportFormat("gpkg", "GeoPackage", "application/geopackage+sqlite3", ".gpkg"),
        ExportFormat("shp", "Shapefile（zip）", "application/zip", "-shp.zip"),
        ExportFormat("kml", "KML", "application/vnd.google-earth.kml+xml", ".kml"),
        ExportFormat("csv", "CSV", "text/csv; charset=utf-8", ".csv", streamed=True),
        ExportFormat(
            "xlsx",
            "Excel（.xlsx）",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ".xlsx",
        ),
    )
}
#: at most this many late steps' sites go into the export's query as an array
LATE_SITES_INLINE_MAX = 200_000
PERSONAL_MESSAGE = "含相对人信息的完整导出仅限区领导小组办公室（区级角色）使用"


@dataclass(frozen=True)
class ExportSpec:
    layer: str = "sites"
    fmt: str = "geojson"
    lang: str = "en"
    personal: bool = False

    def check(self, actor: Actor) -> None:
        """Refuse an unknown layer, format or language; the personal export to others than
        the district office's roles."""
        if self.layer not in LAYERS:
            raise ValidationError(
                f"未知的图层 {self.layer!r}（可选：{', '.join(LAYERS)}）", "layer"
            )
        if self.fmt not in FORMATS:
            raise ValidationError(
                f"不支持的导出格式 {self.fmt!r}（可选：{', '.join(FORMATS)}）", "format"
            )
        if self.lang not in LANGS:
            raise ValidationError(LANG_MESSAGE, "lang")
        if self.personal:
            if self.layer != "sites":
                raise ValidationError("只有点位有相对人信息，街道边界没有完整导出", "personal")
            if not actor.is_district:
                raise Forbidden(PERSONAL_MESSAGE, "personal", role=actor.role)

    def filename(self, today: date) -> str:
        kind = f"{self.layer}-personal" if self.personal else self.layer
        return f"{kind}-{today:%Y%m%d}{FORMATS[self.fmt].suffix}"


class FileChunks:
    """A written file sent in chunks; its temporary folder goes when sent or closed."""

    def __init__(self, path: Path, folder: Path, chunk_size: int = 1 << 20) -> None:
        self.path = path
        self.folder = folder
        self.chunk_size = chunk_size
        self.size = path.stat().st_size

    def __iter__(self) -> Iterator[bytes]:
        try:
            with self.path.open("rb") as fh:
                while chunk := fh.read(self.chunk_size):
                    yield chunk
        finally:
            self.close()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class ExportResult:
    filename: str
    media_type: str
    count: int  # features in the export
    chunks: Iterable[bytes]  # a generator reading the database, or FileChunks
    size: int | None = None  # bytes, when known before sending

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def export(
    session: Session,
    spec: ExportSpec,
    flt: SiteFilter,
    actor: Actor,
    today: date,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Select the features and start the export (GeoJSON, CSV) or write it (the rest).

    `progress(done, total)` is called after each batch of features.
    """
    spec.check(actor)
    fmt = FORMATS[spec.fmt]
    lang: Lang = "zh" if spec.lang == "zh" else "en"
    # the late steps' sites read first: the export's query may then run in parallel workers
    late = late_step_sites(session, today) if spec.layer == "sites" else None
    if late is not None and len(late) > LATE_SITES_INLINE_MAX:
        late = None  # an SQL text of megabytes: the subquery instead (one worker, same rows)
    src = make_source(spec.layer, flt, today, actor, late)
    fields = fields_for(spec.layer, spec.personal)
    count = src.count(session)
    report = (lambda done: progress(done, count)) if progress is not None else None
    result = ExportResult(spec.filename(today), fmt.media_type, count, ())
    if spec.fmt == "geojson":
        result.chunks = geojson_chunks(session, src, fields, lang, report)
        return result
    if spec.fmt == "csv":
        result.chunks = csv_chunks(session, src, fields, lang, report)
        return result
    folder = Path(tempfile.mkdtemp(prefix="gis-export-"))
    try:
        if spec.fmt == "xlsx":
            path = folder / result.filename
            write_xlsx(session, src, fields, lang, path, report)
        else:
            path = write_ogr(session, src, fields, spec.fmt, lang, folder, report)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    chunks = FileChunks(path, folder)
    result.chunks = chunks
    result.size = chunks.size
    return result
