"""Plivo's wire formats for times and money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

_FILTER_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def plivo_time(moment: dt.datetime) -> str:
    """A time as Plivo shows it in message objects: 'YYYY-MM-DD HH:MM:SS+00:00'."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00:00")


def parse_filter_time(value: str) -> dt.datetime:
    """Parse a list filter time ('YYYY-MM-DD HH:MM[:ss[.uuuuuu]]', UTC); ValueError if bad."""
    text = value.strip()
    for fmt in _FILTER_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    raise ValueError(f"invalid time {value!r}: expected 'YYYY-MM-DD HH:MM[:ss[.uuuuuu]]'")


def money(amount: Decimal) -> str:
    """An amount with Plivo's five decimals ('0.00500')."""
    return f"{amount:.5f}"
