"""Order number shape, shared by NLU keywords, actions and the data layer."""

import re
from typing import Optional

# One letter (R is kept for booking request refs) followed by 4-6 digits: A1001, B2001.
ORDER_NUMBER_PATTERN = r"[A-QS-Za-qs-z]-?\d{4,6}"
_ORDER_NUMBER = re.compile(rf"(?<![A-Za-z0-9])({ORDER_NUMBER_PATTERN})(?![A-Za-z0-9])")


def find_order_number(text: str) -> Optional[str]:
    """The first order number in a text, normalised (upper case, no dash)."""
    match = _ORDER_NUMBER.search(text or "")
    return normalise_order_number(match.group(1)) if match else None


def normalise_order_number(value: str) -> str:
    return value.replace("-", "").replace("#", "").strip().upper()
