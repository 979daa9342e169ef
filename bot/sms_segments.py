"""How an SMS text is encoded and split into segments (GSM-7 or UCS-2).

The rules are those of 3GPP TS 23.038 / TS 23.040 as applied by carriers and Plivo:

* GSM-7: every character is in the default alphabet or its extension table. A basic character
  takes one septet; an extension character (``^ { } \\ [ ~ ] | €`` and form feed) takes two
  (escape + character). One segment holds 160 septets; when the message must be split, each
  segment holds 153 septets (the concatenation header takes the rest) and an escape + character
  pair is never split across two segments.
* UCS-2: used for the whole message as soon as any character is outside GSM-7. The length is
  counted in UTF-16 code units: one segment holds 70, a split message 67 per segment. A
  character outside the Basic Multilingual Plane (most emoji) is a surrogate pair, two code
  units that are never split across two segments.

ESC (U+001B) is not a character of the alphabet (it is the escape to the extension table), so a
text containing it is sent as UCS-2. Carriers may also transliterate ("smart encoding"); this
module does not, it describes the text exactly as given.

Everything is stdlib-only and precomputed at import time: ``sms_info`` runs on every outgoing SMS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "GSM7",
    "UCS2",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsInfo",
    "encoding_of",
    "sms_info",
    "segment_count",
    "split_segments",
    "trim_to_budget",
]

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# TS 23.038 default alphabet, in code order 0x00..0x7F, without 0x1B (escape to extension).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 0x10..0x1F: 0x1B (ESC) left out
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# TS 23.038 extension table (each sent as ESC + character, i.e. two septets).
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
_GSM7_ALL: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION
_GSM7_EXTENSION_CHARS: tuple[str, ...] = tuple(sorted(GSM7_EXTENSION))

GSM7_SINGLE = 160  # septets in an unsplit message
GSM7_MULTI = 153  # septets per segment of a split message
UCS2_SINGLE = 70  # UTF-16 code units in an unsplit message
UCS2_MULTI = 67  # UTF-16 code units per segment of a split message

# A high surrogate followed by a low one stored as two code points (e.g. after a
# "surrogatepass" decode): on the wire it is one surrogate pair, so it must stay together.
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


@dataclass(frozen=True)
class SmsInfo:
    """Encoding, number of segments and length (septets or UTF-16 code units) of a text."""

    encoding: str
    segments: int
    length: int


def encoding_of(text: str) -> str:
    """``"GSM-7"`` if every character is in the GSM-7 alphabet or extension table, else
    ``"UCS-2"``. The empty text is GSM-7."""
    return GSM7 if _GSM7_ALL.issuperset(text) else UCS2


def _gsm7_length(text: str) -> int:
    return len(text) + sum(text.count(c) for c in _GSM7_EXTENSION_CHARS)


def _ucs2_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _part_ends(text: str, encoding: str, cap: int) -> list[int]:
    """Greedy split into parts of at most ``cap`` units; the end index of each part.

    Greedy packing is optimal here (fewest parts) and is what senders do. Indivisible units
    (an escape pair, a surrogate pair) move whole to the next part.
    """
    ends: list[int] = []
    used = 0
    i = 0
    n = len(text)
    gsm = encoding == GSM7
    while i < n:
        c = text[i]
        step = 1
        if gsm:
            width = 2 if c in GSM7_EXTENSION else 1
        elif c > "\uffff":
            width = 2
        elif "\ud800" <= c <= "\udbff" and i + 1 < n and "\udc00" <= text[i + 1] <= "\udfff":
            width = step = 2
        else:
            width = 1
        if used + width > cap:
            ends.append(i)
            used = 0
        used += width
        i += step
    ends.append(n)
    return ends


def _info(text: str) -> tuple[SmsInfo, list[int] | None]:
    """The info, plus the part end indices when they had to be computed anyway."""
    if not text:
        return SmsInfo(GSM7, 0, 0), None
    encoding = encoding_of(text)
    if encoding == GSM7:
        length = _gsm7_length(text)
        single, multi = GSM7_SINGLE, GSM7_MULTI
        uniform = length == len(text)  # no escape pairs
    else:
        length = _ucs2_length(text)
        single, multi = UCS2_SINGLE, UCS2_MULTI
        uniform = length == len(text) and _SURROGATE_PAIR.search(text) is None
    if length <= single:
        return SmsInfo(encoding, 1, length), None
    if uniform:
        return SmsInfo(encoding, -(-length // multi), length), None
    ends = _part_ends(text, encoding, multi)
    return SmsInfo(encoding, len(ends), length), ends


def sms_info(text: str) -> SmsInfo:
    """Encoding, segment count and length of ``text`` (the empty text has 0 segments)."""
    return _info(text)[0]


def segment_count(text: str) -> int:
    """Number of SMS segments ``text`` is sent as (0 for the empty text)."""
    return _info(text)[0].segments


def split_segments(text: str) -> list[str]:
    """The parts ``text`` is sent as; concatenated they equal ``text``. ``[]`` if empty."""
    info, ends = _info(text)
    if info.segments <= 1:
        return [text] if text else []
    if ends is None:
        ends = _part_ends(text, info.encoding, GSM7_MULTI if info.encoding == GSM7 else UCS2_MULTI)
    parts: list[str] = []
    start = 0
    for end in ends:
        parts.append(text[start:end])
        start = end
    return parts


def _splits_pair(text: str, i: int) -> bool:
    """True if cutting before index ``i`` separates a surrogate pair stored as two code points.

    (An escape pair or an astral character is a single code point, so it is never split by a
    cut between code points.)"""
    return (
        0 < i < len(text)
        and "\ud800" <= text[i - 1] <= "\udbff"
        and ("\udc00" <= text[i] <= "\udfff")
    )


def trim_to_budget(
    text: str, max_segments: int = 2, more_hint: str = " (reply MORE)"
) -> tuple[str, str | None]:
    """Cut ``text`` so it fits in ``max_segments`` segments, continuing in a later message.

    If ``text`` fits, return ``(text, None)``. Otherwise return ``(head, rest)``: ``head`` is the
    longest prefix of ``text`` cut at whitespace (trailing whitespace removed) such that
    ``head + more_hint`` fits in ``max_segments`` segments -- the hint may switch the encoding to
    UCS-2, which is accounted for. Only if no whitespace follows a word within that range is the
    text cut hard, at the longest fitting prefix (never inside a surrogate pair). ``rest`` is the
    remaining text with leading whitespace removed. If nothing but whitespace remains, the
    result is ``(text.rstrip(), None)``.

    Raises ``ValueError`` if ``max_segments < 1`` or if ``more_hint`` leaves no room for text.
    """
    if max_segments < 1:
        raise ValueError(f"max_segments must be >= 1, got {max_segments}")
    if sms_info(text).segments <= max_segments:
        return text, None

    def fits(prefix_len: int) -> bool:
        return sms_info(text[:prefix_len] + more_hint).segments <= max_segments

    # Longest prefix that fits with the hint. Feasibility is monotone in the prefix length:
    # dropping characters never adds segments, and a GSM-7 text never needs more segments than
    # the same text in UCS-2, so a shorter prefix cannot flip the answer back.
    lo, hi = 0, len(text) - 1  # text itself does not fit even without the hint
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    limit = lo
    if _splits_pair(text, limit):
        limit -= 1

    # Prefer the last whitespace at or before the limit that follows some non-space text.
    # (Once a whitespace is found with only whitespace before it, there is nothing to keep.)
    cut = 0
    for i in range(limit, 0, -1):
        if text[i].isspace():
            if text[:i].strip():
                cut = i
            break
    if cut > 0:
        head = text[:cut].rstrip()
    else:
        if limit == 0:
            raise ValueError(f"more_hint {more_hint!r} leaves no room in {max_segments} segment(s)")
        head = text[:limit]
    rest = text[len(head) :].lstrip()
    if not rest:
        return text.rstrip(), None
    return head + more_hint, rest
