"""Customer-typed text filled into replies: names folded to GSM-7, echoes cut in UTF-16 units.

One non-GSM-7 character ("Zoë", an emoji, a curly quote) sends the whole SMS as UCS-2, 70/67
characters a segment instead of 160/153. A first name is folded to plain GSM-7 when it is
filled ("Zoë" -> "Zoe"), as SMS products do, so a greeting keeps its GSM-7 price. Echoed
words (a stay note, booking notes) keep their characters and are cut by length in UTF-16
code units, the unit UCS-2 counts, so `make check` can price their worst case.

`FOLDED_PLACEHOLDERS` is read by the code that fills the replies (`fold_values`) and by
`make check` (bot/designer/checks.py), which prices these placeholders as GSM-7.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Dict, Mapping, Optional

from bot.sms.segments import GSM7_BASIC

__all__ = [
    "FOLDED_PLACEHOLDERS",
    "fold_gsm7",
    "fold_name",
    "fold_values",
    "utf16_length",
    "shorten",
]

# Placeholders whose values are folded to the GSM-7 default alphabet when a reply is filled.
FOLDED_PLACEHOLDERS: frozenset[str] = frozenset({"first_name"})

# Look-alikes with no decomposition to a GSM-7 letter, and the extension-table characters
# (two septets each) replaced by basic ones.
_REPLACE = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u02bc": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00a0": " ",
    "\u0142": "l",
    "\u0141": "L",
    "\u0111": "d",
    "\u0110": "D",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u00fe": "th",
    "\u00de": "Th",
    "\u00f0": "d",
    "\u0131": "i",
    "[": "(",
    "{": "(",
    "]": ")",
    "}": ")",
    "~": "-",
    "\\": "/",
    "|": "/",
}


def _fold_char(char: str) -> str:
    """One character as GSM-7 basic characters: kept, replaced, stripped of accents, or ""."""
    if char in GSM7_BASIC:
        return char
    if char in _REPLACE:
        return _REPLACE[char]
    if char.isspace():
        return " "
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if c in GSM7_BASIC)
    return base if base.strip() else ""


def fold_gsm7(text: str) -> str:
    """The text in the GSM-7 default alphabet: "Zoë" -> "Zoe", curly quotes straight, emoji
    and other unmappable characters dropped, whitespace runs collapsed."""
    return " ".join("".join(_fold_char(c) for c in text).split())


def fold_name(name: str) -> Optional[str]:
    """The name folded to GSM-7, or None if a letter has no GSM-7 form ("Σοφία", "ゆき"):
    no name beats a mangled one."""
    if any(c.isalpha() and not _fold_char(c).strip() for c in name):
        return None
    return fold_gsm7(name) or None


def fold_values(values: Mapping[str, Any]) -> Dict[str, Any]:
    """The values of a reply with those of `FOLDED_PLACEHOLDERS` folded to GSM-7."""
    return {
        key: fold_gsm7(value) if key in FOLDED_PLACEHOLDERS and isinstance(value, str) else value
        for key, value in values.items()
    }


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: what the text takes in a UCS-2 SMS (an emoji takes 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut(text: str, limit: int) -> str:
    """The longest prefix of at most `limit` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def shorten(text: str, limit: int) -> str:
    """At most `limit` UTF-16 code units, cut at a word, "..." when cut."""
    text = " ".join(text.split())
    if utf16_length(text) <= limit:
        return text
    head = _cut(text, limit - 3)
    cut = head.rsplit(" ", 1)[0] or head
    return cut.rstrip(" ,;.") + "..."
