"""A stay's dates as texts show them: "Dec 5-8", "Dec 30-Jan 2"."""

from __future__ import annotations

import datetime as dt

SPAN_MAX_LENGTH = len("Sep 30-Oct 31")  # the longest a span can be


def booking_span(check_in: dt.date, check_out: dt.date) -> str:
    """ "Dec 5-8" in one month, "Dec 30-Jan 2" across two."""
    start = f"{check_in:%b} {check_in.day}"
    end = (
        f"{check_out.day}"
        if check_out.month == check_in.month
        else f"{check_out:%b} {check_out.day}"
    )
    return f"{start}-{end}"
