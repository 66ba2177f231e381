"""Text that looks like other text: normal forms and the characters no identifier may hold.

A site code, a username or a person's name is read by people, who cannot tell `DZG-001` from
`ＤＺＧ－００１` (full-width), `dzg-001` (case), `DZG\u200b-001` (a zero-width space) or `offіce`
(a Cyrillic і) from `office`. So:
- identifiers (codes, usernames) are kept in NFKC (full-width letters and digits become the
  ordinary ones) and compared by `normal_code` (NFKC, then case-folded), in Python and in SQL
  (`lower(normalize(code, NFKC))`);
- invisible characters (format characters: zero-width spaces and joiners, bidi controls, the
  byte-order mark; control characters; blank letters such as U+3164) are refused in
  identifiers and names, and bidi controls in any text;
- an identifier may not mix Latin letters with Cyrillic, Greek or other look-alike scripts.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from gis_app.core.errors import ValidationError

#: letters that show as nothing
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
#: the characters that reorder text on screen (Trojan Source)
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: scripts whose letters look like Latin ones
LOOKALIKE_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


def is_invisible(ch: str, allow_breaks: bool = False) -> bool:
    """A format or control character, or a blank letter (tab and line breaks allowed in
    free text)."""
    if allow_breaks and ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cf", "Cc") or ch in BLANK_LETTERS


def first_invisible(text: str, allow_breaks: bool = False) -> str | None:
    return next((ch for ch in text if is_invisible(ch, allow_breaks)), None)


def first_bidi_control(text: str) -> str | None:
    return next((ch for ch in text if ch in BIDI_CONTROLS), None)


def only_invisible(text: str) -> bool:
    """Whether `text` shows nothing (spaces and invisible characters only)."""
    return all(ch.isspace() or is_invisible(ch) for ch in text)


def scripts(text: str) -> set[str]:
    """The scripts of the letters of `text` (LATIN, CYRILLIC, CJK, ...)."""
    out = set()
    for ch in text:
        if unicodedata.category(ch).startswith("L"):
            name = unicodedata.name(ch, "")
            out.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return out


def mixes_lookalikes(text: str) -> bool:
    """Latin letters beside letters of a script that looks like Latin (`offіce`)."""
    found = scripts(text)
    return "LATIN" in found and bool(found & LOOKALIKE_SCRIPTS)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normal_code(text: str) -> str:
    """The form codes and usernames are compared in: NFKC, case-folded."""
    return nfkc(text).casefold()


def describe(ch: str) -> str:
    """A character as a person can find it: U+200B ZERO WIDTH SPACE."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".strip()


def identifier_problem(text: str) -> str | None:
    """Why `text` (already NFKC) is no acceptable identifier, or None."""
    ch = first_invisible(text)
    if ch is not None:
        return f"含有不可见字符（{describe(ch)}）"
    if mixes_lookalikes(text):
        return "混用了拉丁字母和形近的西里尔、希腊等字母"
    return None


def name_problem(text: str) -> str | None:
    """Why `text` is no acceptable name (of a person, a display name), or None."""
    ch = first_invisible(text)
    if ch is not None:
        return f"含有不可见字符（{describe(ch)}）"
    if mixes_lookalikes(text):
        return "混用了拉丁字母和形近的西里尔、希腊等字母"
    return None


def clean_text(value: Any, field: str, label: str, required: bool, limit: int) -> str:
    """A form's or body's free text (a reason, a comment, a note): stripped, at most `limit`
    characters, no NUL (PostgreSQL stores none); refused naming the field and its label."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label}必须是文字", field)
    value = value.strip()
    if required and not value:
        raise ValidationError(f"缺少{label}", field)
    if len(value) > limit:
        raise ValidationError(f"{label}过长（最多 {limit} 个字）", field)
    if "\x00" in value:
        raise ValidationError(f"{label}含有不允许的字符", field)
    return value
