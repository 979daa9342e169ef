"""Is a room-request text a new booking, or a request about a stay already on file?"""

from __future__ import annotations

import re
from typing import Optional

from bot.text.booking_parse import has_special_request, parse_dates, special_request_phrases

NOTE_LENGTH = 300
_NEW_BOOKING = re.compile(
    r"\b(?:new|another|second|2nd|one more|additional|separate|different)\s+"
    r"(?:room|rm|booking|reservation|request|stay)s?\b(?!\s*(?:keys?|cards?|service))"
    r"|\b(?:book|reserve)\b",
    re.IGNORECASE,
)
# Words that only say "a room, please": without anything else there is nothing to note.
_GENERIC = set(
    """a an the i im i'm id i'd me my we us our you u your to for of in at on and or with
    can could would will pls please plz like want wanna need get have got is are there any
    some room rooms rm rms hotel stay request requests reservation booking make do hi hey
    hello thanks thx ok okay just also available availability vacancy vacancies""".split()
)


def is_new_booking(text: str) -> bool:
    """A new booking: dates of a stay, "book", "new booking", "another room", or a date only."""
    check_in, check_out = parse_dates(text)
    if check_in and check_out:
        return True
    if _NEW_BOOKING.search(text or ""):
        return True
    return bool(check_in and not has_special_request(text))


def stay_note(text: str) -> Optional[str]:
    """What to note on a stay ("extra towels, a late checkout"); None for just "a room"."""
    phrases = special_request_phrases(text)
    if phrases:
        return phrases
    words = re.findall(r"[a-z']+", (text or "").lower())
    if any(word not in _GENERIC for word in words):
        return (text or "").strip()[:NOTE_LENGTH]
    return None
