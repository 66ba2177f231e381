"""What PostgreSQL does with the statements a service runs: capture them, EXPLAIN them.

Used by the query-plan tests (a lost index fails a test) and by the city benchmark (which
index each measured query used). The statements are captured as the service really sends
them (SQL text and bound parameters), so nothing is rewritten by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


@dataclass(frozen=True)
class Captured:
    statement: str
    parameters: Any


@contextmanager
def captured(session: Session) -> Iterator[list[Captured]]:
    """The statements executed on the session's connection while the block runs."""
    connection = session.connection()
    found: list[Captured] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        found.append(Captured(statement, parameters))

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield found
    finally:
        event.remove(connection, "before_cursor_execute", before)


def explain(session: Session, statement: Captured) -> dict[str, Any]:
    """The plan (EXPLAIN (FORMAT JSON), not executed) of one captured statement."""
    with session.connection().connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + statement.statement, statement.parameters)
        raw = cur.fetchone()[0]
    doc = raw if isinstance(raw, list) else json.loads(raw)
    return doc[0]["Plan"]


def explain_call(session: Session, call: Callable[[], Any]) -> list[dict[str, Any]]:
    """Run ``call`` (a service call), then the plans of every statement it executed."""
    with captured(session) as found:
        call()
    return [
        explain(session, c)
        for c in found
        if c.statement.lstrip().upper().startswith(("SELECT", "WITH"))
    ]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan tree (subplans and init plans included)."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def indexes_used(plan: dict[str, Any]) -> set[str]:
    """Names of the indexes the plan reads."""
    return {n["Index Name"] for n in nodes(plan) if n["Node Type"] in INDEX_NODES}


def seq_scanned(plan: dict[str, Any]) -> set[str]:
    """Tables the plan reads whole."""
    return {n["Relation Name"] for n in nodes(plan) if n["Node Type"] == "Seq Scan"}


def summary(plan: dict[str, Any]) -> str:
    """One line: the scans of the plan, e.g. 'Bitmap Index Scan ix_sites_geom'."""
    parts = []
    for n in nodes(plan):
        if n["Node Type"] in INDEX_NODES:
            parts.append(f"{n['Node Type']} {n['Index Name']}")
        elif n["Node Type"] == "Seq Scan":
            parts.append(f"Seq Scan {n['Relation Name']}")
    return ", ".join(dict.fromkeys(parts)) or n["Node Type"]
