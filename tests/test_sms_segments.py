"""SMS encoding and segmentation: boundaries, and agreement with the independent ``smsutil``."""

from __future__ import annotations

import random
import re
from itertools import pairwise

import pytest
import smsutil
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from smsutil.codecs import GSM_BASIC_CHARSET, GSM_EXT_CHARSET

from bot.sms.segments import (
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    UCS2,
    SmsInfo,
    encoding_of,
    segment_count,
    sms_info,
    split_segments,
    trim_to_budget,
)

ESC = "\x1b"
HELD_PAIR = "\ud83d\ude00"  # 😀 as two code points
HELD_HALF = re.compile("[\ud800-\udfff]")
HELD_PAIR_RE = re.compile("[\ud800-\udbff][\udc00-\udfff]")
HINT = " (reply MORE)"

# -- character classes for generated texts ------------------------------------------------------

GSM_BASIC_CHARS = sorted(GSM7_BASIC)
EXTENSION_CHARS = sorted(GSM7_EXTENSION)
LATIN1_NON_GSM = [chr(c) for c in range(0xA0, 0x100) if chr(c) not in GSM7_BASIC]
CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 300)] + list("。、「」\u3000")
EMOJI = (
    [chr(c) for c in range(0x1F600, 0x1F650)]  # astral: a surrogate pair in UTF-16
    + [chr(c) for c in range(0x1F300, 0x1F340)]
    + list("☀☺♥✔❤")  # BMP symbols: one code unit
)
WHITESPACE = list(" \n\r\t\u00a0")  # space, LF, CR are GSM-7; tab and NBSP are not
GSM_WHITESPACE = list(" \n\r")
CLASSES: dict[str, list[str]] = {
    "gsm": GSM_BASIC_CHARS,
    "ext": EXTENSION_CHARS,
    "latin1": LATIN1_NON_GSM,
    "cjk": CJK,
    "emoji": EMOJI,
    "space": WHITESPACE,
    "gsm_space": GSM_WHITESPACE,
}
GSM_CLASSES = ("gsm", "ext", "gsm_space")
assert ESC not in "".join("".join(v) for v in CLASSES.values())  # see the smsutil notes below


# -- the independent reference ------------------------------------------------------------------
#
# smsutil 1.1.3 returns a SplitResult: ``encoding`` is "gsm0338" or "utf_16_be", ``parts`` a list of
# Part(content, bytes, length), ``total_bytes`` the septets (GSM) or bytes (UTF-16) of the text.
#
# Known smsutil bugs, excluded precisely (and pinned by tests below, so a fixed smsutil shows):
# 1. The empty text: ``is_valid_gsm`` is a regex ``^[...]+$`` needing one character, so "" is
#    reported as "utf_16_be" with one empty part. The empty text sends nothing: 0 segments.
# 2. ESC (U+001B): smsutil lists it in the basic alphabet at 0x1B and counts it as one GSM septet,
#    but 0x1B is the escape to the extension table, not a character (TS 23.038), so a text with
#    a literal ESC cannot be sent as GSM-7; we send it as UCS-2. Generated texts never contain it.
# 3. A surrogate pair held as two code points ("\ud83d\ude00", e.g. from a "surrogatepass"
#    decode): smsutil walks code points and may cut between the halves, which breaks the emoji
#    on the wire. The texts compared with smsutil contain no surrogate code points; texts that do
#    are checked against ``reference_split`` instead.


def smsutil_view(text: str) -> tuple[str, int, int, list[str]]:
    """(encoding, segments, length in septets / code units, parts) according to smsutil."""
    r = smsutil.split(text)
    encoding = {"gsm0338": GSM7, "utf_16_be": UCS2}[r.encoding]
    length = r.total_bytes if encoding == GSM7 else r.total_bytes // 2
    return encoding, len(r.parts), length, [p.content for p in r.parts]


def assert_matches_smsutil(text: str) -> bool:
    """Compare with smsutil; False if the text is in an excluded class (not compared)."""
    if text == "" or ESC in text or HELD_HALF.search(text):
        return False
    info = sms_info(text)
    parts = split_segments(text)
    assert (info.encoding, info.segments, info.length, parts) == smsutil_view(text), text
    assert encoding_of(text) == info.encoding
    assert segment_count(text) == info.segments
    return True


# -- invariants ---------------------------------------------------------------------------------


def reference_split(text: str) -> list[str]:
    """A plain atom-by-atom greedy split, independent of the module's arithmetic."""
    if not text:
        return []
    enc = encoding_of(text)
    single, multi = (160, 153) if enc == GSM7 else (70, 67)
    if units(text, enc) <= single:
        return [text]
    atoms: list[str] = []
    i = 0
    while i < len(text):
        size = 2 if enc == UCS2 and HELD_PAIR_RE.match(text, i) else 1
        atoms.append(text[i : i + size])
        i += size
    parts: list[str] = []
    current, used = "", 0
    for atom in atoms:
        width = units(atom, enc)
        if used + width > multi:
            parts.append(current)
            current, used = "", 0
        current += atom
        used += width
    parts.append(current)
    return parts


def units(text: str, encoding: str) -> int:
    if encoding == GSM7:
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def assert_split_invariants(text: str) -> None:
    info = sms_info(text)
    parts = split_segments(text)
    assert "".join(parts) == text
    assert len(parts) == info.segments == segment_count(text)
    assert info.length == units(text, info.encoding)
    if not text:
        assert parts == [] and info == SmsInfo(GSM7, 0, 0)
        return
    assert all(parts)
    single, multi = (160, 153) if info.encoding == GSM7 else (70, 67)
    if len(parts) == 1:
        assert info.length <= single
    else:
        assert info.length > single
        assert all(units(p, info.encoding) <= multi for p in parts)
        # Greedy: a part only ends early when the next (one- or two-unit) character can't fit.
        for part, nxt in pairwise(parts):
            first_atom = nxt[:2] if HELD_PAIR_RE.match(nxt) else nxt[0]
            assert units(part, info.encoding) + units(first_atom, info.encoding) > multi
            assert not HELD_PAIR_RE.fullmatch(part[-1] + nxt[0])  # a pair is never split
    assert parts == reference_split(text)


def whitespace_cuts(text: str) -> list[int]:
    """Indices of whitespace characters that follow some non-whitespace text."""
    return [i for i in range(1, len(text)) if text[i].isspace() and text[:i].strip()]


def assert_trim_invariants(text: str, max_segments: int, hint: str) -> None:
    head, rest = trim_to_budget(text, max_segments, hint)

    def fits(s: str) -> bool:
        return sms_info(s).segments <= max_segments

    if rest is None:
        assert head in (text, text.rstrip())
        assert fits(head)
        assert head == text or not fits(text)
        return
    assert not fits(text)
    assert head.endswith(hint) and fits(head)
    body = head[: len(head) - len(hint)]
    assert body and rest and not rest[0].isspace()
    # body + (whitespace at the cut) + rest == text
    assert text.startswith(body) and text.endswith(rest)
    assert len(body) + len(rest) <= len(text)
    assert text[len(body) : len(text) - len(rest)].strip() == ""

    cuts = whitespace_cuts(text)
    if text[len(body)].isspace() and not body[-1].isspace():
        # cut at a word boundary, as late as the budget allows
        later = [i for i in cuts if len(text[:i].rstrip()) > len(body)]
        if later:
            assert not fits(text[: later[0]].rstrip() + hint)
    else:  # hard cut: only when no word boundary fits, and as late as possible
        if cuts:
            assert not fits(text[: cuts[0]].rstrip() + hint)
        next_atom = 2 if HELD_PAIR_RE.match(text, len(body)) else 1
        assert not fits(text[: len(body) + next_atom] + hint)
        assert not HELD_PAIR_RE.match(text, len(body) - 1)  # a held pair is never split


# -- alphabet -----------------------------------------------------------------------------------


def test_alphabet_tables() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points, minus 0x1B (escape)
    assert GSM7_EXTENSION == frozenset("^{}\\[~]|€\f")
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert all(ord(c) < 0x10000 for c in GSM7_BASIC | GSM7_EXTENSION)
    # Same tables as smsutil, apart from ESC (bug 2 above).
    assert set(GSM_BASIC_CHARSET) - {ESC} == GSM7_BASIC
    assert set(GSM_EXT_CHARSET) == GSM7_EXTENSION


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("", GSM7),
        ("Hello @ £5, see you at 10:30!", GSM7),
        ("Grüße aus Köln, ça va? Ñandú", UCS2),  # ç (lowercase) is not GSM-7; Ç is
        ("Ça va, Ørsted? ÆØÅ æøå ÄÖÑÜ äöñüà §¿¡", GSM7),
        ("ΔΦΓΛΩΠΨΣΘΞ", GSM7),
        ("price: 5€ ^ {x} [y] ~ | \\ \f", GSM7),
        ("tab\there", UCS2),
        ("no\u00a0break", UCS2),
        ("“smart quotes”", UCS2),
        ("em — dash", UCS2),
        ("你好", UCS2),
        ("ok 👍", UCS2),
        ("esc\x1b", UCS2),
    ],
)
def test_encoding_of(text: str, encoding: str) -> None:
    assert encoding_of(text) == encoding == sms_info(text).encoding


# -- boundaries ---------------------------------------------------------------------------------


def part_lengths(text: str) -> list[int]:
    return [units(p, encoding_of(text)) for p in split_segments(text)]


def test_empty_text() -> None:
    assert sms_info("") == SmsInfo(GSM7, 0, 0)
    assert segment_count("") == 0
    assert split_segments("") == []
    assert trim_to_budget("") == ("", None)


@pytest.mark.parametrize(
    "n, segments, parts",
    [
        (1, 1, [1]),
        (160, 1, [160]),
        (161, 2, [153, 8]),
        (306, 2, [153, 153]),
        (307, 3, [153, 153, 1]),
        (459, 3, [153, 153, 153]),
        (460, 4, [153, 153, 153, 1]),
    ],
)
def test_gsm7_lengths(n: int, segments: int, parts: list[int]) -> None:
    text = "a" * n
    assert sms_info(text) == SmsInfo(GSM7, segments, n)
    assert part_lengths(text) == parts


@pytest.mark.parametrize(
    "n, segments, parts",
    [
        (1, 1, [1]),
        (70, 1, [70]),
        (71, 2, [67, 4]),
        (134, 2, [67, 67]),
        (135, 3, [67, 67, 1]),
    ],
)
def test_ucs2_lengths(n: int, segments: int, parts: list[int]) -> None:
    text = "中" * n
    assert sms_info(text) == SmsInfo(UCS2, segments, n)
    assert part_lengths(text) == parts


def test_one_non_gsm_character_switches_the_whole_message_to_ucs2() -> None:
    assert sms_info("a" * 159 + "é") == SmsInfo(GSM7, 1, 160)  # é is GSM-7
    assert sms_info("a" * 69 + "á") == SmsInfo(UCS2, 1, 70)
    assert sms_info("a" * 70 + "á") == SmsInfo(UCS2, 2, 71)
    assert sms_info("a" * 159 + "á") == SmsInfo(UCS2, 3, 160)


@pytest.mark.parametrize("char", ["€", "^", "{", "}", "\\", "[", "~", "]", "|", "\f"])
def test_extension_characters_take_two_septets(char: str) -> None:
    assert sms_info(char) == SmsInfo(GSM7, 1, 2)
    assert sms_info(char * 80) == SmsInfo(GSM7, 1, 160)
    assert sms_info("a" + char * 80) == SmsInfo(GSM7, 2, 161)
    assert sms_info("a" * 159 + char) == SmsInfo(GSM7, 2, 161)


def test_euro_and_caret() -> None:
    assert sms_info("5€") == SmsInfo(GSM7, 1, 3)
    assert sms_info("2^10") == SmsInfo(GSM7, 1, 5)
    assert sms_info("€" * 76 + "^" * 5) == SmsInfo(GSM7, 2, 162)
    assert part_lengths("€" * 81) == [152, 10]  # 76 pairs, the 77th would need 154 septets


def test_extension_character_at_a_part_boundary_moves_to_the_next_part() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets: 2 parts by arithmetic, but 3 in fact
    assert sms_info(text) == SmsInfo(GSM7, 3, 306)
    parts = split_segments(text)
    assert parts == ["a" * 152, "€" + "a" * 151, "a"]
    assert part_lengths(text) == [152, 153, 1]
    # One septet earlier the pair fits exactly at the end of the first part.
    assert split_segments("a" * 151 + "€" + "a" * 10) == ["a" * 151 + "€", "a" * 10]


def test_emoji_at_a_ucs2_part_boundary_moves_to_the_next_part() -> None:
    text = "中" * 66 + "😀" + "中" * 66  # 134 code units: 2 parts by arithmetic, but 3 in fact
    assert sms_info(text) == SmsInfo(UCS2, 3, 134)
    assert split_segments(text) == ["中" * 66, "😀" + "中" * 65, "中"]
    assert split_segments("中" * 65 + "😀" + "中" * 5) == ["中" * 65 + "😀", "中" * 5]


def test_emoji_count_two_code_units() -> None:
    assert sms_info("😀") == SmsInfo(UCS2, 1, 2)
    assert sms_info("😀" * 35) == SmsInfo(UCS2, 1, 70)
    assert sms_info("😀" * 35 + "a") == SmsInfo(UCS2, 2, 71)
    assert part_lengths("😀" * 35 + "a") == [66, 5]
    assert sms_info("❤" * 70) == SmsInfo(UCS2, 1, 70)  # a BMP symbol is one code unit


def test_surrogate_pair_stored_as_two_code_points_is_not_split() -> None:
    pair = "\ud83d\ude00"  # a str can hold the two halves of 😀 as separate code points
    assert len(pair) == 2 and pair.encode("utf-16-le", "surrogatepass").decode("utf-16-le") == "😀"
    text = "中" * 66 + pair + "中" * 66
    assert sms_info(text) == SmsInfo(UCS2, 3, 134)
    assert split_segments(text) == ["中" * 66, pair + "中" * 65, "中"]
    # 70 code points fit, but the 70th is the first half of the pair: cut before the pair.
    head, rest = trim_to_budget("中" * 69 + pair + "中" * 10, 1, "")
    assert (head, rest) == ("中" * 69, pair + "中" * 10)


def test_lone_esc_is_not_gsm7() -> None:
    assert sms_info("a" + ESC) == SmsInfo(UCS2, 1, 2)


# -- smsutil, known bugs pinned -----------------------------------------------------------------


def test_smsutil_known_bug_empty_text() -> None:
    assert smsutil_view("") == (UCS2, 1, 0, [""])  # ours: GSM-7, 0 segments, no parts
    assert not assert_matches_smsutil("")


def test_smsutil_known_bug_splits_a_held_surrogate_pair() -> None:
    text = "中" * 66 + HELD_PAIR + "中" * 66
    assert smsutil_view(text)[3] == ["中" * 66 + HELD_PAIR[0], HELD_PAIR[1] + "中" * 66]
    assert split_segments(text) == ["中" * 66, HELD_PAIR + "中" * 65, "中"]  # ours
    assert not assert_matches_smsutil(text)


def test_smsutil_known_bug_esc_counted_as_gsm7() -> None:
    assert smsutil_view("a" + ESC)[:3] == (GSM7, 1, 2)  # ours: UCS-2, see test_lone_esc_is_not_gsm7
    assert not assert_matches_smsutil("a" + ESC)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 160,
        "a" * 161,
        "€" * 80,
        "€" * 81,
        "a" * 152 + "€" + "a" * 152,
        "中" * 70,
        "中" * 71,
        "中" * 66 + "😀" + "中" * 66,
        "😀" * 35 + "a",
    ],
)
def test_boundaries_match_smsutil(text: str) -> None:
    assert assert_matches_smsutil(text)


# -- generated texts ----------------------------------------------------------------------------


@st.composite
def mixed_texts(draw: st.DrawFn, max_size: int = 700) -> str:
    """Texts over a random mix of character classes, of any length up to max_size."""
    if draw(st.booleans()):
        names = draw(st.sets(st.sampled_from(GSM_CLASSES), min_size=1))
    else:
        names = draw(st.sets(st.sampled_from(sorted(CLASSES)), min_size=1))
    alphabet = st.one_of([st.sampled_from(CLASSES[name]) for name in sorted(names)])
    size = draw(st.integers(0, max_size))
    return draw(st.text(alphabet, min_size=size, max_size=size))


@st.composite
def gsm_with_intruder(draw: st.DrawFn, max_size: int = 700) -> str:
    """A GSM-7 text with one character that is not GSM-7 somewhere in it."""
    gsm = st.sampled_from(GSM_BASIC_CHARS + EXTENSION_CHARS + [" "] * 20)
    size = draw(st.integers(0, max_size - 1))
    text = draw(st.text(gsm, min_size=size, max_size=size))
    intruder = draw(st.sampled_from(LATIN1_NON_GSM + CJK + EMOJI + ["\t"]))
    at = draw(st.integers(0, len(text)))
    return text[:at] + intruder + text[at:]


texts = st.one_of(mixed_texts(), gsm_with_intruder())


@st.composite
def texts_with_held_pairs(draw: st.DrawFn, max_size: int = 400) -> str:
    """UCS-2 texts with surrogate pairs held as two code points, and stray halves."""
    token = st.sampled_from(["中", "a", " ", "😀", HELD_PAIR, HELD_PAIR, "\ud83d", "\ude00"])
    return "".join(draw(st.lists(token, max_size=max_size)))


GENERATED = settings(
    max_examples=1500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@GENERATED
@given(texts)
def test_generated_texts_match_smsutil(text: str) -> None:
    if assert_matches_smsutil(text):
        info = sms_info(text)
        parts = str(info.segments) if info.segments < 3 else "3+"
        event(f"compared with smsutil: {info.encoding}, {parts} segment(s)")
    else:
        event("not compared (known smsutil bug class)")
    assert_split_invariants(text)


@settings(GENERATED, max_examples=500)
@given(texts_with_held_pairs(), st.integers(1, 3))
def test_generated_held_surrogate_pairs_are_never_split(text: str, max_segments: int) -> None:
    assert_split_invariants(text)
    assert_trim_invariants(text, max_segments, HINT)


HINTS = [HINT, "", " MORE", "…", " ➡ MORE", " 😀 more", " [more]"]


@settings(GENERATED, max_examples=1000)
@given(texts, st.integers(1, 4), st.sampled_from(HINTS))
def test_generated_texts_trim_to_budget(text: str, max_segments: int, hint: str) -> None:
    assert_trim_invariants(text, max_segments, hint)


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        length = rng.randint(0, 700)
    else:  # near a single/multi-part boundary (in characters, so roughly in units too)
        boundary = rng.choice([67, 70, 76, 80, 134, 153, 160, 201, 306, 459, 612])
        length = max(0, boundary + rng.randint(-4, 4))
    roll = rng.random()
    if roll < 0.4:  # GSM-7 only
        names = list(GSM_CLASSES)
        weights = [rng.random(), rng.random() * 0.3, rng.random() * 0.3]
    else:
        names = sorted(CLASSES)
        weights = [rng.random() ** 3 for _ in names]  # often one class dominates
    pools = [CLASSES[n] for n in names]
    picks = rng.choices(range(len(pools)), weights=weights, k=length)
    return "".join(rng.choice(pools[i]) for i in picks)


RANDOM_TEXTS = 6000


def test_seeded_random_texts_match_smsutil() -> None:
    rng = random.Random(20240611)
    compared = 0
    seen = {GSM7: 0, UCS2: 0}
    multi = 0
    for _ in range(RANDOM_TEXTS):
        text = random_text(rng)
        if assert_matches_smsutil(text):
            compared += 1
            info = sms_info(text)
            seen[info.encoding] += 1
            multi += info.segments > 1
        assert_split_invariants(text)
    assert compared >= 5000
    assert min(seen.values()) >= 1500 and multi >= 2000  # both encodings, many split messages


def test_seeded_random_texts_trim_to_budget() -> None:
    rng = random.Random(7)
    for _ in range(1500):
        text = random_text(rng)
        assert_trim_invariants(text, rng.randint(1, 4), rng.choice(HINTS))


# -- trim_to_budget -----------------------------------------------------------------------------


def test_trim_returns_text_that_fits() -> None:
    assert trim_to_budget("Your order #123 has shipped.") == ("Your order #123 has shipped.", None)
    assert trim_to_budget("a" * 306) == ("a" * 306, None)
    assert trim_to_budget("a" * 160, 1) == ("a" * 160, None)


def test_trim_cuts_at_last_fitting_word_boundary() -> None:
    words = "lorem ipsum dolor sit amet " * 20
    head, rest = trim_to_budget(words, 2)
    assert head.endswith(HINT) and sms_info(head).segments == 2
    body = head[: -len(HINT)]
    assert len(body) <= 306 - len(HINT)
    assert words.startswith(body) and not body.endswith(" ")
    assert words[len(body)] == " " and rest == words[len(body) + 1 :]
    nxt = words.index(" ", len(body) + 1)
    assert sms_info(words[:nxt] + HINT).segments > 2  # the next word would not fit


def test_trim_hard_cut_without_whitespace() -> None:
    head, rest = trim_to_budget("x" * 400, 1)
    assert head == "x" * (160 - len(HINT)) + HINT
    assert rest == "x" * (400 - 160 + len(HINT))


def test_trim_hard_cut_never_splits_an_escape_pair() -> None:
    text = "x" * 146 + "€" * 10  # the hint (13 septets) leaves 147: one short of x*146 + €
    head, rest = trim_to_budget(text, 1)
    assert head == "x" * 146 + HINT and rest == "€" * 10
    assert sms_info(head) == SmsInfo(GSM7, 1, 159)


def test_trim_hard_cut_never_splits_an_emoji() -> None:
    text = "中" * 56 + "😀" * 20  # UCS-2: 70 - 13 = 57 units left for text, the emoji needs 2
    head, rest = trim_to_budget(text, 1)
    assert head == "中" * 56 + HINT and rest == "😀" * 20


def test_trim_accounts_for_a_hint_that_switches_to_ucs2() -> None:
    text = "word " * 100  # GSM-7, 500 septets
    head, rest = trim_to_budget(text, 2, more_hint=" ➡ MORE")
    assert sms_info(head).encoding == UCS2 and sms_info(head).segments <= 2
    assert len(head) <= 134
    assert rest is not None and text.startswith(head[: -len(" ➡ MORE")])


def test_trim_gsm_text_with_ucs2_hint_fits_one_segment() -> None:
    head, rest = trim_to_budget("a" * 200, 1, more_hint="…")
    assert head == "a" * 69 + "…" and rest == "a" * 131


def test_trim_only_whitespace_left_over() -> None:
    assert trim_to_budget("word" + " " * 400, 1) == ("word", None)


def test_trim_rest_has_leading_whitespace_stripped() -> None:
    text = "a" * 140 + " \n  " + "b" * 100
    head, rest = trim_to_budget(text, 1)
    assert head == "a" * 140 + HINT and rest == "b" * 100


def test_trim_leading_whitespace_only_falls_back_to_hard_cut() -> None:
    text = "   " + "x" * 400
    head, rest = trim_to_budget(text, 1)
    assert head == text[:147] + HINT and rest == text[147:]


def test_trim_cuts_at_non_ascii_whitespace() -> None:
    text = ("你好" * 20 + "\u3000") * 5  # ideographic space
    head, rest = trim_to_budget(text, 1, "")
    assert head == "你好" * 20 and rest == text[41:]


@pytest.mark.parametrize("max_segments", [0, -1])
def test_trim_rejects_a_non_positive_budget(max_segments: int) -> None:
    with pytest.raises(ValueError):
        trim_to_budget("hello", max_segments)


def test_trim_rejects_a_hint_that_leaves_no_room() -> None:
    with pytest.raises(ValueError):
        trim_to_budget("x" * 400, 1, more_hint="y" * 160)


def test_every_bmp_character_has_the_encoding_smsutil_gives_it() -> None:
    for code in range(0x10000):
        char = chr(code)
        if char == ESC or 0xD800 <= code <= 0xDFFF:  # smsutil bug 2; lone surrogates
            continue
        assert encoding_of(char) == smsutil_view(char)[0], hex(code)
