"""The gateway -> dispatcher nudges: one line per recorded text."""

from __future__ import annotations

from bot.sms_dispatcher import parse_line


def test_dispatcher_nudge_lines() -> None:
    assert parse_line(b"42 +15005550001\n") == (42, "+15005550001")
    assert parse_line(b"") is None
    assert parse_line(b"x +1555\n") is None
    assert parse_line(b"42\n") is None
