"""Accounts on the command line:

gis-app create-user USERNAME --role district_admin      the first administrator
gis-app users list | set-password | activate | deactivate | prune
gis-app tokens create USERNAME --name 用途 | tokens revoke ID
"""

from __future__ import annotations

import sys

import click
from flask import current_app

from gis_app.commandline import cli_actor, db_session, fail, with_app
from gis_app.core.errors import AppError


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt=confirm)


def _min_length() -> int:
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


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


def register(cli: click.Group) -> None:
    _create_user_command(cli)
    _user_commands(cli)
    _token_commands(cli)


def _create_user_command(cli: click.Group) -> None:
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


def _user_commands(cli: click.Group) -> None:
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
        click.echo(f"{username} 的密码已设置（其会话已结束、接口令牌已吊销）", err=True)

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


def _token_commands(cli: click.Group) -> None:
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
