"""Survey answers in a text: a CSAT rating (1-5) or an NPS score (0-10) at its start.

The rule (chosen so that "2 beds in my room" stays a request): a number is a rating when
it is the whole text, or is followed by punctuation (`4, quick`, `5!`, `4 - great`), by
"/5", "out of 5" or "stars", or by a space and a word that starts a comment ("thanks",
"the", "it", "very", ...: COMMENT_STARTERS), or by words that do not count something:
neither of the next two words is a plural or a thing the business counts (QUANTITY_WORDS:
"more", "room", "night", "king", months...). So "2 beds", "1 more thing", "3 nights",
"2 king size" are requests and "1 nobody helped" is a rating. The cost: a comment whose
first words look counted ("4 lovely towels") is a normal turn, and the survey stays open
for another reply; "2, beds" (a separator) is a rating. Words ("great", "ok", "terrible")
are ratings only when alone, before punctuation or before a COMMENT_STARTERS word;
emoji (😀 👍 😡 👎) and stars (⭐⭐⭐⭐) count wherever the text starts with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple

from bot.text.orders_format import find_order_number

CSAT = (1, 5)
NPS = (0, 10)

WORDS = {
    "excellent": 5,
    "great": 5,
    "amazing": 5,
    "awesome": 5,
    "perfect": 5,
    "fantastic": 5,
    "superb": 5,
    "good": 4,
    "ok": 3,
    "okay": 3,
    "fine": 3,
    "average": 3,
    "meh": 3,
    "bad": 2,
    "poor": 2,
    "terrible": 1,
    "awful": 1,
    "horrible": 1,
    "worst": 1,
}
EMOJI = {
    "😍": 5,
    "🤩": 5,
    "🥰": 5,
    "😀": 5,
    "😁": 5,
    "😄": 5,
    "❤": 5,
    "😃": 4,
    "😊": 4,
    "🙂": 4,
    "👍": 4,
    "😐": 3,
    "😶": 3,
    "🙁": 2,
    "😕": 2,
    "😞": 2,
    "☹": 2,
    "😡": 1,
    "😠": 1,
    "🤬": 1,
    "👎": 1,
    "😢": 1,
    "😭": 1,
}
STARS = "⭐★"
# A space after the number or word, then one of these: the rest is a comment.
COMMENT_STARTERS = frozenset(
    """thanks thank thx ty cheers great good ok okay fine bad poor terrible awful excellent
    amazing awesome perfect love loved liked very really super quick fast slow helpful
    friendly rude nice not but the it its it's was is you your she he they agent service
    staff team because cause as overall all everything stars star out lol""".split()
)
# After a number these make a quantity ("2 beds", "1 more thing", "3 nights", "5 dec").
QUANTITY_WORDS = frozenset(
    """more extra additional other another of x am pm bed room bedroom suite night adult
    child kid kids children people ppl person guest item order package parcel box towel
    pillow blanket crib cot day week month year hour hr min minute sec king queen twin
    double single jan feb mar apr may jun jul aug sep sept oct nov dec""".split()
)
# Greetings that start with a rating word are not ratings.
GREETINGS = frozenset({"morning", "afternoon", "evening", "night", "day"})
_NUMBER = re.compile(r"(\d+)")
_SCALE_SUFFIX = re.compile(r"\s*(?:/\s*(?:5|10)|out of (?:5|10)|stars?)\b", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*[.,!:;)\-–—]+\s*")
_WORD = re.compile(r"([A-Za-z']+)")
_VARIATION = "\ufe0f"


@dataclass(frozen=True)
class Rating:
    score: int
    comment: str  # the rest of the text ("" when none)


def _rest(text: str, at: int, number: bool = True) -> Optional[str]:
    """The comment after a rating that ends at `at`, or None if what follows is not one.
    After a word ("ok where is my order") only COMMENT_STARTERS begin a comment."""
    suffix = _SCALE_SUFFIX.match(text, at)
    if suffix:
        at = suffix.end()
    rest = text[at:]
    if not rest.strip():
        return ""
    separator = _SEPARATOR.match(rest)
    if separator and separator.end() > 0 and not rest[0].isalnum():
        if rest[0] == "." and rest[1:2].isdigit():
            return None  # 4.5: a decimal, not "4."
        return rest[separator.end() :].strip()
    if suffix and rest[0].isspace():
        return rest.strip()
    if not rest[0].isspace():
        return None  # "4th", "45", "5am"
    words = [w.lower() for w in _WORD.findall(rest)[:2]]
    if words and words[0] in COMMENT_STARTERS:
        return rest.strip()
    if number and words and _WORD.match(rest.lstrip()) and not any(map(_counted, words)):
        return rest.strip()  # "1 nobody helped"
    first = rest.strip()[:1]
    if first in EMOJI or first in STARS:
        return rest.strip()
    return None


def _counted(word: str) -> bool:
    """A word that makes "2 <word>" a quantity: a plural, or a thing the business counts."""
    return word in QUANTITY_WORDS or (len(word) > 3 and word.endswith("s") and word[-2] != "s")


def _emoji(text: str) -> Optional[Tuple[int, int]]:
    """(score, end) of leading emoji or stars."""
    if text[:1] in STARS:
        count, at = 0, 0
        while at < len(text) and (text[at] in STARS or text[at] == _VARIATION):
            count += text[at] in STARS
            at += 1
        return (count, at) if 1 <= count <= 5 else None
    score = EMOJI.get(text[:1])
    if score is None:
        return None
    at = 1
    while at < len(text) and (text[at] == _VARIATION or text[at] == text[0]):
        at += 1
    return score, at


def parse_rating(text: str, scale: Tuple[int, int] = CSAT) -> Optional[Rating]:
    """The rating a text starts with (None: not a survey answer). Words and emoji only on
    the CSAT scale."""
    text = (text or "").strip()
    low, high = scale
    number = _NUMBER.match(text)
    if number:
        score = int(number.group(1))
        if not low <= score <= high:
            return None
        comment = _rest(text, number.end())
        return None if comment is None else Rating(score, comment)
    if scale != CSAT:
        return None
    found = _emoji(text)
    if found:
        score, at = found
        return Rating(score, text[at:].strip(" ,.!-:;"))
    word = _WORD.match(text)
    if not word or word.group(1).lower() not in WORDS:
        return None
    after = _WORD.match(text[word.end() :].lstrip())
    if after and after.group(1).lower() in GREETINGS:
        return None
    comment = _rest(text, word.end(), number=False)
    return None if comment is None else Rating(WORDS[word.group(1).lower()], comment)


_REQUEST_WORDS = re.compile(
    r"\b(where|when|what|how|can|could|would you|need|want|send|cancel|change|book|"
    r"booking|refund|help|menu|is there|do you|track)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[,.;!?]+|\b(?:also|btw|and|but|plus)\b", re.IGNORECASE)


def request_in(comment: str) -> Optional[str]:
    """The part of a survey comment that asks for something ("thanks, also where is my
    order A1001" -> "where is my order A1001"); None when it only comments."""
    comment = (comment or "").strip()
    if not comment:
        return None
    asks = "?" in comment or _REQUEST_WORDS.search(comment) or find_order_number(comment)
    if not asks:
        return None
    starts = [0] + [m.end() for m in _CLAUSE.finditer(comment)]
    for start in starts:
        clause = comment[start:]
        end = _CLAUSE.search(clause)
        head = clause[: end.start()] if end else clause
        question = end is not None and "?" in end.group(0)
        if _REQUEST_WORDS.search(head) or find_order_number(head) or question:
            return clause.strip(" ,.;!") or None
    return comment
