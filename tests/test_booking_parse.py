"""Reading dates, guests and room types out of texter language."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.text.booking_parse import (
    parse_dates,
    parse_guests,
    parse_room_type,
    special_request_phrases,
)

TODAY = dt.date(2026, 11, 29)  # a Sunday
D = dt.date


@pytest.mark.parametrize(
    "text, expected",
    [
        ("book a rm dec 5-8 for 2 ppl", (D(2026, 12, 5), D(2026, 12, 8))),
        ("from 12/5 to 12/8", (D(2026, 12, 5), D(2026, 12, 8))),
        ("next fri for 3 nights", (D(2026, 12, 4), D(2026, 12, 7))),
        ("tmrw till sunday", (D(2026, 11, 30), D(2026, 12, 6))),
        ("2026-12-05 to 2026-12-09", (D(2026, 12, 5), D(2026, 12, 9))),
        ("5th to 8th of jan", (D(2027, 1, 5), D(2027, 1, 8))),
        ("december 24th - jan 2", (D(2026, 12, 24), D(2027, 1, 2))),
        ("arriving Dec. 5th leaving dec 9", (D(2026, 12, 5), D(2026, 12, 9))),
        ("2nite", (D(2026, 11, 29), None)),
        ("march 3", (D(2027, 3, 3), None)),
        ("feb 30", (None, None)),
        ("I need 2 beds in my room", (None, None)),
    ],
)
def test_parse_dates(text: str, expected: tuple) -> None:
    assert parse_dates(text, TODAY) == expected


@pytest.mark.parametrize(
    "text, bare_ok, expected",
    [
        ("room for 2 ppl", False, 2),
        ("2 adults and 1 kid", False, 3),
        ("for four", False, 4),
        ("for 3 nights", False, None),
        ("3", True, 3),
        ("3", False, None),
        ("two", True, 2),
        ("just me", True, 1),
        ("me and my wife", True, 2),
    ],
)
def test_parse_guests(text: str, bare_ok: bool, expected: int | None) -> None:
    assert parse_guests(text, bare_number_ok=bare_ok) == expected


def test_room_types_and_requests() -> None:
    assert parse_room_type("KNG bed pls") == "king"
    assert parse_room_type("a suite!!") == "suite"
    assert parse_room_type("whatever") is None
    assert special_request_phrases("dec 5-8, queen, late check in pls") == "late check in pls"
    assert special_request_phrases("book a room") is None
