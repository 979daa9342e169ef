"""Business hours: is someone there now, and when do they come back?"""

from __future__ import annotations

import datetime as dt
from typing import Optional, Tuple
from zoneinfo import ZoneInfo

from bot.settings import Settings

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _parse(settings: Settings) -> Tuple[dt.time, dt.time, set, ZoneInfo]:
    start_text, end_text = settings.business_hours.split("-")
    start = dt.time.fromisoformat(start_text.strip())
    end_text = end_text.strip()
    end = dt.time(23, 59, 59) if end_text in ("24:00", "23:59") else dt.time.fromisoformat(end_text)
    days = {d.strip()[:3].lower() for d in settings.business_days.split(",") if d.strip()}
    return start, end, days, ZoneInfo(settings.business_tz)


def is_open(now: Optional[dt.datetime], settings: Settings) -> bool:
    """Is the desk open at `now` (default: now)?"""
    start, end, days, zone = _parse(settings)
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone)
    return DAYS[local.weekday()] in days and start <= local.time() <= end


def next_opening(now: Optional[dt.datetime], settings: Settings) -> dt.datetime:
    """The next local datetime the desk opens (today or a following day)."""
    start, _end, days, zone = _parse(settings)
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone)
    for offset in range(0, 8):
        day = local.date() + dt.timedelta(days=offset)
        opening = dt.datetime.combine(day, start, tzinfo=zone)
        if DAYS[day.weekday()] in days and opening > local:
            return opening
    return local + dt.timedelta(days=1)


def describe_opening(opening: dt.datetime, now: Optional[dt.datetime] = None) -> str:
    """'9:00' today, 'tomorrow 9:00', or 'Mon 9:00'."""
    local_now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(opening.tzinfo)
    clock = f"{opening.hour}:{opening.minute:02d}"
    if opening.date() == local_now.date():
        return clock
    if opening.date() == local_now.date() + dt.timedelta(days=1):
        return f"tomorrow {clock}"
    return f"{opening:%a} {clock}"
