"""A range of local dates chosen on the supervisor page: parsed from a query, checked, and
turned into naive-UTC bounds for the database."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Tuple
from zoneinfo import ZoneInfo

from bot.store.models import utcnow

MAX_RANGE_DAYS = 366


class RangeError(ValueError):
    """Dates that do not make a range (the message says why)."""


def local_today(tz: str, now: Optional[dt.datetime] = None) -> dt.date:
    """Today's date in zone `tz` (`now`: naive UTC; default the clock)."""
    now = now or utcnow()
    return now.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(tz)).date()


def parse_range(
    raw_from: Optional[str], raw_to: Optional[str], today: dt.date
) -> Tuple[dt.date, dt.date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD: a missing start is today, a missing end is the start."""
    start = _date("from", raw_from, today)
    end = _date("to", raw_to, start)
    if end < start:
        raise RangeError("the range ends before it starts")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise RangeError(f"choose at most {MAX_RANGE_DAYS} days")
    return start, end


def utc_bounds(start: dt.date, end: dt.date, tz: str) -> Tuple[dt.datetime, dt.datetime]:
    """[local midnight of start, local midnight after end) in zone `tz`, as naive UTC."""
    if end < start:
        raise RangeError("the range ends before it starts")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise RangeError(f"choose at most {MAX_RANGE_DAYS} days")
    zone = ZoneInfo(tz)

    def midnight(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        return local.astimezone(dt.timezone.utc).replace(tzinfo=None)

    return midnight(start), midnight(end + dt.timedelta(days=1))


def _date(name: str, raw: Optional[str], default: dt.date) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise RangeError(f"{name} must be a date like 2026-12-03") from None
