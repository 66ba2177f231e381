"""GB/T 2828.1 (ISO 2859-1) Table 1: code letters at both edges of every lot-size range."""

from __future__ import annotations

import pytest

from gis_app.core.errors import ValidationError
from gis_app.features.sampling import gbt2828

# the published table, row by row: (first lot size, last lot size), S-1 S-2 S-3 S-4 I II III
PUBLISHED = [
    ((2, 8), "A A A A A A B"),
    ((9, 15), "A A A A A B C"),
    ((16, 25), "A A B B B C D"),
    ((26, 50), "A B B C C D E"),
    ((51, 90), "B B C C C E F"),
    ((91, 150), "B B C D D F G"),
    ((151, 280), "B C D E E G H"),
    ((281, 500), "B C D E F H J"),
    ((501, 1200), "C C E F G J K"),
    ((1201, 3200), "C D E G H K L"),
    ((3201, 10000), "C D F G J L M"),
    ((10001, 35000), "C D F H K M N"),
    ((35001, 150000), "D E G J L N P"),
    ((150001, 500000), "D E G J M P Q"),
    ((500001, 10**9), "D E H K N Q R"),
]
SIZES = dict(
    zip(
        "ABCDEFGHJKLMNPQR",
        [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000],
        strict=True,
    )
)
LEVELS = ["S-1", "S-2", "S-3", "S-4", "I", "II", "III"]


@pytest.mark.parametrize(("bounds", "letters"), PUBLISHED)
def test_code_letters_at_the_edges_of_each_range(bounds, letters) -> None:
    for level, letter in zip(LEVELS, letters.split(), strict=True):
        for lot in bounds:
            assert gbt2828.code_letter(lot, level) == letter, (lot, level)


def test_sample_sizes_per_letter_and_full_inspection() -> None:
    assert gbt2828.SAMPLE_SIZES == SIZES
    assert gbt2828.sample_size(1000) == ("J", 80)
    assert gbt2828.sample_size(500001) == ("Q", 1250)
    assert gbt2828.sample_size(500001, "III") == ("R", 2000)
    assert gbt2828.sample_size(2, "III") == ("B", 2)  # 3 > lot: inspect all 2


def test_levels_spelled_several_ways_and_refusals() -> None:
    assert gbt2828.normalise_level("ii") == "II"
    assert gbt2828.normalise_level("Ⅲ") == "III"
    assert gbt2828.normalise_level("s3") == "S-3"
    assert gbt2828.normalise_level(None) == "II"
    with pytest.raises(ValidationError) as exc:
        gbt2828.code_letter(100, "IV")
    assert exc.value.field == "level"
    with pytest.raises(ValidationError) as exc:
        gbt2828.code_letter(1)
    assert exc.value.field == "frame_size"
