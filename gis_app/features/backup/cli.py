"""`gis-app backup [--output FILE]` and `gis-app restore FILE [--yes]` (the backup service).

Both act on the configured database (DATABASE_URL, the owner's connection) and photo folder
(GIS_APP_PHOTO_DIR); they do not start the app, so `restore` works on a database that does
not exist yet.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click


def _settings() -> dict[str, Any]:
    """DATABASE_URL and PHOTO_DIR of the app given by a test harness, else of the environment."""
    given = (click.get_current_context().find_root().obj or {}).get("app")
    if given is not None:
        return dict(given.config)
    from gis_app.settings import load_config

    return load_config()


def say(message: str) -> None:
    click.echo(f"[backup] {message}", err=True)


def register(cli: click.Group) -> None:
    from gis_app.features.backup import service as svc

    @cli.command("backup")
    @click.option(
        "--output",
        "-o",
        type=click.Path(path_type=Path),
        default=None,
        help="archive to write (default: gis-app-backup-<UTC time>.tar here)",
    )
    def backup_cmd(output: Path | None) -> None:
        """One .tar: the database (pg_dump, custom format, audit trail included), the photo
        store and a manifest with every member's sha256."""
        cfg = _settings()
        if not cfg.get("DATABASE_URL"):
            click.secho(
                "错误：没有配置数据库：请设置 DATABASE_URL（或先 make db）。", fg="red", err=True
            )
            sys.exit(1)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = output or Path(f"gis-app-backup-{stamp}.tar")
        try:
            manifest = svc.create_backup(cfg["DATABASE_URL"], cfg["PHOTO_DIR"], target, say)
        except svc.BackupError as exc:
            click.secho(f"错误：{exc}", fg="red", err=True)
            sys.exit(1)
        counts = manifest["counts"]
        click.echo(
            f"{target}\t修订 {','.join(manifest['alembic_revisions'])}\t"
            f"点位 {counts.get('sites', 0)}\t照片文件 {counts.get('photo_files', 0)}\t"
            f"审计链头 {manifest['audit'].get('head_seq', 0)}"
        )

    @cli.command("restore")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--yes", is_flag=True, help="replace a database and photo folder that hold data")
    def restore_cmd(file: Path, yes: bool) -> None:
        """Restore a `gis-app backup` archive into the configured database and photo folder:
        checked first, restored into a fresh database, swapped in only when complete."""
        cfg = _settings()
        if not cfg.get("DATABASE_URL"):
            click.secho(
                "错误：没有配置数据库：请设置 DATABASE_URL（或先 make db）。", fg="red", err=True
            )
            sys.exit(1)
        try:
            result = svc.restore_backup(
                file, cfg["DATABASE_URL"], cfg["PHOTO_DIR"], replace=yes, progress=say
            )
        except svc.BackupError as exc:
            click.secho(f"错误：{exc}", fg="red", err=True)
            sys.exit(1)
        audit = result["restored"]["audit"]
        click.echo(
            f"已恢复 {file}（{result['manifest']['created_at']} 备份）\t"
            f"审计链头 {audit.get('head_seq', 0)} {audit.get('head_hash', '')}"
        )
