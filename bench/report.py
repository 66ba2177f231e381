"""docs/operations/performance.md: each bench writes its own section; the document starts with
an index.

A section is the text between `<!-- KEY:start -->` and `<!-- KEY:end -->`; its first lines
carry a hidden record `<!-- bench: {...} -->` (title, date, machine, command) from which
`refresh_index` rebuilds the summary table at the top of the document, so the index always
names the machine, date and command of every section, whichever bench ran last.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "operations" / "performance.md"
INDEX_START, INDEX_END = "<!-- index:start -->", "<!-- index:end -->"
META = re.compile(r"<!-- bench: (\{.*?\}) -->")
HEADER = "# Performance"
INTRO = (
    "Figures from the benchmarks in `bench/`, run on demand and never in the test suite. "
    "`make bench` runs them all (`SCALE=small make bench` in a few minutes, writing to "
    "`bench/results/performance-small.md` instead of this file); each section below names "
    "its machine, date and command, and compares against a baseline measured in the same run."
)


def machine() -> str:
    """CPU, cores, memory, OS and Python, as one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        memory = f", {int(mem.group(1)) / 1024 / 1024:.0f} GiB" if mem else ""
    except OSError:
        memory = ""
    return f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}"


def postgres_version(url: str | None = None) -> str:
    """The server's PostgreSQL and PostGIS versions (from the server when a URL is given)."""
    if url:
        from sqlalchemy import create_engine, text

        from gis_app.core.database import sqlalchemy_url

        engine = create_engine(sqlalchemy_url(url))
        try:
            with engine.connect() as conn:
                pg = conn.execute(text("SHOW server_version")).scalar()
                gis = conn.execute(text("SELECT postgis_lib_version()")).scalar()
            return f"PostgreSQL {str(pg).split()[0]}, PostGIS {gis}"
        finally:
            engine.dispose()
    out = subprocess.run(["pg_config", "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "PostgreSQL"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def meta_line(title: str, command: str, machine_text: str, when: str | None = None) -> str:
    record = {
        "title": title,
        "date": when or date.today().isoformat(),
        "machine": machine_text,
        "command": command,
    }
    return f"<!-- bench: {json.dumps(record, ensure_ascii=False)} -->"


def write_section(key: str, body: str, doc: Path = DOC) -> None:
    """Put ``body`` (starting with its `## ` heading) between the KEY markers of ``doc``
    (appended when they are missing), then rebuild the index."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    section = f"{start}\n{body.strip()}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else HEADER + "\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(refresh_index(text), encoding="utf-8")


def sections(text: str) -> list[dict[str, Any]]:
    """The records of every section, in document order."""
    out = []
    for match in META.finditer(text):
        record = json.loads(match.group(1))
        before = text[: match.start()]
        heading = re.findall(r"^## (.+)$", before, re.M)
        record["heading"] = heading[-1] if heading else record["title"]
        out.append(record)
    return out


def _anchor(heading: str) -> str:
    """The docs site's anchor of a heading (Python-Markdown's `slugify_unicode`, as mkdocs.yml
    sets it): lower case, punctuation dropped, each run of spaces and hyphens one hyphen."""
    slug = re.sub(r"[^\w\s-]", "", heading).strip().lower()
    return re.sub(r"[-\s]+", "-", slug)


def refresh_index(text: str) -> str:
    """The document with its summary table (one row per section) rebuilt at the top."""
    rows = [
        "| section | date | machine | command |",
        "|---|---|---|---|",
    ]
    for r in sections(text):
        rows.append(
            f"| [{r['title']}](#{_anchor(r['heading'])}) | {r['date']} | {r['machine']} "
            f"| `{r['command']}` |"
        )
    index = f"{INDEX_START}\n{INTRO}\n\n" + "\n".join(rows) + f"\n{INDEX_END}"
    if INDEX_START in text and INDEX_END in text:
        head, rest = text.split(INDEX_START, 1)
        return head + index + rest.split(INDEX_END, 1)[1]
    if text.startswith(HEADER):
        return f"{HEADER}\n\n{index}\n\n" + text[len(HEADER) :].lstrip("\n")
    return f"{HEADER}\n\n{index}\n\n{text}"
