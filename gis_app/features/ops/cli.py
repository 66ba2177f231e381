"""`gis-app pitr backup|photos-sync|info` and `gis-app recover --to T` (the pitr module).

They read the pgBackRest settings (GIS_APP_PGBACKREST_*), the photo repository
(GIS_APP_PHOTO_BACKUP_DIR), DATABASE_URL and GIS_APP_PHOTO_DIR; they do not start the app.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click


def _config() -> dict[str, Any]:
    given = (click.get_current_context().find_root().obj or {}).get("app")
    if given is not None:
        return dict(given.config)
    from gis_app.settings import load_config

    return load_config()


def _fail(message: str) -> NoReturn:
    click.secho(f"错误：{message}", fg="red", err=True)
    sys.exit(1)


def say(message: str) -> None:
    click.echo(f"[pitr] {message}", err=True)


def parse_target(raw: str) -> datetime:
    """`2026-12-05 14:03:00+08` (a time zone is required: the server's clock is UTC)."""
    try:
        target = datetime.fromisoformat(raw.strip())
    except ValueError:
        _fail(f'--to 应为带时区的时间，例如 "2026-12-05 14:03:00+08"：{raw!r}')
    if target.tzinfo is None:
        _fail(f"--to 须带时区（如 +08）：{raw!r}")
    return target


def register(cli: click.Group) -> None:
    from gis_app.features.ops import pitr

    def backrest(cfg: dict[str, Any]) -> pitr.PgBackRest:
        conf = Path(cfg["PGBACKREST_CONFIG"])
        if not conf.is_file():
            _fail(f"找不到 pgBackRest 配置 {conf}（GIS_APP_PGBACKREST_CONFIG）")
        return pitr.PgBackRest(conf, cfg["PGBACKREST_STANZA"], cfg["PGBACKREST_USER"])

    @cli.group("pitr")
    def pitr_group() -> None:
        """Continuous backup (pgBackRest, WAL archiving) and the photo copy beside it."""

    @pitr_group.command("backup")
    @click.option(
        "--type", "kind", type=click.Choice(["full", "diff", "incr"]), default="incr",
        show_default=True,
    )  # fmt: skip
    def backup_cmd(kind: str) -> None:
        """A base backup with pgBackRest (the photos: `gis-app pitr photos-sync`)."""
        cfg = _config()
        try:
            backrest(cfg).backup(kind)
        except pitr.RecoveryError as exc:
            _fail(str(exc))
        say(f"{kind} 备份完成")

    @pitr_group.command("photos-sync")
    def photos_sync_cmd() -> None:
        """Copy the photo files not yet in GIS_APP_PHOTO_BACKUP_DIR; write this run's manifest."""
        cfg = _config()
        if not cfg["PHOTO_BACKUP_DIR"]:
            _fail("没有设置 GIS_APP_PHOTO_BACKUP_DIR")
        done = pitr.sync_photos(Path(cfg["PHOTO_DIR"]), Path(cfg["PHOTO_BACKUP_DIR"]))
        say(f"照片：新复制 {done['copied']} 个文件，共 {done['files']} 个（{done['manifest']}）")

    @pitr_group.command("info")
    def info_cmd() -> None:
        """pgBackRest's view of the repository (backups, WAL range), as JSON."""
        try:
            click.echo(json.dumps(backrest(_config()).info(), ensure_ascii=False, indent=2))
        except pitr.RecoveryError as exc:
            _fail(str(exc))

    @cli.command("recover")
    @click.option("--to", "to", required=True, help='the moment, e.g. "2026-12-05 14:03:00+08"')
    @click.option(
        "--into", type=click.Path(path_type=Path), default=None,
        help="new empty folder for the recovered cluster and photos (default: new, in /var/tmp)",
    )  # fmt: skip
    @click.option("--swap", is_flag=True, help="then replace the app's database and photos")
    @click.option("--yes", is_flag=True, help="confirm --swap (the current data is replaced)")
    def recover_cmd(to: str, into: Path | None, swap: bool, yes: bool) -> None:
        """Database and photos as they were at --to, in a fresh place; the audit chain checked
        there; with --swap --yes put in place of the current ones (like `gis-app restore`)."""
        target = parse_target(to)
        if swap and not yes:
            _fail("--swap 会整体替换当前的数据库和照片：确认后加 --yes 再运行；未做任何改动。")
        cfg = _config()
        if not cfg.get("DATABASE_URL"):
            _fail("没有配置数据库：请设置 DATABASE_URL")
        from sqlalchemy.engine import make_url

        db = make_url(cfg["DATABASE_URL"])
        pgbr = backrest(cfg)
        home = into or Path(tempfile.mkdtemp(prefix="gis-app-recovered-", dir="/var/tmp"))
        photo_repo = Path(cfg["PHOTO_BACKUP_DIR"]) if cfg["PHOTO_BACKUP_DIR"] else None
        try:
            rec = pitr.recover_to(
                pgbr, target, home, photo_repo=photo_repo,
                dbname=db.database or "gis_app", db_user=db.username or pgbr.os_user,
            )  # fmt: skip
        except pitr.RecoveryError as exc:
            _fail(str(exc))
        try:
            report = rec.report()
            if not rec.chain.get("ok"):
                _fail(f"恢复出的审计链校验不通过：{rec.chain}；未替换。恢复结果在 {home}")
            if rec.photos_missing:
                _fail(f"照片备份中缺少 {len(rec.photos_missing)} 个文件；未替换。恢复结果在 {home}")
            if swap:
                pitr.swap_in(rec, cfg["DATABASE_URL"], Path(cfg["PHOTO_DIR"]), say)
                report["swapped_in"] = True
        finally:
            rec.stop()
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
