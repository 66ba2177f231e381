"""GeoPackage, zipped Shapefile and KML, written by GDAL (pyogrio) from Arrow batches.

The rows come from PostgreSQL batch by batch (geometry as WKB) and go to GDAL as one Arrow
stream, so memory stays flat however many features there are. The file is written to a
temporary folder and then sent.

- GeoPackage (version 1.3: Debian 12's GDAL 3.6 opens it without a warning; 1.4 it does not
  know): English column names carry the Chinese name as their alias (and the other way round
  with lang=zh); dates and times are typed. A site's fid is its id, filtered or not. Times
  are written with their offset (`+08:00`, GDAL's DATETIME_FORMAT=WITH_TZ) like the GeoJSON
  ones: QGIS 3.22 drops the zone of every time it reads, so UTC times (`Z`) would show 8 hours
  off beside the GeoJSON's and the OGC API's; GDAL reads the same instants from both.
- Shapefile: dBASE names are at most 10 characters (see the data dictionary); text is UTF-8,
  declared in a .cpg file so that Chinese reads right in ArcGIS and QGIS; a text field holds
  at most 254 bytes (about 84 Chinese characters; longer text is cut); times are text.
- KML: the Placemark name is the code (sites) or the street name, its id `sites.<id>`
  (`streets.<code>`), as GDAL would name a feature of that id; times are text.
- The Shapefile format has no stored feature id (its FID is the record number): the `id`
  field is the key there.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_app.features.exchange.export.fields import ExportField, Lang
from gis_app.features.exchange.export.source import LayerSource, Progress, RowStyle, iter_batches

DRIVERS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "kml": "KML"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
GEOMETRY_TYPES = {"sites": "Point", "streets": "MultiPolygon"}
#: the GeoPackage version written (GDAL 3.6, Debian 12's, warns on 1.4)
GPKG_VERSION = "1.3"
#: the offset of the times written in a GeoPackage (Asia/Shanghai has no summer time)
LOCAL_OFFSET = "+08:00"
#: an extra Arrow column that GDAL takes as the GeoPackage fid (its default FID column name)
FID = "fid"
#: the field that keys a layer's features (the GeoJSON feature id)
KEY_FIELD = {"sites": "id", "streets": "code"}


def _column_name(f: ExportField, fmt: str, lang: Lang) -> str:
    return f.shp if fmt == "shp" else f.title(lang)


def _arrow_type(f: ExportField, fmt: str, lang: Lang) -> Any:
    import pyarrow as pa

    if f.codes is not None:
        return pa.string()
    if f.type == "integer":
        return pa.int64()
    if f.type == "number":
        return pa.float64()
    if f.type == "boolean":
        return pa.bool_()
    if f.type == "date" and fmt != "kml":
        return pa.date32()
    if f.type == "datetime" and fmt == "gpkg":
        return pa.timestamp("s", tz=LOCAL_OFFSET)
    return pa.string()


def _fid_index(fields: Sequence[ExportField], fmt: str) -> int | None:
    """Where the integer id is among the fields, when it becomes the GeoPackage fid."""
    if fmt != "gpkg":
        return None
    return next((i for i, f in enumerate(fields) if f.name == "id" and f.type == "integer"), None)


def _schema(fields: Sequence[ExportField], fmt: str, lang: Lang) -> Any:
    import pyarrow as pa

    columns = []
    for f in fields:
        metadata = {"GDAL:OGR:comment": f.description}
        other = f.name if lang == "zh" else f.zh
        metadata["GDAL:OGR:alternative_name"] = other
        if fmt == "shp" and f.width and _arrow_type(f, fmt, lang) == pa.string():
            metadata["GDAL:OGR:width"] = str(f.width)
        columns.append(
            pa.field(_column_name(f, fmt, lang), _arrow_type(f, fmt, lang), metadata=metadata)
        )
    columns.append(
        pa.field("geometry", pa.binary(), metadata={"ARROW:extension:name": "geoarrow.wkb"})
    )
    if _fid_index(fields, fmt) is not None:
        columns.append(pa.field(FID, pa.int64()))
    return pa.schema(columns)


def fit_bytes(text: str, width: int) -> str:
    """Cut a text to at most `width` UTF-8 bytes without splitting a character."""
    data = text.encode()
    if len(data) <= width:
        return text
    return data[:width].decode(errors="ignore")


def _style(fmt: str) -> RowStyle:
    """GeoPackage has date-time columns; Shapefile and KML get RFC 3339 text (KML dates too)."""
    return RowStyle(
        times="raw" if fmt == "gpkg" else "text",
        dates="text" if fmt == "kml" else "raw",
        numbers="float",
    )


def _converter(f: ExportField, fmt: str) -> Any:
    """Python value -> what the Arrow column takes, where PostgreSQL did not shape it."""
    if fmt == "shp" and f.width and (f.type == "string" or f.codes is not None):
        width = f.width
        return lambda v: None if v is None else fit_bytes(v, width)
    return None


def _batches(
    session: Session,
    src: LayerSource,
    fields: Sequence[ExportField],
    fmt: str,
    lang: Lang,
    progress: Progress,
    keys: list[Any] | None = None,
) -> Iterator[Any]:
    """Arrow batches of the rows; the key of each feature is appended to `keys` in order."""
    import pyarrow as pa

    schema = _schema(fields, fmt, lang)
    converters = [_converter(f, fmt) for f in fields]
    fid_at = _fid_index(fields, fmt)
    key_at = next(i for i, f in enumerate(fields) if f.name == KEY_FIELD[src.layer])
    query = src.rows(fields, lang, _style(fmt), "wkb")
    done = 0
    for batch in iter_batches(session, query):
        columns = list(zip(*batch, strict=True))
        arrays = []
        for i, (values, convert) in enumerate(zip(columns, [*converters, None], strict=True)):
            if convert is not None:
                values = [convert(v) for v in values]
            if i == len(fields):
                values = [bytes(v) for v in values]
            arrays.append(pa.array(values, type=schema.field(i).type))
        if fid_at is not None:
            arrays.append(pa.array(columns[fid_at], type=pa.int64()))
        if keys is not None:
            keys.extend(columns[key_at])
        yield pa.record_batch(arrays, schema=schema)
        done += len(batch)
        if progress is not None:
            progress(done)


def write_ogr(
    session: Session,
    src: LayerSource,
    fields: Sequence[ExportField],
    fmt: str,
    lang: Lang,
    folder: Path,
    progress: Progress = None,
) -> Path:
    """Write the layer in `fmt` (gpkg, shp, kml) into `folder`; return the file to send."""
    import pyarrow as pa
    import pyogrio

    schema = _schema(fields, fmt, lang)
    keys: list[Any] | None = [] if fmt == "kml" else None
    reader = pa.RecordBatchReader.from_batches(
        schema, _batches(session, src, fields, fmt, lang, progress, keys)
    )
    suffix = {"gpkg": ".gpkg", "shp": ".shp", "kml": ".kml"}[fmt]
    path = folder / f"{src.layer}{suffix}"
    options: dict[str, Any] = {}
    dataset_options: dict[str, Any] = {}
    if fmt == "shp":
        options["encoding"] = "UTF-8"
    if fmt == "gpkg":
        dataset_options |= {"VERSION": GPKG_VERSION, "DATETIME_FORMAT": "WITH_TZ"}
    if fmt == "kml":
        name_field = "code" if src.layer == "sites" else "name"
        dataset_options["NameField"] = _column_name(
            next(f for f in fields if f.name == name_field), fmt, lang
        )
    pyogrio.write_arrow(
        reader,
        path,
        layer=src.layer,
        driver=DRIVERS[fmt],
        geometry_name="geometry",
        geometry_type=GEOMETRY_TYPES[src.layer],
        crs="EPSG:4326",
        dataset_options=dataset_options or None,
        **options,
    )
    if fmt == "kml":
        _placemark_ids(path, src.layer, keys or [])
    if fmt != "shp":
        return path
    archive = folder / f"{src.layer}-shp.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for part in SHAPEFILE_PARTS:
            member = path.with_suffix(part)
            if member.exists():
                zf.write(member, member.name)
                member.unlink()
    return archive


def _placemark_ids(path: Path, layer: str, keys: Sequence[Any]) -> None:
    """GDAL names the n-th Placemark `<layer>.<n>`: name it by its feature's key instead
    (`sites.<id>`, `streets.<code>`), so that the id is the same in every export."""
    pattern = re.compile(rf'<Placemark id="{re.escape(layer)}\.(\d+)">')

    def rename(match: re.Match[str]) -> str:
        return f'<Placemark id="{layer}.{keys[int(match.group(1)) - 1]}">'

    renamed = path.with_suffix(".renamed")
    with path.open(encoding="utf-8") as src, renamed.open("w", encoding="utf-8") as out:
        for line in src:
            out.write(pattern.sub(rename, line) if "<Placemark" in line else line)
    renamed.replace(path)
