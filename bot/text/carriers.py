"""Which carrier a text names ("fed ex", "ups guy", "amazon"): a pure reading of the words."""

from __future__ import annotations

import re
from typing import Dict, Iterable, Optional, Tuple

# Canonical name -> how texters write it (lower case, words split on anything but a-z0-9).
CARRIER_ALIASES: Dict[str, Tuple[str, ...]] = {
    "UPS": ("ups", "u p s", "united parcel", "upps"),
    "FedEx": (
        "fedex",
        "fed ex",
        "fedx",
        "fed x",
        "feddex",
        "fedexx",
        "fedexs",
        "fedec",
        "fdx",
        "federal express",
    ),
    "USPS": (
        "usps",
        "u s p s",
        "us postal",
        "u s postal",
        "postal service",
        "post office",
        "us mail",
        "mailman",
        "mail man",
        "mail carrier",
    ),
    "DHL": ("dhl", "d h l"),
    "Amazon Logistics": ("amazon logistics", "amazon", "amzl", "amzn"),
    "OnTrac": ("ontrac", "on trac"),
    "LaserShip": ("lasership", "laser ship"),
}


def _words(text: str) -> str:
    """Lower case, every run of other characters one space: "Fed-Ex!" -> "fed ex"."""
    return " ".join(re.findall(r"[a-z0-9]+", (text or "").lower()))


def _alias_table(known: Iterable[str]) -> Dict[str, str]:
    table = {alias: name for name, aliases in CARRIER_ALIASES.items() for alias in aliases}
    for name in known:
        spelled = _words(name)
        if spelled and spelled not in table:
            table[spelled] = canonical_carrier(name)
    return table


def find_carrier(text: str, known: Iterable[str] = ()) -> Optional[str]:
    """The carrier a text names first (canonical name), also any of the `known` carriers."""
    words = _words(text)
    if not words:
        return None
    best: Optional[Tuple[int, int, str]] = None
    for alias, name in _alias_table(known).items():
        match = re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", words)
        if match and (best is None or (match.start(), -len(alias)) < best[:2]):
            best = (match.start(), -len(alias), name)
    return best[2] if best else None


def canonical_carrier(name: str) -> str:
    """A carrier as the data model spells it, in canonical form ("FedEx Ground" -> "FedEx")."""
    return find_carrier(name) or (name or "").strip()


def same_carrier(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two spellings name the same carrier ("Fed Ex", "FedEx Ground", "FEDEX")."""
    if not a or not b:
        return False
    return _words(canonical_carrier(a)) == _words(canonical_carrier(b))
