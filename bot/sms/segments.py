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

GSM7_SINGLE = 160  # septets in an unsplit message
GSM7_MULTI = 153  # septets per segment of a split message
UCS2_SINGLE = 70  # UTF-16 code units in an unsplit message
UCS2_MULTI = 67  # UTF-16 code units per segment of a split message

# Precompiled scanners (a regex over the text is several times faster than a Python loop).
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
# "Wide" atoms: two units that must stay in one segment.
_GSM7_WIDE = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")
# A character outside the BMP, or a high surrogate followed by a low one stored as two code
# points (e.g. after a "surrogatepass" decode) -- on the wire that is one surrogate pair too.
_UCS2_WIDE = re.compile("[\U00010000-\U0010ffff]|[\ud800-\udbff][\udc00-\udfff]")


@dataclass(frozen=True)
class SmsInfo:
    """Encoding, number of segments and length (septets or UTF-16 code units) of a text."""

    encoding: str
    segments: int
    length: int


def encoding_of(text: str) -> str:
    """``"GSM-7"`` if every character is in the GSM-7 alphabet or extension table, else
    ``"UCS-2"``. The empty text is GSM-7."""
    return UCS2 if _NOT_GSM7.search(text) else GSM7


# A wide atom: (index of its first code point, number of code points: 1, or 2 for a surrogate
# pair held as two code points). Every other code point is one unit.
_Wide = list[tuple[int, int]]


def _measure(text: str) -> tuple[str, int, _Wide]:
    """Encoding, length in units, and the wide atoms of ``text``."""
    if _NOT_GSM7.search(text) is None:
        wide = [(m.start(), 1) for m in _GSM7_WIDE.finditer(text)]
        return GSM7, len(text) + len(wide), wide
    wide = [(m.start(), m.end() - m.start()) for m in _UCS2_WIDE.finditer(text)]
    # An astral code point is 2 units; the two code points of a held pair are 1 unit each.
    return UCS2, len(text) + sum(1 for _, size in wide if size == 1), wide


def _part_ends(n: int, wide: _Wide, cap: int) -> list[int]:
    """Greedy split of a text of ``n`` code points into parts of at most ``cap`` units: the end
    index of each part. A wide atom that does not fit moves whole to the next part.

    Greedy packing gives the fewest parts and is what senders do. This walks the runs of
    one-unit characters between wide atoms arithmetically: O(wide atoms + parts)."""
    ends: list[int] = []
    used = 0  # units in the current part
    pos = 0  # index of the first code point not yet placed
    for start, size in [*wide, (n, 0)]:
        run = start - pos  # one-unit characters before the next wide atom
        while used + run > cap:
            take = cap - used
            pos += take
            run -= take
            ends.append(pos)
            used = 0
        used += run
        pos = start
        if size == 0:  # the sentinel at the end of the text
            break
        if used + 2 > cap:
            ends.append(pos)
            used = 0
        used += 2
        pos += size
    ends.append(n)
    return ends


def _info(text: str) -> tuple[SmsInfo, list[int] | None]:
    """The info, plus the part end indices when they had to be computed anyway."""
    if not text:
        return SmsInfo(GSM7, 0, 0), None
    encoding, length, wide = _measure(text)
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if encoding == GSM7 else (UCS2_SINGLE, UCS2_MULTI)
    if length <= single:
        return SmsInfo(encoding, 1, length), None
    if not wide:
        return SmsInfo(encoding, -(-length // multi), length), None
    ends = _part_ends(len(text), wide, multi)
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
    if ends is None:  # no wide atoms: fixed-size parts
        step = GSM7_MULTI if info.encoding == GSM7 else UCS2_MULTI
        ends = [*range(step, len(text), step), len(text)]
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
