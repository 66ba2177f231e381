"""The import page of the office and the streets: upload a ledger, see how its columns were
read, a preview of its first rows and every error and warning by row and column, then import
it; a refused file comes back as .xlsx with its bad cells marked (importer.annotated_workbook).

Between the check and the import the uploaded file waits in `$GIS_APP_DATA_DIR/import-stash`
under a random name, for the user who uploaded it (a day at most). A column the import does not
recognise can be mapped to a field by hand; the mapping, once the import is done, is remembered
for the street's (or the district office's) next import.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from gis_app.core import codes
from gis_app.core.errors import AppError, ImportRejected, NotFound, ValidationError
from gis_app.features.ledger import importer
from gis_app.features.ledger.schemas import FIELD_LABELS
from gis_app.http.access import DISTRICT, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import discard, session

bp = Blueprint("ledger_import", __name__, template_folder="templates")

IMPORTERS = (*DISTRICT, "street_officer")
PREVIEW_ROWS = 10
STASH_HOURS = 24
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _stash_dir() -> Path:
    folder = Path(current_app.config["DATA_DIR"]) / "import-stash"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stash(data: bytes, filename: str, crs: str, headers: dict[str, str]) -> str:
    folder = _stash_dir()
    cutoff = time.time() - STASH_HOURS * 3600
    for old in folder.iterdir():  # what nobody came back for
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    (folder / f"{token}.bin").write_bytes(data)
    meta = {"filename": filename, "crs": crs, "user": current_actor().name, "headers": headers}
    _save_meta(token, meta)
    return token


def _save_meta(token: str, meta: dict[str, Any]) -> None:
    (_stash_dir() / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def _stashed(token: str) -> tuple[bytes, dict[str, Any]]:
    folder = _stash_dir()
    if not _TOKEN.match(token or "") or not (folder / f"{token}.json").exists():
        raise NotFound("待导入的文件已过期或不存在：请重新上传", "token")
    meta = json.loads((folder / f"{token}.json").read_text("utf-8"))
    if meta["user"] != current_actor().name:
        raise NotFound("待导入的文件已过期或不存在：请重新上传", "token")
    return (folder / f"{token}.bin").read_bytes(), meta


def _drop(token: str) -> None:
    for suffix in (".bin", ".json"):
        (_stash_dir() / f"{token}{suffix}").unlink(missing_ok=True)


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template("ledger/import.html", labels=FIELD_LABELS, **context), status


def _preview(rows: importer.RawRows) -> dict[str, Any]:
    fields = list(dict.fromkeys(f for _, f in rows.columns if f))
    return {
        "fields": fields,
        "rows": [(row.number, [row.values.get(f) for f in fields]) for row in rows[:PREVIEW_ROWS]],
    }


@bp.get("/ledger/import")
@allow(*IMPORTERS)
def page() -> Any:
    return _page()


@bp.post("/ledger/import")
@allow(*IMPORTERS)
def check() -> Any:
    """Read and check the uploaded file (nothing is written); keep it for the import. The
    header mapping the street confirmed last time applies."""
    upload = request.files.get("file")
    crs = (request.form.get("crs") or "wgs84").strip().lower()
    try:
        if upload is None or not upload.filename:
            raise ValidationError("请选择要导入的台账文件", "file")
        data = upload.read()
        headers = importer.remembered_headers(session(), current_actor())
        importer.detect_format(upload.filename)
        token = _stash(data, upload.filename, crs, headers)
        return _checked(token, data, {"filename": upload.filename, "crs": crs, "headers": headers})
    except AppError as exc:
        discard()
        return _page(exc.status, error=exc)


@bp.post("/ledger/import/<token>/mapping")
@allow(*IMPORTERS)
def remap(token: str) -> Any:
    """Check the stashed file again with the columns the user mapped by hand."""
    try:
        data, meta = _stashed(token)
        chosen = dict(meta.get("headers") or {})
        names = request.form.getlist("header")
        fields = request.form.getlist("field")
        for header, name in zip(names, fields, strict=False):
            if name:
                chosen[header] = name
            else:
                chosen.pop(header, None)
        with importer.chosen_headers(chosen):  # a field that cannot be chosen: refused here
            pass
        meta["headers"] = chosen
        _save_meta(token, meta)
        return _checked(token, data, meta)
    except AppError as exc:
        discard()
        return _page(exc.status, error=exc)


def _checked(token: str, data: bytes, meta: dict[str, Any]) -> tuple[str, int]:
    filename, crs, headers = meta["filename"], meta["crs"], meta.get("headers") or {}
    context: dict[str, Any] = {"token": token, "filename": filename, "crs": crs}
    context |= {"chosen": headers, "mappable": importer.MAPPABLE}
    try:
        rows = importer.read_ledger(data, filename, headers)
    except ValidationError as exc:
        if "columns" not in exc.details:  # not a missing column: nothing to map
            raise
        columns = [tuple(c) for c in exc.details["columns"]]
        return _page(exc.status, error=exc, columns=columns, **context)
    context |= {"columns": rows.columns, "preview": _preview(rows)}
    try:
        report = importer.import_sites(
            session(),
            data,
            filename,
            current_actor(),
            crs=crs,
            dry_run=True,
            synonyms=current_app.config.get("KIND_SYNONYMS"),
            headers=headers,
        )
    except ImportRejected as exc:
        discard()
        warnings = exc.details.get("warnings") or []
        return _page(422, refused=exc, errors=exc.errors, warnings=warnings, **context)
    except AppError as exc:  # a column missing: the user may map one
        discard()
        return _page(exc.status, error=exc, **context)
    return _page(report=report, warnings=report.warnings, **context)


@bp.post("/ledger/import/<token>")
@allow(*IMPORTERS)
def commit(token: str) -> Any:
    """Import the file checked before (all rows or none)."""
    try:
        data, meta = _stashed(token)
        report = importer.import_sites(
            session(),
            data,
            meta["filename"],
            current_actor(),
            crs=meta["crs"],
            synonyms=current_app.config.get("KIND_SYNONYMS"),
            headers=meta.get("headers"),
        )
        importer.remember_headers(session(), current_actor(), meta.get("headers") or {})
    except ImportRejected as exc:  # the ledger changed since the check
        discard()
        return _page(422, refused=exc, errors=exc.errors, token=token)
    except AppError as exc:
        discard()
        return _page(exc.status, error=exc)
    _drop(token)
    return _page(imported=report, warnings=report.warnings, filename=meta["filename"])


@bp.get("/ledger/import/<token>/annotated.xlsx")
@allow(*IMPORTERS)
def annotated(token: str) -> Response:
    """The refused file back as .xlsx: bad cells red, the reasons in comments and a column."""
    data, meta = _stashed(token)
    rows = importer.read_ledger(data, meta["filename"], meta.get("headers"))
    try:
        importer.import_sites(
            session(),
            data,
            meta["filename"],
            current_actor(),
            crs=meta["crs"],
            dry_run=True,
            synonyms=current_app.config.get("KIND_SYNONYMS"),
            headers=meta.get("headers"),
        )
        errors: list[dict[str, Any]] = []
    except ImportRejected as exc:
        discard()
        errors = exc.errors
    body = importer.annotated_workbook(rows, errors)
    stem = Path(meta["filename"]).stem or "ledger"
    response = Response(
        body,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    from urllib.parse import quote

    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"ledger-errors.xlsx\"; filename*=UTF-8''{quote(stem)}-待改正.xlsx"
    )
    return response


# ---------------------------------------------------------------- the office's kind synonyms


def _synonyms_page(status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template(
        "ledger/kind_synonyms.html",
        synonyms=importer.list_synonyms(session()),
        builtin=sorted(importer.KIND_SYNONYMS.items()),
        configured=sorted((current_app.config.get("KIND_SYNONYMS") or {}).items()),
        kinds=codes.KINDS,
        **context,
    )
    return page, status


@bp.get("/ledger/kind-synonyms")
@allow(*DISTRICT)
def kind_synonyms() -> Any:
    """The words the streets use for the kinds, and the kind each means (the office edits)."""
    return _synonyms_page()


@bp.post("/ledger/kind-synonyms")
@allow(*DISTRICT)
def add_kind_synonym() -> Any:
    form = request.form
    try:
        importer.add_synonym(
            session(),
            current_actor(),
            current_app.config["DISTRICT_CODE"],
            form.get("word", ""),
            form.get("kind", ""),
        )
    except AppError as exc:
        discard()
        return _synonyms_page(exc.status, error=exc, form=form)
    return redirect(url_for("ledger_import.kind_synonyms"))


@bp.post("/ledger/kind-synonyms/<int:synonym_id>/delete")
@allow(*DISTRICT)
def delete_kind_synonym(synonym_id: int) -> Any:
    try:
        importer.remove_synonym(session(), synonym_id)
    except AppError as exc:
        discard()
        return _synonyms_page(exc.status, error=exc)
    return redirect(url_for("ledger_import.kind_synonyms"))
