"""Quiet hours in the customer's timezone: the next allowed moment, across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.outbound.quiet_hours import QuietHours, next_allowed, parse_quiet_hours, zone

NY = ZoneInfo("America/New_York")
NIGHT = parse_quiet_hours("21:00-08:00")


def at(local: str, tz: ZoneInfo = NY) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=tz)


def test_parse() -> None:
    assert NIGHT == QuietHours(dt.time(21), dt.time(8))
    assert parse_quiet_hours("") is None and parse_quiet_hours("off") is None
    assert parse_quiet_hours("08:00-08:00") is None
    for bad in ("21-08", "nine to five", "25:00-08:00"):
        with pytest.raises(ValueError, match="QUIET_HOURS"):
            parse_quiet_hours(bad)


@pytest.mark.parametrize(
    "now, expected",
    [
        ("2026-06-10 12:00", "2026-06-10 12:00"),  # daytime: now
        ("2026-06-10 20:59", "2026-06-10 20:59"),
        ("2026-06-10 21:00", "2026-06-11 08:00"),  # evening: tomorrow 08:00
        ("2026-06-10 23:30", "2026-06-11 08:00"),
        ("2026-06-11 03:00", "2026-06-11 08:00"),  # small hours: this morning
        ("2026-06-11 08:00", "2026-06-11 08:00"),
    ],
)
def test_overnight_window(now: str, expected: str) -> None:
    assert next_allowed(at(now), NIGHT, NY) == at(expected).astimezone(dt.timezone.utc)


def test_result_is_utc_and_none_means_no_quiet_hours() -> None:
    late = at("2026-06-10 23:30")
    assert next_allowed(late, None, NY) == late
    assert next_allowed(late, NIGHT, NY).tzinfo == dt.timezone.utc


def test_dst_changes_keep_the_local_end() -> None:
    """Spring forward (8 Mar 2026) and fall back (1 Nov 2026) nights in New York: the
    night is 10 h and 12 h long in UTC, and the text still goes at 08:00 local."""
    spring = next_allowed(at("2026-03-07 22:00"), NIGHT, NY)
    assert spring.astimezone(NY).replace(tzinfo=None) == dt.datetime(2026, 3, 8, 8, 0)
    assert spring == dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.timezone.utc)  # EDT, -4
    autumn = next_allowed(at("2026-10-31 22:00"), NIGHT, NY)
    assert autumn == dt.datetime(2026, 11, 1, 13, 0, tzinfo=dt.timezone.utc)  # EST, -5


def test_an_end_that_dst_skips_moves_on_by_the_skipped_hour() -> None:
    window = parse_quiet_hours("01:00-02:30")  # 02:30 does not exist on 8 Mar 2026
    allowed = next_allowed(at("2026-03-08 01:30"), window, NY)
    assert allowed.astimezone(NY).replace(tzinfo=None) == dt.datetime(2026, 3, 8, 3, 30)


def test_customer_timezone_decides() -> None:
    """20:00 in New York is 09:00 next day in Tokyo (allowed), 01:00 in London (quiet)."""
    now = at("2026-06-10 20:00")
    assert next_allowed(now, NIGHT, ZoneInfo("Asia/Tokyo")) == now
    london = next_allowed(now, NIGHT, ZoneInfo("Europe/London"))
    assert london.astimezone(ZoneInfo("Europe/London")).replace(tzinfo=None) == dt.datetime(
        2026, 6, 11, 8, 0
    )


def test_unknown_zone_falls_back() -> None:
    assert zone("Mars/Olympus", "America/New_York") == NY
    assert zone(None, "Europe/Paris") == ZoneInfo("Europe/Paris")
