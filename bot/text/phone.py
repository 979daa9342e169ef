"""Phone numbers as E.164 strings ("+15005550001"), the customer's identity."""

from __future__ import annotations

import re
from typing import Optional

# North America; the product passes Settings.default_country_code (DEFAULT_COUNTRY_CODE).
DEFAULT_COUNTRY_CODE = "1"
_NON_DIGITS = re.compile(r"[^\d]")


def to_e164(raw: Optional[str], country_code: str = DEFAULT_COUNTRY_CODE) -> Optional[str]:
    """Normalise a phone number (Plivo sends "15005550001") to E.164, or None if invalid;
    a 10-digit national number gets the `country_code` "1" (others are left invalid)."""
    if not raw:
        return None
    text = raw.strip()
    if re.search(r"[A-Za-z]", text):
        return None
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("00"):
        digits = digits[2:]
    elif not text.startswith("+") and len(digits) == 10:  # a national number?
        if country_code == "1":
            digits = "1" + digits
    if not 8 <= len(digits) <= 15 or digits.startswith("0"):
        return None
    return "+" + digits
