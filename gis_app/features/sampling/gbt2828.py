"""Sample size by GB/T 2828.1-2012 (ISO 2859-1:1999): code letters (Table 1) and sizes.

The lot is the sampling frame: the code letter is read from the frame size (lot size) at the
chosen inspection level (general levels I, II, III; special levels S-1 to S-4), and the
letter gives the sample size. When the sample size reaches the lot size, every unit is
inspected (100 % inspection), as the standard directs.
"""

from __future__ import annotations

import re
from typing import Final

from gis_app.core.errors import ValidationError

LEVELS: Final = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
DEFAULT_LEVEL: Final = "II"

# upper bound of each lot-size range (None: and over), letters for S-1 S-2 S-3 S-4 I II III
_TABLE: Final[tuple[tuple[int | None, str], ...]] = (
    (8, "AAAAAAB"),
    (15, "AAAAABC"),
    (25, "AABBBCD"),
    (50, "ABBCCDE"),
    (90, "BBCCCEF"),
    (150, "BBCDDFG"),
    (280, "BCDEEGH"),
    (500, "BCDEFHJ"),
    (1200, "CCEFGJK"),
    (3200, "CDEGHKL"),
    (10000, "CDFGJLM"),
    (35000, "CDFHKMN"),
    (150000, "DEGJLNP"),
    (500000, "DEGJMPQ"),
    (None, "DEHKNQR"),
)

SAMPLE_SIZES: Final[dict[str, int]] = {
    "A": 2,
    "B": 3,
    "C": 5,
    "D": 8,
    "E": 13,
    "F": 20,
    "G": 32,
    "H": 50,
    "J": 80,
    "K": 125,
    "L": 200,
    "M": 315,
    "N": 500,
    "P": 800,
    "Q": 1250,
    "R": 2000,
}


def normalise_level(level: object) -> str:
    """'II', 'ii', 'Ⅱ', 'S-3', 's3' ... as one of LEVELS (general level II when empty)."""
    given = level or DEFAULT_LEVEL
    if not isinstance(given, str):
        raise ValidationError(f"检验水平 {level!r} 无效（可选：{'、'.join(LEVELS)}）", "level")
    raw = given.strip().upper().replace(" ", "")
    raw = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III"}.get(raw, raw)
    if re.fullmatch(r"S-?[1-4]", raw):
        raw = "S-" + raw[-1]
    if raw not in LEVELS:
        raise ValidationError(f"检验水平 {level!r} 无效（可选：{'、'.join(LEVELS)}）", "level")
    return raw


def code_letter(lot_size: int, level: str = DEFAULT_LEVEL) -> str:
    """The sample size code letter for a lot (frame) of ``lot_size`` units."""
    lvl = normalise_level(level)
    if isinstance(lot_size, bool) or not isinstance(lot_size, int):
        raise ValidationError("批量（抽样框大小）必须是整数", "frame_size")
    if lot_size < 2:
        raise ValidationError(
            f"批量（抽样框大小）至少为 2 才能按 GB/T 2828.1 确定样本量（现为 {lot_size}）",
            "frame_size",
        )
    column = LEVELS.index(lvl)
    for upper, letters in _TABLE:
        if upper is None or lot_size <= upper:
            return letters[column]
    raise AssertionError("unreachable: the last range is open")


def sample_size(lot_size: int, level: str = DEFAULT_LEVEL) -> tuple[str, int]:
    """(code letter, sample size), the size capped at the lot size (100 % inspection)."""
    letter = code_letter(lot_size, level)
    return letter, min(SAMPLE_SIZES[letter], lot_size)
