"""`gis-app sample ...` (draw, redraw to audit, list) and `gis-app inspectors ...` (the pool)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask import current_app

from gis_app.commandline import cli_actor, db_session, fail, say, with_app
from gis_app.core.errors import AppError


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# The services are imported in the commands: numpy and scipy load only when a command needs
# them, not on every `gis-app` call.


@click.group("sample")
def sample() -> None:
    """Spot-check samples (抽查): draw, audit by drawing again, list."""


@sample.command("draw")
@click.option("--closed-from", help="closed on or after (YYYY-MM-DD, Asia/Shanghai)")
@click.option("--closed-to", help="closed on or before (YYYY-MM-DD)")
@click.option("--street", multiple=True, help="street code (repeatable)")
@click.option("--status", multiple=True, help="status (default: closed)")
@click.option("--disposition", multiple=True)
@click.option("--flag", multiple=True)
@click.option(
    "--size-mode",
    type=click.Choice(["gbt2828", "fixed", "percent"]),
    default="gbt2828",
    show_default=True,
)
@click.option("-n", "--n", "n", help="sample size (fixed) or percentage")
@click.option("--level", default="II", show_default=True, help="GB/T 2828.1 level")
@click.option(
    "--method",
    type=click.Choice(["auto", "lpm", "grts", "srs"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--allocation",
    type=click.Choice(["proportional", "equal"]),
    default="proportional",
    show_default=True,
)
@click.option("--seed", help="random seed (default: a new random one, stored)")
@click.option("--title", default="")
@with_app
def draw_cmd(**opts: Any) -> None:
    """Draw a sample from the frame and store it (method, seed and frame included)."""
    from gis_app.features.sampling.frame import FrameSpec
    from gis_app.features.sampling.service import DrawRequest, batch_summary, create_batch

    frame = {
        "closed_from": opts["closed_from"],
        "closed_to": opts["closed_to"],
        "street": list(opts["street"]),
        "status": list(opts["status"]),
        "disposition": list(opts["disposition"]),
        "flag": list(opts["flag"]),
    }
    try:
        spec = FrameSpec.from_object(frame)
        say("抽样框筛选与抽取中…")
        batch = create_batch(
            db_session(),
            spec,
            DrawRequest(
                opts["size_mode"],
                opts["n"],
                opts["level"],
                opts["method"],
                opts["allocation"],
                opts["seed"],
                opts["title"],
            ),
            cli_actor(),
            current_app.config["DISTRICT_CODE"],
        )
    except AppError as exc:
        fail(exc)
        return
    summary = batch_summary(batch)
    say(
        f"批次 {batch.id}：从 {batch.frame_size} 个点位抽取 {batch.sample_size} 个，"
        f"种子 {batch.seed}"
    )
    _json(summary)


@sample.command("redraw")
@click.argument("batch_id", type=int)
@with_app
def redraw_cmd(batch_id: int) -> None:
    """Draw BATCH again from its stored frame and seed and compare (exit 1 if different)."""
    from gis_app.features.sampling.service import audit_batch

    try:
        result = audit_batch(db_session(), batch_id)
    except AppError as exc:
        fail(exc)
        return
    _json(result)
    if result["match"]:
        say("一致：重新抽取得到相同的样本")
    else:
        click.secho("不一致：重新抽取的结果与保存的样本不同", fg="red", err=True)
        sys.exit(1)


@sample.command("list")
@with_app
def list_cmd() -> None:
    """The district's batches, newest first."""
    from gis_app.features.sampling.service import list_batches

    for b in list_batches(db_session(), current_app.config["DISTRICT_CODE"], cli_actor()):
        click.echo(
            f"{b['id']}\t{b['created_at'][:16]}\t{b['method']}\t"
            f"{b['sample_size']}/{b['frame_size']}\t已核查 {b['inspected']}\t{b['title']}"
        )


@click.group("inspectors")
def inspectors_group() -> None:
    """The inspectors' pool for double-random spot checks."""


@inspectors_group.command("add")
@click.argument("name", default="")
@click.option("--street", default="", help="street code ('' = district level)")
@click.option(
    "--user",
    "username",
    default="",
    help="link to this login (an active inspector account; its street is taken)",
)
@with_app
def add_cmd(name: str, street: str, username: str) -> None:
    """Add an inspector to the pool (NAME may be left out with --user)."""
    from gis_app.features.sampling.inspectors import add_inspector

    try:
        person = add_inspector(
            db_session(),
            name,
            street,
            cli_actor(),
            current_app.config["DISTRICT_CODE"],
            username,
        )
    except AppError as exc:
        fail(exc)
        return
    _json({"id": person.id, "name": person.name, "street_code": person.street_code})


@inspectors_group.command("list")
@with_app
def list_inspectors_cmd() -> None:
    """The pool."""
    from gis_app.features.sampling.inspectors import list_inspectors

    for p in list_inspectors(db_session(), current_app.config["DISTRICT_CODE"]):
        state = "在岗" if p["active"] else "停用"
        login = p["username"] or "（无登录账户）"
        click.echo(f"{p['id']}\t{p['name']}\t{p['street_name']}\t{state}\t{login}")


@inspectors_group.command("deactivate")
@click.argument("inspector_id", type=int)
@with_app
def deactivate_cmd(inspector_id: int) -> None:
    """Take an inspector out of future draws (the history stays)."""
    from gis_app.features.sampling.inspectors import set_active

    try:
        set_active(
            db_session(), inspector_id, False, cli_actor(), current_app.config["DISTRICT_CODE"]
        )
    except AppError as exc:
        fail(exc)
        return
    say(f"执法人员 {inspector_id} 已停用")


def register(cli: click.Group) -> None:
    cli.add_command(sample)
    cli.add_command(inspectors_group)
