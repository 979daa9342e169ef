"""Phone number helpers: Plivo shows numbers as digits without '+'."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")
_PLAUSIBLE = re.compile(r"^\+?[1-9]\d{7,14}$")


def digits(number: str) -> str:
    """The number's digits only ('+1 500-555' -> '1500555'); '+' decoded as ' ' is harmless."""
    return _NON_DIGITS.sub("", number or "")


def is_plausible(number: str) -> bool:
    """True for an E.164-like number, with or without the leading '+' (8 to 15 digits)."""
    return bool(_PLAUSIBLE.match((number or "").strip()))


def e164(number: str) -> str:
    """The number as E.164 ('15005550001' -> '+15005550001')."""
    return "+" + digits(number)
