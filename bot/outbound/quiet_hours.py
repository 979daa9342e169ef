"""Quiet hours: a local-time window in which the business starts no texts.

Pure functions on aware datetimes; the next allowed moment is built from the local wall
clock of that day (then converted to UTC), so it stays right across DST changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class QuietHours:
    start: dt.time
    end: dt.time

    def is_quiet(self, local: dt.time) -> bool:
        if self.start <= self.end:  # e.g. 00:00-07:00, same day
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # over midnight, e.g. 21:00-08:00


def _clock(text: str) -> dt.time:
    hours, minutes = text.strip().split(":")
    if hours == "24" and minutes == "00":
        return dt.time(0, 0)
    return dt.time(int(hours), int(minutes))


def parse_quiet_hours(spec: str) -> Optional[QuietHours]:
    """'21:00-08:00' -> QuietHours; '' or 'off' -> None (no quiet hours).

    Raises ValueError with the offending text for anything else."""
    text = (spec or "").strip().lower()
    if text in ("", "off", "none"):
        return None
    try:
        start, end = text.split("-")
        window = QuietHours(_clock(start), _clock(end))
    except ValueError:
        raise ValueError(f"QUIET_HOURS must look like 21:00-08:00, not {spec!r}") from None
    return None if window.start == window.end else window


def zone(name: Optional[str], fallback: str) -> ZoneInfo:
    """The IANA zone `name`, else `fallback` (an unknown or empty name falls back)."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def is_valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def next_allowed(now: dt.datetime, window: Optional[QuietHours], tz: ZoneInfo) -> dt.datetime:
    """`now` (aware) if it is outside quiet hours in `tz`, else the end of the quiet
    hours (aware, UTC). A wall-clock end that DST skips moves on by the skipped hour
    (02:30 -> 03:30); a repeated one is its first occurrence."""
    now = now.astimezone(dt.timezone.utc)
    if window is None:
        return now
    local = now.astimezone(tz)
    if not window.is_quiet(local.time().replace(tzinfo=None)):
        return now
    day = local.date()
    if window.start > window.end and local.time().replace(tzinfo=None) >= window.start:
        day += dt.timedelta(days=1)  # in the evening part: ends tomorrow morning
    end = dt.datetime.combine(day, window.end, tzinfo=tz)
    end = end.astimezone(dt.timezone.utc).astimezone(tz)  # normalise a time DST skipped
    return end.astimezone(dt.timezone.utc)
