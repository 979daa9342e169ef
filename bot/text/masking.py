"""Masking digits that could identify a person in texts shown or exported for review."""

from __future__ import annotations

import re

NUMBER_MASK = "[number]"
# 7+ digits, maybe split by spaces, dashes, dots or brackets (+1 555-010-1234, 4111 1111
# 1111 1111); order numbers like A1001 or R7 are shorter and stay.
_LONG_NUMBER = re.compile(r"\+?\(?\d(?:[\s\-.()]*\d){6,}")
_SPACES = re.compile(r"\s+")


def mask_numbers(text: str) -> str:
    """`text` with every phone- or card-like digit run replaced by [number]."""
    return _LONG_NUMBER.sub(NUMBER_MASK, text)


def normalise(text: str) -> str:
    """The review key of a text: numbers masked, lower case, single spaces."""
    return _SPACES.sub(" ", mask_numbers(text)).strip().lower()
