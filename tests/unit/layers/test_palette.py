"""The one palette (layers/palette.yaml): every map, legend and page takes its colours from it."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from gis_app.core import codes
from layers import palette

ROOT = Path(__file__).resolve().parents[3]


def test_legend_has_every_status_and_overdue_with_chinese_labels() -> None:
    legend = palette.legend()
    assert [item["key"] for item in legend] == palette.legend_keys()
    assert set(palette.legend_keys()) == {*codes.STATUSES, "overdue"}
    labels = {item["key"]: item["label"] for item in legend}
    assert labels == {**codes.STATUSES, "overdue": "逾期"}
    assert set(labels.values()) == {"已建档", "治理中", "待验收", "已销账", "逾期", "新发现"}


def test_overdue_and_new_stand_out() -> None:
    """Larger, drawn on top, and listed first in the legend."""
    styles = {item["key"]: item for item in palette.legend()}
    loud = ("overdue", "new")
    quiet = [k for k in styles if k not in loud]
    for key in loud:
        assert all(styles[key]["radius"] > styles[q]["radius"] for q in quiet), key
        assert all(styles[key]["z"] > styles[q]["z"] for q in quiet), key
    assert set(palette.legend_keys()[:2]) == set(loud)


def test_colours_are_distinct_hex() -> None:
    fills = [item["fill"] for item in palette.legend()]
    assert all(re.fullmatch(r"#[0-9a-fA-F]{6}", f) for f in fills)
    assert len({f.lower() for f in fills}) == len(fills)


def test_display_status_overdue_wins_unless_closed() -> None:
    assert palette.display_status("in_progress", True) == "overdue"
    assert palette.display_status("new", True) == "overdue"
    assert palette.display_status("closed", True) == "closed"
    assert palette.display_status("registered", False) == "registered"


def test_client_palette_follows_legend_and_disposition_orders() -> None:
    client = palette.client_palette()
    assert [s["key"] for s in client["statuses"]] == palette.legend_keys()
    assert [d["key"] for d in client["dispositions"]] == palette.disposition_keys()
    assert set(palette.disposition_keys()) == set(codes.DISPOSITIONS)
    dashes = {d["key"]: d["dash"] for d in client["dispositions"]}
    assert dashes["demolish"] == [] and dashes["rectify"] == [3.0, 2.0]
    labels = {d["key"]: d["label"] for d in client["dispositions"]}
    assert labels == dict(codes.DISPOSITIONS)


def test_no_status_colour_is_written_anywhere_else() -> None:
    """Scripts, styles, templates and builders take the colours from the palette."""
    colours = {item["fill"].lower() for item in palette.legend()}
    colours |= {item["stroke"].lower() for item in palette.legend()}
    files = [
        *ROOT.glob("static/js/*.js"),
        *ROOT.glob("static/css/*.css"),
        *ROOT.glob("gis_app/templates/**/*.html"),
        *ROOT.glob("layers/*.py"),
        *ROOT.glob("gis_app/web/*.py"),
    ]
    assert any(f.name == "site-layer.js" for f in files)
    for path in files:
        found = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", path.read_text())}
        assert not found & colours, (path, found & colours)


def test_a_broken_palette_is_refused() -> None:
    data = copy.deepcopy(palette.palette())
    data["legend_order"].append("demolished")
    with pytest.raises(ValueError, match="unknown statuses"):
        palette.check_palette(data)
    data = copy.deepcopy(palette.palette())
    data["statuses"]["new"]["fill"] = "magenta"
    with pytest.raises(ValueError, match=r"statuses\.new\.fill"):
        palette.check_palette(data)
