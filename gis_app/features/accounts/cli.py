"""Accounts and the audit trail on the command line:

gis-app create-user USERNAME --role district_admin      the first administrator
gis-app users list | set-password | activate | deactivate | prune
gis-app tokens create USERNAME --name 用途 | tokens revoke ID
gis-app demo-accounts                                    one account per role and street
gis-app audit verify                                     walk the hash chain
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app

DEMO_FILE = "demo-accounts.txt"


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt=confirm)


def _min_length() -> int:
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


def register(cli: click.Group) -> None:
    from gis_app.commandline import cli_actor, db_session, fail, with_app
    from gis_app.core.errors import AppError

    @cli.command("create-user")
    @click.argument("username")
    @click.option(
        "--role", required=True, help="district_admin, district_officer, street_officer, …"
    )
    @click.option("--street", "street", default=None, help="street code (street roles)")
    @click.option("--name", "display_name", default=None, help="display name (default: username)")
    @click.option("--password-stdin", is_flag=True, help="read the password from standard input")
    @with_app
    def create_user_cmd(
        username: str, role: str, street: str | None, display_name: str | None, password_stdin: bool
    ) -> None:
        """Create an account (the first district administrator, or any other)."""
        from gis_app.features.accounts import service as accounts

        password = _read_password(password_stdin)
        try:
            user = accounts.create_user(
                db_session(),
                cli_actor(),
                username,
                display_name or username,
                role,
                street,
                password,
                _min_length(),
            )
        except AppError as exc:
            fail(exc)
            return
        click.echo(
            f"已建立账户 {user.username}（{role}{'，' + street if street else ''}）", err=True
        )

    @cli.group()
    def users() -> None:
        """Accounts: list, passwords, (de)activation, expired sessions."""

    @users.command("list")
    @with_app
    def users_list() -> None:
        """Every account with its role, street and state."""
        from gis_app.features.accounts import service as accounts

        for u in accounts.list_users(db_session()):
            state = "active" if u.active else "inactive"
            click.echo(f"{u.username}\t{u.role}\t{u.street_code or '-'}\t{state}\t{u.display_name}")

    @users.command("set-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True)
    @with_app
    def users_set_password(username: str, password_stdin: bool) -> None:
        """Set a user's password (their sessions end)."""
        from gis_app.features.accounts import service as accounts

        password = _read_password(password_stdin)
        try:
            accounts.set_password(
                db_session(), cli_actor(), username, password, min_length=_min_length()
            )
        except AppError as exc:
            fail(exc)
            return
        click.echo(f"{username} 的密码已设置", err=True)

    def _set_active(username: str, active: bool) -> None:
        from gis_app.features.accounts import service as accounts

        try:
            user = accounts.get_user(db_session(), username)
            accounts.update_user(
                db_session(), cli_actor(), username, user.display_name, user.role,
                user.street_code, active,
            )  # fmt: skip
        except AppError as exc:
            fail(exc)
            return
        click.echo(f"{username} 已{'启用' if active else '停用'}", err=True)

    @users.command("activate")
    @click.argument("username")
    @with_app
    def users_activate(username: str) -> None:
        """Let a user log in again."""
        _set_active(username, True)

    @users.command("deactivate")
    @click.argument("username")
    @with_app
    def users_deactivate(username: str) -> None:
        """Stop a user: their sessions end at once, their tokens stop working."""
        _set_active(username, False)

    @users.command("prune")
    @click.option("--keep-days", default=90, show_default=True, type=int)
    @with_app
    def users_prune(keep_days: int) -> None:
        """Delete expired sessions and login attempts older than --keep-days (cron)."""
        from gis_app.features.accounts import service as accounts

        n = accounts.prune(db_session(), keep_days=keep_days)
        click.echo(f"已清理 {n} 条过期会话和登录记录", err=True)

    @cli.group()
    def tokens() -> None:
        """API tokens for agencies' machines (read with the role of their user)."""

    @tokens.command("create")
    @click.argument("username")
    @click.option("--name", required=True, help="what the token is for")
    @click.option("--days", type=int, default=None, help="expires after N days (default: never)")
    @with_app
    def tokens_create(username: str, name: str, days: int | None) -> None:
        """Issue a token; it is printed once (standard output) and stored only as a hash."""
        from gis_app.features.accounts import service as accounts

        try:
            token, secret = accounts.create_token(db_session(), cli_actor(), username, name, days)
        except AppError as exc:
            fail(exc)
            return
        click.echo(
            f"令牌 {token.id}（{token.prefix}…）已发放给 {username}；只显示这一次：", err=True
        )
        click.echo(secret)

    @tokens.command("revoke")
    @click.argument("token_id", type=int)
    @with_app
    def tokens_revoke(token_id: int) -> None:
        """Revoke a token at once."""
        from gis_app.features.accounts import service as accounts

        try:
            token = accounts.revoke_token(db_session(), cli_actor(), token_id)
        except AppError as exc:
            fail(exc)
            return
        click.echo(f"令牌 {token.id}（{token.prefix}…）已吊销", err=True)

    @cli.command("demo-accounts")
    @click.option("--file", "path", type=click.Path(path_type=Path), default=None)
    @with_app
    def demo_accounts_cmd(path: Path | None) -> None:
        """Create the demo accounts that are missing (one per role, an officer and an inspector
        per street) with random passwords, keep them in DATA_DIR/demo-accounts.txt, print it."""
        target = path or Path(current_app.config["DATA_DIR"]) / DEMO_FILE
        created = create_demo_accounts(db_session(), target)
        if created:
            click.echo(f"[accounts] {created} demo account(s) created", err=True)
        if target.exists():
            click.echo(target.read_text())
        else:
            click.echo(
                "演示账户已存在，但密码文件不在："
                "请用 `gis-app users set-password 用户名` 重新设置密码。",
                err=True,
            )

    @cli.group()
    def audit() -> None:
        """The audit trail (hash-chained, written by the database's triggers)."""

    @audit.command("verify")
    @with_app
    def audit_verify() -> None:
        """Walk the whole chain: every hash recomputed, no event changed, missing or added."""
        from gis_app.features.audit import service as audit_service

        def progress(n: int) -> None:
            click.echo(f"  已校验 {n} 条", err=True)

        report = audit_service.verify(db_session(), progress=progress)
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        if not report.ok:
            click.secho(f"审计链校验失败：{report.problems[0].message}", fg="red", err=True)
            sys.exit(1)
        click.echo(
            f"审计链完好：{report.checked} 条事件，链头第 {report.head_seq} 号 {report.head_hash}",
            err=True,
        )


# ---------------------------------------------------------------- demo accounts


def _demo_password(username: str) -> str:
    from gis_app.features.accounts.service import check_password_rules

    while True:
        candidate = secrets.token_urlsafe(9)
        try:
            return check_password_rules(candidate, username)
        except Exception:
            continue


def demo_account_specs(session: Any) -> list[dict[str, Any]]:
    """Who the demo district has: one account per district role and bureau, an officer and an
    inspector for each street, an agency machine."""
    from sqlalchemy import select

    from gis_app.features.streets.models import Street

    specs: list[dict[str, Any]] = [
        {"username": "admin", "display_name": "区级管理员", "role": "district_admin"},
        {"username": "office", "display_name": "区办（演示）", "role": "district_officer"},
        {"username": "civil", "display_name": "区民政局（演示）", "role": "bureau_civil"},
        {"username": "housing", "display_name": "区住建委（演示）", "role": "bureau_housing"},
        {"username": "police", "display_name": "公安河东分局（演示）", "role": "bureau_police"},
        {"username": "media", "display_name": "区融媒体中心（演示）", "role": "bureau_media"},
        {"username": "agency", "display_name": "外部机构系统（演示）", "role": "agency"},
    ]
    for code, name, name_en in session.execute(
        select(Street.code, Street.name, Street.name_en).order_by(Street.code)
    ):
        slug = "".join(
            ch for ch in (name_en or "").lower().replace("subdistrict", "") if ch.isalnum()
        )
        slug = slug or code
        specs.append(
            {
                "username": f"officer.{slug}",
                "display_name": f"{name.removesuffix('街道')}街道办（演示）",
                "role": "street_officer",
                "street_code": code,
            }
        )
        specs.append(
            {
                "username": f"inspector.{slug}",
                "display_name": f"{name}执法队员（演示）",
                "role": "inspector",
                "street_code": code,
            }
        )
    return specs


def _pool_demo_inspectors(session: Any, actor: Any, usernames: list[str]) -> None:
    """Put the demo inspectors' logins into the spot checks' pool (those not in it yet), so
    that a drawn batch can be assigned and each inspector records his or her results."""
    from flask import current_app
    from sqlalchemy import select

    from gis_app.features.accounts.models import User
    from gis_app.features.sampling.inspectors import add_inspector
    from gis_app.features.sampling.models import Inspector

    linked = select(Inspector.user_id).where(Inspector.user_id.is_not(None))
    for username in session.scalars(
        select(User.username)
        .where(User.username.in_(usernames), User.active.is_(True), User.id.not_in(linked))
        .order_by(User.username)
    ).all():
        add_inspector(session, None, None, actor, current_app.config["DISTRICT_CODE"], username)


def create_demo_accounts(session: Any, target: Path) -> int:
    """Create the missing demo accounts; append their passwords (and the agency's token) to
    `target` (mode 0600). Returns how many were created."""
    from sqlalchemy import select

    from gis_app.commandline import cli_actor
    from gis_app.features.accounts import service as accounts
    from gis_app.features.accounts.models import User

    actor = cli_actor()
    lines: list[str] = []
    for spec in demo_account_specs(session):
        if session.scalar(select(User.id).where(User.username == spec["username"])):
            continue
        password = _demo_password(spec["username"])
        accounts.create_user(
            session,
            actor,
            spec["username"],
            spec["display_name"],
            spec["role"],
            spec.get("street_code"),
            password,
        )
        lines.append(
            f"{spec['username']:<28} {password:<16} {spec['role']:<17} "
            f"{spec.get('street_code') or '':<10} {spec['display_name']}"
        )
        if spec["role"] == "agency":
            _token, secret = accounts.create_token(
                session, actor, spec["username"], "演示：外部机构系统"
            )
            lines.append(f"{'':<28} API token: {secret}")
    demo_inspectors = [
        spec["username"] for spec in demo_account_specs(session) if spec["role"] == "inspector"
    ]
    _pool_demo_inspectors(session, actor, demo_inspectors)
    if not lines:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    new_file = not target.exists()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        if new_file:
            f.write(
                "# 演示账户（make run 建立；密码随机生成，仅供演示）\n"
                f"# {'username':<26} {'password':<16} {'role':<17} {'street':<10} name\n"
            )
        f.write("\n".join(lines) + "\n")
    return sum(1 for line in lines if not line.startswith(" "))
