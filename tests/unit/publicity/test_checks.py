"""The input checks of coverage and publicity: links, quantities, code lists, choices."""

from __future__ import annotations

import pytest

from gis_app.core import codes
from gis_app.core.errors import ValidationError
from gis_app.features.publicity import checks


@pytest.mark.parametrize(
    "link",
    ["https://www.example.cn/a?b=1#c", "http://news.example.cn:8080/x", "HTTPS://EXAMPLE.CN"],
)
def test_web_links_taken(link: str) -> None:
    assert checks.web_link(link) == link


@pytest.mark.parametrize(
    "link",
    ["", "www.example.cn", "javascript:alert(1)", "data:text/html,x", "ftp://example.cn",
     "https://", "https://exa mple.cn", "https://a.cn/\nx", "https://u:p@a.cn", "https://a.cn:99999/",
     "https://a.cn/" + "x" * 2000, 42],
)  # fmt: skip
def test_web_links_refused_naming_the_field(link: object) -> None:
    with pytest.raises(ValidationError) as err:
        checks.web_link(link)
    assert err.value.field == "url" and "链接" in err.value.message


@pytest.mark.parametrize(("value", "expected"), [(1, 1), ("12", 12), (" 7 ", 7), (3.0, 3)])
def test_quantities(value: object, expected: int) -> None:
    assert checks.quantity(value) == expected


@pytest.mark.parametrize("value", [0, -1, "1.5", "一", True, None, "", 2.5, 1_000_001, [1]])
def test_bad_quantities(value: object) -> None:
    with pytest.raises(ValidationError) as err:
        checks.quantity(value)
    assert err.value.field == "quantity"


def test_code_lists_and_choices() -> None:
    assert checks.code_list("A-1, A-2、A-1  A-3", "sites", "点位") == ["A-1", "A-2", "A-3"]
    assert checks.code_list(["x", " y "], "sites", "点位") == ["x", "y"]
    with pytest.raises(ValidationError):
        checks.code_list([1], "sites", "点位")
    assert checks.choice("跟踪报道", "kind", "类别", codes.COVERAGE_KINDS) == "follow_up"
    assert checks.choice("banner", "kind", "形式", codes.PUBLICITY_KINDS) == "banner"
    with pytest.raises(ValidationError) as err:
        checks.choice("poster", "kind", "宣传形式", codes.PUBLICITY_KINDS)
    assert "横幅" in err.value.message


def test_free_text_is_trimmed_bounded_and_without_nul() -> None:
    assert checks.text("  标题 ", "title", "标题", 10) == "标题"
    for value, words in (("", "缺少标题"), ("长" * 11, "现为 11 个"), ("标\x00题", "不允许的字符")):
        with pytest.raises(ValidationError) as err:
            checks.text(value, "title", "标题", 10)
        assert err.value.field == "title" and words in err.value.message, value
