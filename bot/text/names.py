"""A customer's first name, for replies ("Hi Alex!"): the first word of the full name."""

from __future__ import annotations

import re
from typing import Optional

FIRST_NAME_LENGTH = 60
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam"}


def first_name_of(name: Optional[str]) -> Optional[str]:
    """First word of a full name ("DR. SAM LEE" -> "Sam"); None if it has no usable word."""
    words = [w for w in re.split(r"\s+", (name or "").strip()) if w]
    while len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        words = words[1:]
    if not words or words[0].lower().rstrip(".") in _TITLES:
        return None
    if not any(c.isalpha() for c in words[0]):
        return None
    first = words[0].strip(",;")
    if first.isupper() or first.islower():
        first = first.capitalize()
    return first[:FIRST_NAME_LENGTH]
