"""The demo district's accounts: one per district role and bureau, an officer and an inspector
for each street, an agency machine (`gis-app demo-accounts`); the inspectors join the spot
checks' pool."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEMO_FILE = "demo-accounts.txt"


def _demo_password(username: str) -> str:
    from gis_app.features.accounts.service import check_password_rules

    while True:
        candidate = secrets.token_urlsafe(9)
        try:
            return check_password_rules(candidate, username)
        except Exception:
            continue


def _slug(code: str, name_en: str | None) -> str:
    slug = "".join(ch for ch in (name_en or "").lower().replace("subdistrict", "") if ch.isalnum())
    return slug or code


def street_officer_username(session: Any, code: str) -> str:
    """The demo account of a street's officer (`officer.<street>`): the demo's records are made
    in its name, so that the pages show the account's name once `gis-app demo-accounts` ran."""
    from sqlalchemy import select

    from gis_app.features.streets.models import Street

    name_en = session.scalar(select(Street.name_en).where(Street.code == code))
    return f"officer.{_slug(code, name_en)}"


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
        slug = _slug(code, name_en)
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
