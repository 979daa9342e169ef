"""Read booking details (dates, guests, room type, special requests) out of texter language."""

from __future__ import annotations

import datetime as dt
import re
from typing import List, Optional, Tuple

MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
WEEKDAYS = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
NUMBER_WORDS = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
}
ROOM_TYPES = {
    "single": "single",
    "sgl": "single",
    "double": "double",
    "dbl": "double",
    "twin": "twin",
    "queen": "queen",
    "qn": "queen",
    "king": "king",
    "kng": "king",
    "kg": "king",
    "suite": "suite",
    "ste": "suite",
    "suit": "suite",
    "family": "family",
    "accessible": "accessible",
    "ada": "accessible",
    "wheelchair": "accessible",
    "deluxe": "deluxe",
    "dlx": "deluxe",
    "standard": "standard",
    "std": "standard",
}
NO_REQUESTS = {
    "no",
    "nope",
    "none",
    "nah",
    "n",
    "nothing",
    "no thanks",
    "no thx",
    "na",
    "n/a",
    "thats it",
    "that's it",
    "nothing else",
    "no special requests",
    "all good",
}
_REQUEST_HINTS = re.compile(
    r"\b(beds?|crib|cot|late|early|check.?in|check.?out|quiet|floor|view|pillows?|"
    r"connecting|adjoining|accessible|wheelchair|allerg\w*|balcony|bathtub|tub|fridge|"
    r"microwave|parking|pet|dog|cat|extra|roll.?away|sofa|away from|near)\b",
    re.IGNORECASE,
)

_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sept|sep|oct|nov|dec)[a-z]*\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_DATE_TOKENS = [
    ("iso", r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    (
        "month_day_range",
        rf"{_MONTH}\s*{_DAY}\s*(?:-|–|to|thru|through|till|until)\s*{_DAY}\b(?!\s*/)",
    ),
    ("day_month_range", rf"{_DAY}\s*(?:-|–|to)\s*{_DAY}\s+(?:of\s+)?{_MONTH}"),
    ("month_day", rf"{_MONTH}\s*{_DAY}(?:,?\s*(\d{{4}}))?"),
    ("day_month", rf"{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s*(\d{{4}}))?"),
    ("numeric", r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?"),
    ("relative", r"(today|tonight|tonite|2nite|2night|tomorrow|tmrw|tmr|tomoro|2moro|2morrow)"),
    ("weekday", r"(?:(next|this)\s+)?(mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)[a-z]*"),
]
_DATE_RE = re.compile(
    "|".join(f"(?P<{name}>(?<![\\w/]){pattern}(?![\\w/]))" for name, pattern in _DATE_TOKENS),
    re.IGNORECASE,
)
_NIGHTS = re.compile(
    r"\b(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")(?:\s*nights?|\s+nites?|\s+nts?)\b", re.IGNORECASE
)


def _safe_date(year: int, month: int, day: int) -> Optional[dt.date]:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _future(month: int, day: int, today: dt.date, year: Optional[int] = None) -> Optional[dt.date]:
    """The date with that month/day; next year if it already passed and no year was given."""
    if year is not None:
        if year < 100:
            year += 2000
        return _safe_date(year, month, day)
    candidate = _safe_date(today.year, month, day)
    if candidate and candidate < today - dt.timedelta(days=31):
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def _month(token: str) -> int:
    return MONTHS[
        token.lower().rstrip(".")[:4] if token.lower().startswith("sept") else token.lower()[:3]
    ]


def _dates_in(
    match: re.Match, today: dt.date, after: Optional[dt.date] = None
) -> List[Optional[dt.date]]:
    """Dates in one match; a weekday after an earlier date counts from that date."""
    kind = match.lastgroup
    groups = [g for g in match.groups() if g is not None][1:]
    if kind == "iso":
        return [_safe_date(int(groups[0]), int(groups[1]), int(groups[2]))]
    if kind == "month_day_range":
        month = _month(groups[0])
        return [_future(month, int(groups[1]), today), _future(month, int(groups[2]), today)]
    if kind == "day_month_range":
        month = _month(groups[2])
        return [_future(month, int(groups[0]), today), _future(month, int(groups[1]), today)]
    if kind == "month_day":
        year = int(groups[2]) if len(groups) > 2 else None
        return [_future(_month(groups[0]), int(groups[1]), today, year)]
    if kind == "day_month":
        year = int(groups[2]) if len(groups) > 2 else None
        return [_future(_month(groups[1]), int(groups[0]), today, year)]
    if kind == "numeric":
        year = int(groups[2]) if len(groups) > 2 else None
        return [_future(int(groups[0]), int(groups[1]), today, year)]
    if kind == "relative":
        word = groups[0].lower()
        offset = 0 if word in ("today", "tonight", "tonite", "2nite", "2night") else 1
        return [today + dt.timedelta(days=offset)]
    if kind == "weekday":
        modifier = groups[0].lower() if len(groups) > 1 else None
        name = (groups[-1]).lower()
        key = next(k for k in sorted(WEEKDAYS, key=len, reverse=True) if name.startswith(k))
        base = after or today
        ahead = (WEEKDAYS[key] - base.weekday()) % 7
        if ahead == 0 and (modifier == "next" or after is not None):
            ahead = 7
        return [base + dt.timedelta(days=ahead)]
    return []


def parse_dates(
    text: str, today: Optional[dt.date] = None
) -> Tuple[Optional[dt.date], Optional[dt.date]]:
    """(check-in, check-out) found in a text; either may be None. Invalid dates are None."""
    today = today or dt.date.today()
    found: List[Optional[dt.date]] = []
    for match in _DATE_RE.finditer(text or ""):
        previous = next((d for d in reversed(found) if d), None)
        found.extend(_dates_in(match, today, previous))
    check_in = found[0] if found else None
    check_out = found[1] if len(found) > 1 else None
    nights = _NIGHTS.search(text or "")
    if check_in and not check_out and nights:
        count = nights.group(1).lower()
        check_out = check_in + dt.timedelta(days=int(NUMBER_WORDS.get(count, count) or 0))
    if (
        check_in
        and check_out
        and check_out < check_in
        and check_out.year == check_in.year
        and found
        and len(found) > 1
        and check_out.month < check_in.month
    ):
        check_out = _safe_date(check_out.year + 1, check_out.month, check_out.day)
    return check_in, check_out


def parse_nights(text: str) -> Optional[int]:
    match = _NIGHTS.search(text or "")
    if not match:
        return None
    count = match.group(1).lower()
    return int(NUMBER_WORDS.get(count, count))


_PEOPLE = (
    r"(?:people|ppl|persons?|guests?|adults?|pax|of us|kids?|children|child|babies|baby|infants?)"
)
_GUEST_COUNT = re.compile(rf"\b(\d{{1,3}}|{'|'.join(NUMBER_WORDS)})\s*{_PEOPLE}\b", re.IGNORECASE)
_COUNT_WORDS = "|".join(w for w in NUMBER_WORDS if w != "a")
_FOR_N = re.compile(
    rf"\bfor\s+(\d{{1,3}}|{_COUNT_WORDS})\b(?!\s*(?:nights?|nites?|beds?|/|am|pm))",
    re.IGNORECASE,
)


def _number(token: str) -> int:
    return int(NUMBER_WORDS.get(token.lower(), token))


def parse_guests(text: str, bare_number_ok: bool = False) -> Optional[int]:
    """Number of guests: "2 adults 1 kid" -> 3, "for 4" -> 4; a bare "3" only when asked."""
    counts = [_number(m.group(1)) for m in _GUEST_COUNT.finditer(text or "")]
    if counts:
        return sum(counts)
    match = _FOR_N.search(text or "")
    if match:
        return _number(match.group(1))
    if bare_number_ok:
        bare = re.fullmatch(
            r"\s*(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\s*[.!]?\s*(?:pls|please)?\s*",
            text or "",
            re.IGNORECASE,
        )
        if bare:
            return _number(bare.group(1))
        just_us = re.search(r"\b(just me|only me|myself|solo|alone)\b", text or "", re.IGNORECASE)
        if just_us:
            return 1
        if re.search(
            r"\b(me and my|my (wife|husband|partner|gf|bf)|the two of us|us two)\b",
            text or "",
            re.IGNORECASE,
        ):
            return 2
    return None


def parse_room_type(text: str) -> Optional[str]:
    for word in re.findall(r"[a-z]+", (text or "").lower()):
        if word in ROOM_TYPES:
            return ROOM_TYPES[word]
    return None


def has_special_request(text: str) -> bool:
    return bool(_REQUEST_HINTS.search(text or ""))


def is_no_request(text: str) -> bool:
    cleaned = re.sub(r"[^\w\s'/]", "", (text or "").lower()).strip()
    return cleaned in NO_REQUESTS


def special_request_phrases(text: str) -> Optional[str]:
    """The clauses of a text that carry a special request ("2 beds", "late check in")."""
    clauses = re.split(r"[,.;!?\n]+|\s+(?:and|also|plus|\+|&)\s+", text or "")
    wanted = [c.strip() for c in clauses if c.strip() and has_special_request(c)]
    return ", ".join(wanted)[:300] or None
