def test_clean_text_strips_and_refuses_naming_the_field() -> None:
    import pytest

    from gis_app.core.errors import ValidationError
    from gis_app.core.text import clean_text

    assert clean_text("  整改  ", "note", "说明", True, 10) == "整改"
    assert clean_text(None, "note", "说明", False, 10) == ""
    for value, message in (
        ("", "缺少说明"),
        (12, "说明必须是文字"),
        ("长" * 11, "说明过长（最多 10 个字）"),
        ("a\x00b", "说明含有不允许的字符"),
    ):
        with pytest.raises(ValidationError) as err:
            clean_text(value, "note", "说明", True, 10)
        assert (err.value.field, err.value.message) == ("note", message)
